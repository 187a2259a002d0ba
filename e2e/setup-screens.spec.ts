import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../shared/api/index.ts';
import { createPkcs12, exportPrivateKeyPkcs8 } from '../shared/pki/index.ts';
import { endpointCredentials } from '../scripts/test-env/index.ts';
import { P12_PASSWORD } from '../integration/testing/region-harness.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

test('sets a workstation up from its first-run screen, explaining what it refuses', async ({ openWorkstation }) => {
  const { page } = await openWorkstation(harness.coreOptions('ws-expert-1'));
  const files = join(harness.dir, 'first-run');
  mkdirSync(files, { recursive: true });
  await expect(page.getByRole('heading', { name: 'Set up this workstation' })).toBeVisible();
  // Without an enrolment file: the step-by-step path, folded under the enrolment step.
  await page.getByText('Set up step by step (no enrolment file)').click();

  // A certificate that is not the hub's CA-issued one: the hub file is the CA itself, which the core refuses to take as the hub.
  await page.getByLabel('Regional CA certificate (PEM)').setInputFiles(harness.region.files.ca);
  await page.getByLabel('Hub certificate (PEM)').setInputFiles(harness.region.files.crl);
  await page.getByRole('button', { name: 'Check and save trust' }).click();
  await expect(page.getByRole('alert')).toContainText('hub certificate file must hold exactly one certificate');

  // Without the CA's CRL no certificate's revocation could be checked: refused, saying what to load.
  await page.getByLabel('Hub certificate (PEM)').setInputFiles(harness.region.files.hubCertificate);
  await page.getByRole('button', { name: 'Check and save trust' }).click();
  await expect(page.getByRole('alert')).toContainText("load the region's current CRL");
  await page.getByLabel('Revocation list (CRL, PEM)').setInputFiles(harness.region.files.crl);
  await page.getByRole('button', { name: 'Check and save trust' }).click();
  await expect(page.getByRole('table', { name: 'Trust' })).toContainText('Test Region Root CA');

  for (const use of ['signing', 'encryption'] as const) {
    const identity = harness.expert[use];
    const file = join(files, `dr-ahmed.${use}.p12`);
    writeFileSync(
      file,
      await createPkcs12({
        privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
        certificate: identity.certificate,
        chain: [],
        password: P12_PASSWORD,
      }),
    );
    await page.getByLabel('Certificate', { exact: true }).selectOption(use);
    await page.getByLabel('PKCS#12 file (.p12)').setInputFiles(file);
    if (use === 'signing') {
      await page.getByLabel('Password of the file').fill('not the password');
      await page.getByRole('button', { name: 'Import signing certificate' }).click();
      await expect(page.getByRole('alert')).toContainText('The certificate file cannot be read');
    }
    await page.getByLabel('Password of the file').fill(P12_PASSWORD);
    await page.getByRole('button', { name: `Import ${use} certificate` }).click();
    // Wait for this import before the next: its completion clears the password field.
    await expect(page.getByRole('table', { name: 'Your certificates' }).getByRole('row')).toHaveCount(
      use === 'signing' ? 2 : 3,
    );
  }
  await expect(page.getByRole('table', { name: 'Your certificates' }).getByRole('row')).toHaveCount(3);
  await expect(page.getByRole('table', { name: 'Your certificates' })).toContainText('Valid');

  await page
    .getByLabel('Broker hosts (host:port, comma separated)')
    .fill(`127.0.0.1:${harness.broker.rabbitmq!.nodes[0]!.amqpPort}`);
  await page.getByLabel('Virtual host').fill(harness.broker.rabbitmq!.vhost);
  await page.getByLabel('Endpoint id of this workstation').fill('ws-expert-1');
  await page.getByLabel(/^Broker password/).fill(endpointCredentials(harness.broker.rabbitmq!, 'ws-expert-1').password);
  await page.screenshot({ path: `${SCREENSHOTS}/first-run.png`, fullPage: true });
  await page.getByRole('button', { name: 'Save and connect' }).click();

  // Set up: the workspace opens, online, and the hub's directory arrives.
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(page.getByRole('status', { name: 'Broker connection: Online' })).toBeVisible();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByText('Registration with the hub: accepted.')).toBeVisible({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Check audit log' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Intact' })).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/settings.png`, fullPage: true });
});

test('locks with a passphrase and shows nothing until it is entered', async ({ openWorkstation }) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Passphrase (at least 8 characters)').fill('ward 7 night shift');
  await page.getByRole('button', { name: 'Save passphrase' }).click();
  await page.getByRole('button', { name: 'Lock now' }).click();
  await expect(page.getByRole('heading', { name: 'RTS Workstation is locked' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  expect(await core.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
  await page.getByLabel('Passphrase').fill('wrong');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toHaveText('That passphrase is not correct. 2 more tries before a wait.');
  await page.screenshot({ path: `${SCREENSHOTS}/locked.png` });
  await page.getByLabel('Passphrase').fill('ward 7 night shift');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});
