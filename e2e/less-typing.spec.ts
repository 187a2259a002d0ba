import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { COMMANDS, type ComposeConsult } from '../shared/api/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test, type HarnessCoreOptions, type OpenedWorkstation } from './harness/workstation-fixture.ts';

/**
 * Less typing, nothing lost (issue #21 item 6), through the UI against the real core, hub and broker: a request being
 * written is kept (encrypted) across navigation and a restart and is gone once sent; a new request starts from a
 * patient of the user's own cases; a redirected case goes on to the expert suggested with its content carried over;
 * a report being written comes back when its case is opened again.
 */
const harness = regionForThisFile();

const KARI: ComposeConsult['patient'] = {
  family: 'Nordmann',
  given: ['Kari'],
  gender: 'female',
  birthDate: '1957-03-01',
  identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '01035712345' }],
};

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name }).click();

/** A workstation opened and set up for its practitioner, with both experts of the region in its directory. */
async function openReady(
  openWorkstation: (options: HarnessCoreOptions) => Promise<OpenedWorkstation>,
  endpointId: 'ws-applicant-1' | 'ws-expert-1',
): Promise<OpenedWorkstation> {
  const opened = await openWorkstation(harness.coreOptions(endpointId));
  await harness.setUpWorkstation(
    opened.core,
    endpointId,
    endpointId === 'ws-expert-1' ? harness.expert : harness.applicant,
  );
  await expect
    .poll(async () => opened.core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });
  return opened;
}

async function expectAccessible(page: Page): Promise<void> {
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
}

test('a request being written survives navigation and a restart, starts from a patient seen before, and is gone once sent', async ({
  openWorkstation,
}) => {
  test.setTimeout(180_000);
  const first = await openReady(openWorkstation, 'ws-applicant-1');
  // A case about Kari sent earlier: the patient the new request starts from.
  expect(
    await first.core.dispatch(COMMANDS.createConsult, {
      expertId: harness.expert.id,
      patient: KARI,
      priority: 'urgent',
      reason: 'Chest pain',
    }),
  ).toMatchObject({ ok: true });

  let page = first.page;
  await nav(page, 'New consultation');
  await page.getByLabel('Family name').fill('Draftson');
  await page.getByLabel('Given names').fill('Ada');
  await page.getByLabel('Reason for the consultation (required)').fill('Kept across a restart');
  await expect(page.getByTestId('draft-state')).toContainText('Draft kept');

  // Away and back: the request is restored, and said to be.
  await nav(page, 'Inbox');
  await nav(page, 'New consultation');
  await expect(page.getByTestId('compose-beginning')).toContainText('Restored the request you had not sent');
  await expect(page.getByLabel('Family name')).toHaveValue('Draftson');
  await expect(page.getByLabel('Reason for the consultation (required)')).toHaveValue('Kept across a restart');

  // A restart of the core (the app closed and opened again): still there.
  await first.core.stop();
  const restarted = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  page = restarted.page;
  await nav(page, 'New consultation');
  await expect(page.getByLabel('Given names')).toHaveValue('Ada');
  await page.screenshot({ path: `${SCREENSHOTS}/compose-draft-restored.png`, fullPage: true });
  await expectAccessible(page);

  // Start over: the form is empty and the draft gone from the store.
  await page.getByRole('button', { name: 'Start over' }).click();
  await expect(page.getByLabel('Family name')).toHaveValue('');
  expect(await restarted.core.dispatch(COMMANDS.getDraft, { key: 'compose' })).toEqual({ ok: true, value: {} });

  // The patient from the user's own cases, by a word of the name.
  await page.getByLabel('Patient seen before').fill('nordm');
  await page.getByRole('button', { name: 'Use Kari Nordmann' }).click();
  await expect(page.getByLabel('Family name')).toHaveValue('Nordmann');
  await expect(page.getByLabel('Given names')).toHaveValue('Kari');
  await expect(page.getByLabel('Birth date')).toHaveValue('1957-03-01');
  await expect(page.getByLabel('National id (optional)')).toHaveValue('01035712345');
  await expect(page.getByLabel('Sex')).toHaveValue('female');
  await page.screenshot({ path: `${SCREENSHOTS}/compose-patient-seen.png`, fullPage: true });

  await page.getByLabel('Search the directory').fill('ahmed');
  await page.getByRole('button', { name: /^Choose Test Ahmed/ }).click();
  await page.getByLabel('Reason for the consultation (required)').fill('Follow-up after PCI');
  await expect(page.getByTestId('draft-state')).toContainText('Draft kept');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('case-screen')).toBeVisible();
  // Sent: no draft is kept.
  await expect
    .poll(async () => restarted.core.dispatch(COMMANDS.getDraft, { key: 'compose' }))
    .toEqual({ ok: true, value: {} });
  expect(await restarted.core.dispatch(COMMANDS.findPatients, { text: 'kari' })).toMatchObject({
    ok: true,
    value: [{ name: 'Kari Nordmann', birthDate: '1957-03-01', cases: 2 }],
  });
});

