import { COMMANDS } from '../shared/api/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

test('shows who did what and when in Settings, a page at a time, and checks the sealed log', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await page.getByRole('button', { name: 'Settings' }).click();

  const table = page.getByRole('table', { name: 'Audit log entries' });
  await expect(table.getByRole('row').filter({ hasText: 'imported a certificate' })).toHaveCount(2);
  await expect(table.getByRole('row').filter({ hasText: 'registered the workstation' })).toContainText(
    'endpoint:ws-applicant-1',
  );
  await expect(table).toContainText('clinic-b.dr-berg');
  await expect(page.getByText('Showing the newest 3 of 3 entries.')).toBeVisible();

  await page.getByRole('button', { name: 'Check audit log' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Intact: 3 entries.' })).toBeVisible();
  await page.getByRole('region', { name: 'Audit log' }).screenshot({ path: `${SCREENSHOTS}/settings-audit-log.png` });

  // The command behind the viewer pages back from the newest entry.
  const first = await core.dispatch(COMMANDS.listAuditLog, { limit: 2 });
  expect(first).toMatchObject({
    ok: true,
    value: {
      total: 3,
      entries: [
        { seq: 3, action: 'registered' },
        { seq: 2, action: 'identity-imported' },
      ],
    },
  });
  expect(await core.dispatch(COMMANDS.listAuditLog, { limit: 2, beforeSeq: 2 })).toMatchObject({
    ok: true,
    value: { total: 3, entries: [{ seq: 1 }] },
  });
});
