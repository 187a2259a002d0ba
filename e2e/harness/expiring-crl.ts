import { readFileSync } from 'node:fs';
import { COMMANDS, type Result } from '../../shared/api/index.ts';
import { createCrl, derToPem, PEM_LABELS } from '../../shared/pki/index.ts';
import type { RegionHarness } from '../../integration/testing/region-harness.ts';
import type { WorkstationCore } from '../../main/node/index.ts';

const DAY = 24 * 3600_000;

/**
 * Gives the workstation the region's trust with a CRL two days from its nextUpdate: the nearest to stale the core
 * takes (a CRL past its nextUpdate is refused when trust is set up).
 */
export async function trustWithCrlExpiringSoon(
  core: WorkstationCore,
  harness: RegionHarness,
): Promise<Result<unknown>> {
  const expiring = await createCrl(harness.region.ca, {
    crlNumber: 2,
    thisUpdate: new Date(Date.now() - 28 * DAY),
    validityDays: 30,
  });
  return core.dispatch(COMMANDS.setTrust, {
    anchorsPem: readFileSync(harness.region.files.ca, 'utf8'),
    crlsPem: derToPem(expiring, PEM_LABELS.crl),
    hubCertificatePem: readFileSync(harness.region.files.hubCertificate, 'utf8'),
  });
}