test('a redirected case goes on to the expert suggested with its content; a report being written comes back', async ({
  openWorkstation,
}) => {
  test.setTimeout(180_000);
  const expert = await openReady(openWorkstation, 'ws-expert-1');
  const applicant = await openReady(openWorkstation, 'ws-applicant-1');

  const letter = Buffer.from('Referral letter: Ola Sørvik, syncope on exertion.\n').toString('base64');
  const created = await applicant.core.dispatch(COMMANDS.createConsult, {
    expertId: harness.expert.id,
    patient: { family: 'Sørvik', given: ['Ola'], gender: 'male', birthDate: '1960-05-05' },
    priority: 'asap',
    reason: 'Syncope on exertion',
    question: 'Aortic stenosis?',
    vitals: [{ sign: 'heartRate', value: 48, effective: new Date(Date.now() - 600_000).toISOString() }],
    attachments: [{ title: 'referral.txt', contentType: 'text/plain', base64: letter, size: 51 }],
  });
  if (!created.ok) throw new Error(created.error.message);
  const { caseId } = created.value as { caseId: string };
  await expect
    .poll(async () => expert.core.dispatch(COMMANDS.openCase, { caseId }), { timeout: 30_000 })
    .toMatchObject({ ok: true });
  // The region of the test has one expert: she suggests herself, which routes the same way any expert would be.
  expect(
    await expert.core.dispatch(COMMANDS.actOnCase, {
      caseId,
      action: 'redirect',
      suggestedPractitioner: harness.expert.id,
      note: 'Cardiology valve clinic',
    }),
  ).toMatchObject({ ok: true });

  const page = applicant.page;
  const inbox = page.getByRole('region', { name: 'Inbox' });
  await inbox.getByRole('searchbox', { name: 'Search cases' }).fill('ola sørvik');
  const row = inbox.getByTestId('inbox-row').first();
  await expect(row).toContainText('Redirected', { timeout: 30_000 });
  await row.click();
  await page.getByRole('button', { name: `Send this request to ${harness.expert.id}` }).click();
  await expect(page.getByTestId('compose-beginning')).toContainText('filled in from the case about Ola Sørvik');
  await expect(page.getByLabel('Family name')).toHaveValue('Sørvik');
  await expect(page.getByLabel('Reason for the consultation (required)')).toHaveValue('Syncope on exertion');
  await expect(page.getByLabel('Question to the expert')).toHaveValue('Aortic stenosis?');
  await expect(page.getByRole('radio', { name: /ASAP/ })).toBeChecked();
  await expect(page.getByTestId('compose-summary')).toContainText('1 file');
  await expect(page.getByTestId('chosen-expert')).toContainText('Test Ahmed');
  await page.screenshot({ path: `${SCREENSHOTS}/compose-redirect.png`, fullPage: true });
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const screen = page.getByTestId('case-screen');
  await expect(screen).toBeVisible();
  const resent = await screen.getAttribute('data-case-id');
  expect(resent).not.toBe(caseId);
  // A click on the OS notification about the first case (the Electron shell sends this event) opens that case.
  await page.evaluate((id) => window.__rtsHarnessDeliver('app:open-requested', { caseId: id }), caseId);
  await expect(page.getByTestId('case-screen')).toHaveAttribute('data-case-id', caseId);
  await expect(page.getByTestId('case-status')).toHaveText('Redirected');

  // The expert receives the whole request again, file included, and begins her report.
  await expect
    .poll(async () => expert.core.dispatch(COMMANDS.openCase, { caseId: resent! }), { timeout: 30_000 })
    .toMatchObject({
      ok: true,
      value: { reason: 'Syncope on exertion', question: 'Aortic stenosis?', attachments: [{ title: 'referral.txt' }] },
    });
  expect(await expert.core.dispatch(COMMANDS.actOnCase, { caseId: resent!, action: 'accept' })).toMatchObject({
    ok: true,
  });
  const expertPage = expert.page;
  const expertInbox = expertPage.getByRole('region', { name: 'Inbox' });
  // The first request (redirected) and the one sent on: the accepted one is the new.
  await expertInbox.getByRole('searchbox', { name: 'Search cases' }).fill('syncope');
  const accepted = expertInbox.getByTestId('inbox-row').filter({ hasText: 'Accepted' });
  await accepted.click();
  await expertPage.getByRole('button', { name: 'Write report' }).click();
  await expertPage.getByLabel('Findings').fill('Harsh systolic murmur');
  await expect
    .poll(async () => expert.core.dispatch(COMMANDS.getDraft, { key: `report:${resent!}` }))
    .toMatchObject({ ok: true, value: { body: expect.stringContaining('Harsh systolic murmur') } });
  // Away and back: the editor opens again with what was written.
  await nav(expertPage, 'Inbox');
  await expertInbox.getByRole('searchbox', { name: 'Search cases' }).fill('syncope');
  await accepted.click();
  await expect(expertPage.getByLabel('Findings')).toHaveValue('Harsh systolic murmur');
  await expect(expertPage.getByTestId('report-draft-state')).toContainText('Restored the report you had begun');
});

