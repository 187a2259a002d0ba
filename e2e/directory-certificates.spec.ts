import { readFileSync } from 'node:fs';
import { COMMANDS, type DirectoryState } from '../shared/api/index.ts';
import { createCrl, derToPem, describeCertificate, PEM_LABELS } from '../shared/pki/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

/**
 * The directory's experts are taken on arrival with their binding checked, and their certificates judged against the
 * region's CA and CRL in the background (protocol §5.1): the list marks an expert whose certificates fail, and the mark
 * follows the trust — a CRL revoking the expert's encryption certificate marks them at once, with the reason.
 */
test('marks an expert whose certificate the new CRL revokes, with the reason, once the background check has run', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  // Both experts listed, and both judged valid by the background check (no mark, nothing left unchecked).
  await expect
    .poll(
      async () => {
        const state = await core.dispatch(COMMANDS.getDirectoryState, undefined);
        const value = state.ok ? (state.value as DirectoryState) : undefined;
        return value && `${value.experts} experts, ${value.certificatesUnchecked ?? 0} unchecked`;
      },
      { timeout: 20_000 },
    )
    .toBe('2 experts, 0 unchecked');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  const list = page.getByRole('listbox', { name: 'Experts' });
  const ahmed = list.getByRole('option', { name: 'Test Ahmed' });
  await expect(list.getByRole('option')).toHaveCount(2);
  await expect(ahmed).toBeVisible();
  await expect(list.getByTestId('certificates-failed')).toHaveCount(0);
  await expect(list.getByTestId('certificates-unchecked')).toHaveCount(0);

  const revoked = await createCrl(harness.region.ca, {
    crlNumber: 5,
    revoked: [
      {
        serialNumber: describeCertificate(harness.expert.encryption.certificate).serialNumber,
        revocationDate: new Date(Date.now() - 60_000),
      },
    ],
  });
  expect(
    await core.dispatch(COMMANDS.setTrust, {
      anchorsPem: readFileSync(harness.region.files.ca, 'utf8'),
      crlsPem: derToPem(revoked, PEM_LABELS.crl),
      hubCertificatePem: readFileSync(harness.region.files.hubCertificate, 'utf8'),
    }),
  ).toMatchObject({ ok: true });

  const mark = ahmed.getByTestId('certificates-failed');
  await expect(mark).toHaveText('Certificates not valid', { timeout: 20_000 });
  await expect(mark).toHaveAttribute(
    'title',
    /^No request can be sent to this expert: encryption certificate: .*revoked/i,
  );
  await expect(list.getByRole('option', { name: 'Test Berg' }).getByTestId('certificates-failed')).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOTS}/directory-certificate-failed.png` });
});
