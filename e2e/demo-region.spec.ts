import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkDemoRegion, createMemoryVault, type DemoRegionProcess } from '../main/node/index.ts';
import { SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * The app as someone who just cloned the project sees it: with no region of its own it opens on the embedded demo
 * region (forked as the Electron shell forks it), labelled on every screen; a consult goes to the simulated expert and
 * comes back answered and verified, and the simulated applicant's requests arrive in the inbox. Settings lead to the
 * user's own region (the first-run screen, nothing of the demo) and back. The README's screenshot comes from here.
 */

const DEMO_MAIN = join(import.meta.dirname, '..', 'demo', 'main.ts');

// The demo region writes here until the fixture has stopped the workstation, which stops the region with it.
const regionDir = mkdtempSync(join(tmpdir(), 'rts-e2e-demo-'));
test.afterAll(() => rmSync(regionDir, { recursive: true, force: true }));

test('opens on a living demo region, and switches to the own region and back', async ({ openWorkstation }) => {
  test.setTimeout(300_000);
  const regions: DemoRegionProcess[] = [];
  const { page } = await openWorkstation({
    productName: 'RTS Workstation',
    version: 'e2e',
    vault: createMemoryVault(),
    openDemoRegion: async () => {
      const region = await forkDemoRegion({
        node: process.execPath,
        script: DEMO_MAIN,
        dataDir: join(regionDir, `region-${regions.length}`),
        applicantEverySeconds: 10,
      });
      regions.push(region);
      return region;
    },
  });
  const nav = page.getByRole('navigation', { name: 'Main' });
  const demoLabel = page.getByRole('note').filter({ hasText: 'Demo region' });
  await expect(nav).toBeVisible({ timeout: 90_000 });
  await expect(demoLabel).toBeVisible();

  // The directory of the demo region: the simulated expert among the generated ones.
  await nav.getByRole('button', { name: 'New consultation' }).click();
  await page.getByLabel('Search the directory').fill('lind cardiology');
  await page.getByRole('button', { name: /^Choose .*Lind/ }).click({ timeout: 60_000 });
  await page.getByLabel('Family name').fill('Solberg');
  await page.getByLabel('Given names').fill('Ingrid');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Birth date').fill('1954-09-30');
  await page
    .getByLabel('Reason for the consultation (required)')
    .fill('Irregular pulse since yesterday, 130/min, short of breath on stairs.');
  await page.getByLabel('Question to the expert').fill('Rate control here, or refer today?');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const status = page.getByTestId('case-status');
  await expect(status).toHaveText('Requested');
  await expect(demoLabel).toBeVisible();

  // The simulated expert accepts and answers; the report arrives verified.
  await expect(status).toHaveText('Completed', { timeout: 90_000 });
  const report = page.getByRole('region', { name: 'Report from the expert' });
  await expect(report.getByTestId('report-signature')).toContainText('Astrid Lind');
  await page.screenshot({ path: `${SCREENSHOTS}/demo-region-report.png` });

  // The simulated applicant's requests arrive in the inbox, and open decrypted.
  await nav.getByRole('button', { name: 'Inbox' }).click();
  const request = page.getByTestId('inbox-row').filter({ hasText: 'Jon Haugen' }).first();
  await expect(request).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/demo-region-inbox.png` });
  await request.click();
  await expect(page.getByTestId('case-role')).toContainText('Asked by Dr. Jon Haugen, Granmo Health Centre');
  await expect(page.getByTestId('patient-summary')).not.toBeEmpty();
  await page.screenshot({ path: `${SCREENSHOTS}/demo-region-request.png` });

  // Settings: to the user's own region, which is not set up and shows nothing of the demo.
  await nav.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Go to my own region' }).click();
  await expect(page.getByRole('heading', { name: 'Set up this workstation' })).toBeVisible({ timeout: 60_000 });
  await expect(demoLabel).toHaveCount(0);
  await expect(nav).toHaveCount(0);

  // And back to the demo region from the first-run screen: a new demo region, labelled again.
  await page.getByRole('button', { name: 'Open the demo region' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Opening the demo region' })).toBeVisible();
  await expect(nav).toBeVisible({ timeout: 90_000 });
  await expect(demoLabel).toBeVisible();
  expect(regions).toHaveLength(2);
});