test('a request waiting in the outbox can be withdrawn before it is sent, then edited and sent again', async ({
  openWorkstation,
}) => {
  test.setTimeout(120_000);
  const { core, page } = await openReady(openWorkstation, 'ws-applicant-1');
  // The region out of reach (the profile names a port where nothing listens): what is sent waits in the outbox.
  const setup = await core.dispatch(COMMANDS.getSetupState, undefined);
  const profile = setup.ok ? (setup.value as { profile?: { vhost: string; endpointId: string } }).profile : undefined;
  if (!profile) throw new Error('the workstation has no profile');
  expect(
    await core.dispatch(COMMANDS.setProfile, {
      profile: { hosts: [{ host: '127.0.0.1', port: 1 }], vhost: profile.vhost, endpointId: profile.endpointId },
    }),
  ).toMatchObject({ ok: true });
  const created = await core.dispatch(COMMANDS.createConsult, {
    expertId: harness.expert.id,
    patient: { family: 'Lie', given: ['Berit'], gender: 'female', birthDate: '1948-11-30' },
    priority: 'urgent',
    reason: 'Atrial fibrillation with rapid ventricular response',
  });
  if (!created.ok) throw new Error(created.error.message);
  const { caseId } = created.value as { caseId: string };

  await nav(page, 'Outbox');
  const waiting = page.getByTestId('outbox-waiting');
  await expect(waiting).toHaveCount(1);
  await expect(waiting).toContainText('Consultation request');
  await page.screenshot({ path: `${SCREENSHOTS}/outbox-waiting.png`, fullPage: true });
  await expectAccessible(page);
  // Besides the request, the workstation's own messages may wait too (e.g. its registration).
  const pendingBefore = await core.dispatch(COMMANDS.getOutboxState, undefined);
  if (!pendingBefore.ok) throw new Error(pendingBefore.error.message);
  const { pending } = pendingBefore.value as { pending: number };
  await waiting.getByRole('button', { name: 'Withdraw' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Withdrawn before it was sent' })).toBeVisible();
  await expect(waiting).toHaveCount(0);
  const outbox = await core.dispatch(COMMANDS.getOutboxState, undefined);
  expect(outbox).toMatchObject({ ok: true, value: { pending: pending - 1, waiting: [] } });
  expect(await core.dispatch(COMMANDS.openCase, { caseId })).toMatchObject({
    ok: true,
    value: { status: 'cancelled', messages: [{ state: 'failed', detail: 'withdrawn before it was sent' }] },
  });

  await page.getByRole('button', { name: 'Edit and send again' }).click();
  await expect(page.getByLabel('Family name')).toHaveValue('Lie');
  await expect(page.getByLabel('Reason for the consultation (required)')).toHaveValue(
    'Atrial fibrillation with rapid ventricular response',
  );
  await expect(page.getByRole('radio', { name: /Urgent/ })).toBeChecked();
});
