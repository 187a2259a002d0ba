import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import type { WorkstationCore } from '../main/node/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * The app lock through the UI, with the real core and the real keychain behind it: a workstation with a passphrase
 * opens locked after its core restarts, and a report is signed only with the passphrase entered again.
 */

const harness = regionForThisFile();
const PASSPHRASE = 'ward 7 night shift';

async function call<C extends CommandChannel>(
  core: WorkstationCore,
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const result = await core.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<C>;
}

test('after a restart of the core, a workstation with a passphrase opens on the lock screen', async ({
  openWorkstation,
}) => {
  const first = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(first.core, 'ws-applicant-1', harness.applicant);
  await first.page.getByRole('button', { name: 'Settings' }).click();
  await first.page.getByLabel('Passphrase (at least 8 characters)').fill(PASSPHRASE);
  await first.page.getByRole('button', { name: 'Save passphrase' }).click();
  await expect(first.page.getByLabel('Current passphrase')).toBeVisible();
  // Unlocked when it stops: the restart must not carry that over.
  await first.core.stop();

  const restarted = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  const page = restarted.page;
  await expect(page.getByRole('heading', { name: 'RTS Workstation is locked' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  expect(await restarted.core.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
  await page.screenshot({ path: `${SCREENSHOTS}/locked-after-restart.png` });
  await page.getByLabel('Passphrase').fill(PASSPHRASE);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});

test('signing a report asks for the lock passphrase again, and refuses a wrong one', async ({ openWorkstation }) => {
  test.setTimeout(120_000);
  const expert = await openWorkstation(harness.coreOptions('ws-expert-1'));
  const applicant = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  for (const [opened, endpointId, practitioner] of [
    [expert, 'ws-expert-1', harness.expert],
    [applicant, 'ws-applicant-1', harness.applicant],
  ] as const) {
    const setup = await call(opened.core, COMMANDS.getSetupState, undefined);
    if (!setup.identity?.ready || !setup.profile || !setup.hasBrokerPassword)
      await harness.setUpWorkstation(opened.core, endpointId, practitioner);
  }
  // The applicant's workstation may be locked from the test before; its passphrase is known.
  if ((await call(applicant.core, COMMANDS.getSetupState, undefined)).locked)
    await call(applicant.core, COMMANDS.unlock, { passphrase: PASSPHRASE });
  await expect
    .poll(
      async () => {
        const registered = await Promise.all(
          [expert, applicant].map(
            async (o) => (await call(o.core, COMMANDS.getSetupState, undefined)).registration.state,
          ),
        );
        const experts = (await call(applicant.core, COMMANDS.getDirectoryState, undefined)).experts;
        return registered.every((state) => state === 'accepted') && experts >= 2;
      },
      { message: 'both registered, directory mirrored', timeout: 30_000 },
    )
    .toBe(true);
  await call(expert.core, COMMANDS.setLockPassphrase, { passphrase: PASSPHRASE });

  const { caseId } = await call(applicant.core, COMMANDS.createConsult, {
    expertId: 'clinic-a.dr-ahmed',
    patient: { family: 'Nilsen', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
    priority: 'urgent',
    reason: 'Chest pain since 06:00, ST elevation in II, III, aVF.',
    question: 'Thrombolysis before transfer?',
  });
  const page = expert.page;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
  const row = page.locator(`[data-testid="inbox-row"][data-case-id="${caseId}"]`);
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.click();
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(page.getByTestId('case-status')).toHaveText('Accepted');
  await page.getByRole('button', { name: 'Write report' }).click();
  const editor = page.getByRole('region', { name: 'Write the report' });
  await editor.getByLabel('Conclusion and advice (required)').fill('Give tenecteplase now, then transfer for PCI.');
  await editor.getByRole('button', { name: 'Preview report' }).click();
  const preview = page.getByRole('region', { name: 'Preview: the report as it will be signed and sent' });
  await preview.getByRole('button', { name: 'Sign and send…' }).click();

  const confirm = preview.getByRole('alertdialog');
  const sign = confirm.getByRole('button', { name: 'Sign and send', exact: true });
  await expect(sign).toBeDisabled();
  // Behind the screen, the core refuses a signature without the passphrase, with a code of its own.
  expect(await expert.core.dispatch(COMMANDS.sendReport, { caseId, conclusion: 'x' })).toMatchObject({
    ok: false,
    error: { code: 'passphrase-required' },
  });
  await confirm.getByLabel('Your lock passphrase, to sign').fill('not the passphrase');
  await sign.click();
  await expect(preview.getByRole('alert')).toContainText('That passphrase is not correct.');
  await expect(page.getByTestId('case-status')).toHaveText('Accepted');
  await page.screenshot({ path: `${SCREENSHOTS}/sign-passphrase.png`, fullPage: true });
  await confirm.getByLabel('Your lock passphrase, to sign').fill(PASSPHRASE);
  await sign.click();
  await expect(page.getByRole('region', { name: 'Your report' })).toBeVisible();
  await expect(page.getByTestId('case-status')).toHaveText('Completed');
});
