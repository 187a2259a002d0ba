import AxeBuilder from '@axe-core/playwright';
import { COMMANDS, type ComposeConsult } from '../shared/api/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * The expert's morning (issue #21 item 1): 50 mixed requests from the applicant dr-berg arrive through the real hub;
 * the inbox shows each patient, reason and colleague by name, orders them by urgency, filters, searches, and escalates
 * a STAT request not accepted within the expert's escalation time (one minute here; the expert core's clock is moved
 * on by that minute rather than waited for).
 */
const harness = regionForThisFile();

const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
const RANK: Readonly<Record<string, number>> = { STAT: 0, ASAP: 1, Urgent: 2, Routine: 3 };

test('an expert triages 50 requests by urgency and waiting time, by name, and sees an unaccepted STAT escalated', async ({
  openWorkstation,
}) => {
  test.setTimeout(150_000);
  let ahead = 0;
  const expert = await openWorkstation({ ...harness.coreOptions('ws-expert-1'), now: () => Date.now() + ahead });
  await harness.setUpWorkstation(expert.core, 'ws-expert-1', harness.expert);
  const applicant = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(applicant.core, 'ws-applicant-1', harness.applicant);
  expect(await expert.core.dispatch(COMMANDS.setUiPreferences, { escalateAfterMinutes: 1 })).toMatchObject({
    ok: true,
  });
  await expect
    .poll(async () => applicant.core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });

  const send = async (consult: Omit<ComposeConsult, 'expertId'>) =>
    expect(
      await applicant.core.dispatch(COMMANDS.createConsult, { expertId: harness.expert.id, ...consult }),
    ).toMatchObject({ ok: true });
  // The oldest: a STAT nobody accepts.
  await send({
    patient: { family: 'Hansen', given: ['Per'], gender: 'male', birthDate: '1950-02-03' },
    priority: 'stat',
    reason: 'Crushing chest pain\nsince 05:10, sweating',
  });
  for (let i = 1; i < 50; i++) {
    await send({
      patient: { family: `Pasient${i}`, given: ['Test'], gender: i % 2 ? 'female' : 'male', birthDate: '1970-06-15' },
      priority: PRIORITIES[i % 4]!,
      reason: i === 17 ? 'Syncope during exercise' : `Question number ${i}`,
    });
  }

  const { page } = expert;
  const inbox = page.getByRole('region', { name: 'Inbox' });
  await expect(inbox.getByRole('tab', { name: 'New 50' })).toHaveAttribute('aria-selected', 'true', {
    timeout: 60_000,
  });
  const rows = inbox.getByTestId('inbox-row');
  // Urgency first: the ranks of the rows on screen never go down.
  const ranks = async () =>
    Promise.all((await rows.all()).map(async (r) => RANK[(await r.locator('.badge').first().innerText()).trim()]!));
  await expect.poll(ranks).toEqual([...(await ranks())].sort((a, b) => a - b));
  expect((await ranks())[0]).toBe(0);
  // People by name: the applicant and her health centre, never the directory id.
  await expect(rows.first()).toContainText(/From Test Berg\s*Sørvik Health Centre/);
  await expect(rows.first()).not.toContainText(harness.applicant.id);
  const hansen = rows.filter({ hasText: 'Per Hansen' });
  await expect(hansen).toContainText('76 y M');
  await expect(hansen).toContainText('Crushing chest pain');
  await expect(hansen).not.toContainText('sweating');
  await expect(hansen).toContainText(/\d+ min\s*waits on you/);

  // Only STAT: 13 of 50 (the oldest and every fourth).
  await inbox.getByRole('combobox', { name: 'Urgency' }).selectOption('stat');
  await expect(rows.first()).toHaveAttribute('aria-setsize', '13');
  for (const row of await rows.all()) await expect(row).toContainText('STAT');
  await inbox.getByRole('combobox', { name: 'Urgency' }).selectOption('');

  // Waiting longest first: the oldest request leads.
  await inbox.getByRole('combobox', { name: 'Order' }).selectOption('waiting');
  await expect(rows.first()).toContainText('Per Hansen');
  await inbox.getByRole('combobox', { name: 'Order' }).selectOption('inbox');

  // Search past and present cases by patient, reason or colleague, keyboard first.
  const search = inbox.getByRole('searchbox', { name: 'Search cases' });
  await search.fill('syncope');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Test Pasient17');
  await search.fill('pasient2 test');
  // Pasient2 and Pasient20–29.
  await expect(rows.first()).toHaveAttribute('aria-setsize', '11');
  await search.fill('berg sørvik');
  await expect(rows.first()).toHaveAttribute('aria-setsize', '50');
  await search.fill('nobody-like-this');
  await expect(inbox.getByText('No cases match.')).toBeVisible();
  await search.fill('');

  // The STAT request not accepted within a minute is escalated: announced (the core looks every 30 s), marked, and first.
  const banner = page.getByTestId('escalation-banner');
  await expect(banner).toBeHidden();
  ahead = 60_000;
  await expect(banner).toBeVisible({ timeout: 40_000 });
  await expect(banner).toContainText('waited too long to be accepted');
  await expect(rows.first()).toContainText('Per Hansen');
  await expect(rows.first()).toHaveAttribute('data-escalated', '');
  await expect(rows.first()).toContainText('late');
  await page.screenshot({ path: `${SCREENSHOTS}/inbox-triage.png` });
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

  // Keyboard: from the search into the list, Enter opens the escalated case; accepted, it leaves the new requests.
  await search.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Consultation for Per Hansen' })).toBeVisible();
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(page.getByTestId('case-status')).toHaveText('Accepted');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
  await expect(inbox.getByRole('tab', { name: 'New 49' })).toBeVisible();
  await expect(rows.first()).not.toContainText('Per Hansen');
  await expect(rows.filter({ hasText: 'Per Hansen' })).toHaveCount(0);
});
