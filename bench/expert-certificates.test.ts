import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateBindingProblem } from '../shared-node/index.ts';
import { createTestRegion } from '../testkit/index.ts';
import { expertPractitioners } from './expert-certificates.ts';

describe('expert certificates for the directory benchmarks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rts-expert-certs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every expert certificates of its own, signed by the region CA and bound to its id', async () => {
    const region = await createTestRegion(dir);
    const ids = ['clinic-a.dr-000000', 'clinic-a.dr-000001', 'clinic-a.dr-000002'];
    const experts = await expertPractitioners(region, ids, 2);
    const ca = new X509Certificate(region.ca.certificate);
    const serials = new Set<string>();
    for (const [n, expert] of experts.entries()) {
      expect(expert.id).toBe(ids[n]);
      for (const use of ['signing', 'encryption'] as const) {
        const der = expert[use].certificate;
        const certificate = new X509Certificate(der);
        expect(certificate.subject).toContain(`CN=${ids[n]}`);
        expect(certificate.verify(ca.publicKey)).toBe(true);
        expect(certificateBindingProblem(der, use, ids[n]!)).toBeUndefined();
        serials.add(certificate.serialNumber);
      }
    }
    expect(serials.size).toBe(6);
    // Keys are shared round-robin: experts 0 and 2 sign with the same key.
    expect(experts[2]!.signing.privateKey).toBe(experts[0]!.signing.privateKey);
  }, 30_000);
});
