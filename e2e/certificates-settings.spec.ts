import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../shared/api/index.ts';
import { createPkcs12, describeCertificate, exportPrivateKeyPkcs8 } from '../shared/pki/index.ts';
import { P12_PASSWORD } from '../integration/testing/region-harness.ts';
import { trustWithCrlExpiringSoon } from './harness/expiring-crl.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

/**
 * Issue #17 item 2b in the UI: Settings → Your certificates. A renewed encryption certificate imported from a .p12
 * becomes current and the earlier one is counted as kept for older cases; a CRL near its nextUpdate is announced with
 * what to do.
 */
test('imports a renewed encryption certificate in Settings and counts the earlier one; warns of an expiring CRL', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-expert-1'));
  await harness.setUpWorkstation(core, 'ws-expert-1', harness.expert);
  await page.getByRole('button', { name: 'Settings' }).click();
  const panel = page.getByTestId('certificates-panel');
  await expect(panel.getByTestId('earlier-certificates')).toHaveText(/No earlier encryption certificates/);
  await expect(panel.getByRole('table', { name: 'Your current certificates' }).getByRole('row')).toHaveCount(3);

  // The CA renews the practitioner's encryption certificate with a new key.
  const renewed = await harness.region.practitioner(harness.expert.id);
  const dir = join(harness.dir, 'renewal');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'dr-ahmed.encryption.renewed.p12');
  writeFileSync(
    file,
    await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(renewed.encryption.privateKey),
      certificate: renewed.encryption.certificate,
      chain: [],
      password: P12_PASSWORD,
    }),
  );
  await panel.getByLabel('Certificate', { exact: true }).selectOption('encryption');
  await panel.getByLabel('Renewed certificate (.p12)').setInputFiles(file);
  await panel.getByLabel('Password of the file').fill(P12_PASSWORD);
  await panel.getByRole('button', { name: 'Import a renewed certificate (.p12)' }).click();
  await expect(panel.getByTestId('renewal-done')).toHaveText('The renewed encryption certificate is in use.');
  await expect(panel.getByTestId('earlier-certificates')).toHaveText(
    /^1 earlier encryption certificate is kept, with its key, so that cases sent before a renewal stay readable\.$/,
  );
  expect(await core.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
    ok: true,
    value: {
      identity: {
        certificates: [
          { use: 'signing' },
          { use: 'encryption', serialNumber: describeCertificate(renewed.encryption.certificate).serialNumber },
        ],
      },
    },
  });

  // Another practitioner's .p12 is refused, in the core's words.
  const other = await harness.region.practitioner('clinic-a.dr-lima');
  const otherFile = join(dir, 'dr-lima.encryption.p12');
  writeFileSync(
    otherFile,
    await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(other.encryption.privateKey),
      certificate: other.encryption.certificate,
      chain: [],
      password: P12_PASSWORD,
    }),
  );
  await panel.getByLabel('Renewed certificate (.p12)').setInputFiles(otherFile);
  await panel.getByLabel('Password of the file').fill(P12_PASSWORD);
  await panel.getByRole('button', { name: 'Import a renewed certificate (.p12)' }).click();
  await expect(panel.getByRole('alert')).toContainText('a renewed certificate must name the same practitioner');
  await expect(panel.getByTestId('earlier-certificates')).toHaveText(/^1 earlier encryption certificate is kept/);
  await page.screenshot({ path: `${SCREENSHOTS}/settings-certificates.png`, fullPage: true });

  // A CRL two days from its nextUpdate: the app frame says when it expires and what to do.
  expect(await trustWithCrlExpiringSoon(core, harness)).toMatchObject({ ok: true });
  const banners = page.getByTestId('crl-banner');
  await expect(banners.first()).toContainText(
    /The region's revocation list expires on [A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d [AP]M UTC; connect to the region to receive a new one, or ask the administrator\./,
  );
  await expect(banners).toHaveCount(2);
});
