import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { COMMANDS, type DirectoryState, type Result, type SetupState } from '../shared/api/index.ts';
import { trustWithCrlExpiringSoon } from './harness/expiring-crl.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Serious and critical axe findings on the page as it is (see accessibility.spec.ts). */
async function axeFindings(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * Warnings that prevent failure (issue #21 item 8), each above every screen and again where it matters, against the
 * real core. The renderer judges them by its own clock, which page.clock moves on: the certificates are really issued
 * to expire soon, the connection is really lost; only the days that pass are the page's.
 */
test("says where it matters that the user's certificates expire, and that sending fails once the signing one has", async ({
  openWorkstation,
  page,
}) => {
  await page.clock.install();
  const { core } = await openWorkstation(harness.coreOptions('ws-expert-1'));
  // Dr Ahmed's certificates as the region's CA issued them this time: signing for 10 days, encryption for 20.
  const id = harness.expert.id;
  await harness.setUpWorkstation(core, 'ws-expert-1', {
    id,
    signing: await harness.region.issue('practitioner-signing', id, { validityDays: 10 }),
    encryption: await harness.region.issue('practitioner-encryption', id, { validityDays: 20 }),
  });
  const nav = page.getByRole('navigation', { name: 'Main' });

  const banner = page.getByTestId('workstation-warnings');
  await expect(banner.locator('[data-warning="certificate-expiring"]')).toHaveText([
    /^Your signing certificate expires in 10 days\. It is valid until [A-Z][a-z]{2} \d{1,2}, \d{4}\. Renew it now in Settings → Your certificates/,
    /^Your encryption certificate expires in 20 days\./,
  ]);
  // Next to the certificates themselves, in Settings.
  await nav.getByRole('button', { name: 'Settings' }).click();
  const panel = page.getByTestId('certificates-panel');
  const here = panel.getByTestId('certificates-warnings');
  await expect(here.locator('[data-warning]')).toHaveText([
    /^Your signing certificate expires in 10 days\. It is valid until [A-Z][a-z]{2} \d{1,2}, \d{4}\. Renew it now below: the region's CA/,
    /^Your encryption certificate expires in 20 days\./,
  ]);
  await expect(panel.getByRole('table', { name: 'Your current certificates' })).toBeVisible();
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SCREENSHOTS}/warnings-certificates-expiring.png` });
  expect(await axeFindings(page)).toEqual([]);
  // Expiring is not yet a reason for the request form to warn: sending still works.
  await nav.getByRole('button', { name: 'New consultation' }).click();
  await expect(page.getByRole('heading', { name: 'New consultation' })).toBeVisible();
  await expect(page.getByTestId('compose-warnings')).toHaveCount(0);

  // Eleven days on, the signing certificate has run out: the request form says sending fails, and what to do.
  await page.clock.fastForward(11 * DAY);
  const compose = page.getByTestId('compose-warnings');
  await expect(compose.locator('[data-warning="certificate-expired"]')).toHaveText(
    "Sending will fail: your signing certificate has expired. A request cannot be signed, so it cannot be sent. Renew the certificate in Settings → Your certificates, or ask the region's administrator.",
  );
  await expect(banner.locator('[data-warning="certificate-expired"]')).toContainText(
    'Your signing certificate has expired. Since',
  );
  await page.screenshot({ path: `${SCREENSHOTS}/warnings-compose-signing-expired.png` });
  expect(await axeFindings(page)).toEqual([]);
  await nav.getByRole('button', { name: 'Settings' }).click();
  await expect(here.locator('[data-warning]')).toHaveText([
    /^Your signing certificate has expired\./,
    /^Your encryption certificate expires in 9 days\./,
  ]);
});

test('says, after a day without the region, that the directory may be out of date and that a request will wait', async ({
  openWorkstation,
  page,
}) => {
  await page.clock.install();
  const { core } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await expect
    .poll(async () => core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('button', { name: 'Directory' }).click();
  await expect(page.getByRole('listbox', { name: 'Experts' }).getByRole('option')).toHaveCount(2);
  await expect(page.getByTestId('directory-warnings')).toHaveCount(0);

  // The broker stops answering: the profile now names a port where nothing listens.
  const setup = (await core.dispatch(COMMANDS.getSetupState, undefined)) as Result<SetupState>;
  if (!setup.ok || !setup.value.profile) throw new Error('the workstation has no profile');
  const { vhost, endpointId } = setup.value.profile;
  expect(
    await core.dispatch(COMMANDS.setProfile, {
      profile: { hosts: [{ host: '127.0.0.1', port: 1 }], vhost, endpointId },
    }),
  ).toMatchObject({ ok: true });
  await expect(page.locator('.connection-badge')).not.toHaveAttribute('data-status', 'online');
  // The core's directory stays as of the moment the region was left, however often it tries the broker again.
  const asOf = async () => (await core.dispatch(COMMANDS.getDirectoryState, undefined)) as Result<DirectoryState>;
  const left = await asOf();
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(await asOf()).toMatchObject({ ok: true, value: { asOf: left.ok && left.value.asOf } });
  // The connection says the same moment, for a screen opened later (after an unlock) to count from.
  expect(await core.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({
    ok: true,
    value: { unreachableSince: left.ok && left.value.asOf },
  });
  // Nothing to warn of after a short blip.
  await expect(page.getByTestId('workstation-warnings')).toHaveCount(0);

  // A day and an hour later, still without the region.
  await page.clock.fastForward(DAY + HOUR);
  // The directory screen opened again asks the core afresh.
  await nav.getByRole('button', { name: 'Inbox' }).click();
  await nav.getByRole('button', { name: 'Directory' }).click();
  const banner = page.getByTestId('workstation-warnings');
  await expect(banner.locator('[data-warning="broker-unreachable"]')).toContainText(
    /^No connection to the region for 1 d 1 h\. Nothing is sent or received meanwhile .* that 127\.0\.0\.1:1 does not answer\./,
  );
  await expect(banner.locator('[data-warning="directory-stale"]')).toContainText(
    'The directory has not been brought up to date for over a day.',
  );
  // Beside the directory's search: the results may be out of date.
  const directory = page.getByTestId('directory-warnings');
  await expect(directory).toHaveText(
    /^These results may be out of date\. The directory has not been brought up to date for over a day\. It is as of [A-Z][a-z]{2} \d{1,2}, \d{4} \(1 d 1 h ago\): experts who joined since are missing/,
  );
  await expect(page.getByRole('region', { name: 'Find an expert' }).getByTestId('directory-warnings')).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/warnings-directory-stale.png` });
  expect(await axeFindings(page)).toEqual([]);

  // On the request form: a request sent now waits in the Outbox.
  await nav.getByRole('button', { name: 'New consultation' }).click();
  await expect(page.getByTestId('compose-warnings').locator('[data-warning="broker-unreachable"]')).toHaveText(
    /^No connection to the region for 1 d 1 h\. A request you send now waits in the Outbox and goes out by itself when the connection returns/,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/warnings-compose-offline.png` });
  expect(await axeFindings(page)).toEqual([]);
});

test("says above every screen and beside the user's certificates that the region's revocation list runs out", async ({
  openWorkstation,
  page,
}) => {
  const { core } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  // The region's CRL two days from its nextUpdate (a stale one is refused when trust is set up; see crl-banner.tsx).
  expect(await trustWithCrlExpiringSoon(core, harness)).toMatchObject({ ok: true });
  const nav = page.getByRole('navigation', { name: 'Main' });
  const banner = page.getByTestId('crl-banner');
  await expect(banner).toHaveText(
    /^Revocation list expiring\. The region's revocation list expires on [A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d [AP]M UTC; connect to the region to receive a new one, or ask the administrator\./,
  );
  await nav.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('certificates-panel').getByTestId('crl-banner')).toHaveAttribute(
    'data-state',
    'expiring',
  );
  await page.screenshot({ path: `${SCREENSHOTS}/warnings-crl-expiring.png` });
  expect(await axeFindings(page)).toEqual([]);
});
