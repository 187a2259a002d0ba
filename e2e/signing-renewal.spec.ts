import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../shared/api/index.ts';
import { createPkcs12, describeCertificate, exportPrivateKeyPkcs8 } from '../shared/pki/index.ts';
import { expertEntry, hospital } from '../testkit/index.ts';
import { P12_PASSWORD } from '../integration/testing/region-harness.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

/**
 * A renewed signing certificate signs only once the directory lists it (peers and the hub accept nothing else): until
 * the clinic publishes it, Settings → Your certificates says the earlier one signs, and it switches by itself when the
 * workstation's directory shows the new entry.
 */
test('keeps signing with the earlier signing certificate until the clinic publishes the renewed one, and says which signs', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-expert-1'));
  await harness.setUpWorkstation(core, 'ws-expert-1', harness.expert);
  await expect
    .poll(async () => core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });
  await page.getByRole('button', { name: 'Settings' }).click();
  const panel = page.getByTestId('certificates-panel');
  const earlierSerial = describeCertificate(harness.expert.signing.certificate).serialNumber;
  await expect(panel.getByTestId('signing-in-use')).toHaveText(
    `Signing with the signing certificate serial ${earlierSerial}.`,
  );

  const renewed = await harness.region.practitioner(harness.expert.id);
  const renewedSerial = describeCertificate(renewed.signing.certificate).serialNumber;
  const dir = join(harness.dir, 'signing-renewal');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'dr-ahmed.signing.renewed.p12');
  writeFileSync(
    file,
    await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(renewed.signing.privateKey),
      certificate: renewed.signing.certificate,
      chain: [],
      password: P12_PASSWORD,
    }),
  );
  await panel.getByLabel('Certificate', { exact: true }).selectOption('signing');
  await panel.getByLabel('Renewed certificate (.p12)').setInputFiles(file);
  await panel.getByLabel('Password of the file').fill(P12_PASSWORD);
  await panel.getByRole('button', { name: 'Import a renewed certificate (.p12)' }).click();
  await expect(panel.getByTestId('renewal-done')).toHaveText(
    /^The renewed signing certificate is installed\. The earlier one keeps signing until the clinic publishes/,
  );
  await expect(panel.getByTestId('signing-in-use')).toContainText(
    `Signing with your earlier signing certificate (serial ${earlierSerial},`,
  );
  await expect(panel.getByTestId('signing-in-use')).toContainText(
    `The renewed certificate (serial ${renewedSerial}) takes over by itself once the clinic publishes it`,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/settings-signing-renewal-waiting.png`, fullPage: true });

  // The clinic publishes the entry with the renewed signing certificate: once the directory here shows it, it signs.
  await harness.publishFull('clinic-a', [
    hospital('clinic-a.nordby', 'Nordby Hospital'),
    ...expertEntry(
      { ...harness.expert, signing: renewed.signing },
      { organizationId: 'clinic-a.nordby', endpoints: ['ws-expert-1'], family: 'Ahmed', specialty: 'Cardiology' },
    ),
  ]);
  await expect(panel.getByTestId('signing-in-use')).toHaveText(
    `Signing with the signing certificate serial ${renewedSerial}.`,
    { timeout: 20_000 },
  );
});
