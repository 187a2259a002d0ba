import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, derToPem, PEM_LABELS, readCrl } from '../shared/pki/index.ts';
import { createCertificateCache } from '../shared-node/index.ts';
import { HubConfigError, loadHubConfig } from './hub-config.ts';
import { loadHubIdentity } from './hub-setup.ts';
import { createTestRegion, type TestRegion } from '../testkit/index.ts';

/** The hub's side of revocation and time (issue #16 item 5): its trust needs a current CRL, and cached verdicts age. */
const DAY = 24 * 3600_000;
let dir: string;
let region: TestRegion;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-hub-trust-'));
  region = await createTestRegion(join(dir, 'region'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(crlFiles: string[]): string {
  const file = join(dir, `hub-${crlFiles.length}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      broker: {
        hosts: [{ host: '127.0.0.1', port: 1 }],
        password: { env: 'PW' },
        management: { url: 'http://127.0.0.1:1', username: 'a', password: { env: 'PW' } },
      },
      database: { kind: 'embedded', path: 'data' },
      identity: { certificateFile: region.files.hubCertificate, privateKeyFile: region.files.hubKey },
      trust: { anchorFiles: [region.files.ca], crlFiles },
    }),
  );
  return file;
}

describe('hub trust', () => {
  it('refuses to start without a CRL of its anchor, or with one past its nextUpdate, saying what to load', async () => {
    await expect(loadHubIdentity(loadHubConfig(configWith([region.files.crl])))).resolves.toMatchObject({
      trust: { crls: [expect.any(Uint8Array)] },
    });
    const missing = loadHubIdentity(loadHubConfig(configWith([])));
    await expect(missing).rejects.toBeInstanceOf(HubConfigError);
    await expect(missing).rejects.toThrow(
      /hub configuration trust: No revocation list \(CRL\) of .*Test Region Root CA.*: load the region's current CRL \(a PEM file in trust\.crlFiles\)/,
    );
    const staleFile = join(dir, 'stale.crl.pem');
    writeFileSync(
      staleFile,
      derToPem(
        await createCrl(region.ca, { thisUpdate: new Date(Date.now() - 120 * DAY), validityDays: 30 }),
        PEM_LABELS.crl,
      ),
    );
    await expect(loadHubIdentity(loadHubConfig(configWith([staleFile])))).rejects.toThrow(
      /out of date .*: load the region's current CRL/,
    );
  });

  it("checks directory certificates against a current CRL, and never keeps an acceptance past the certificate's notAfter or the CRL's nextUpdate", async () => {
    const practitioner = await region.practitioner('clinic-a.dr-cache');
    const crl = await createCrl(region.ca);
    const nextUpdate = readCrl(crl).nextUpdate!.getTime();
    const cache = createCertificateCache({ anchors: [region.ca.certificate], crls: [crl] });
    expect(await cache.check(practitioner.signing.certificate, 'signing', new Date())).toBeUndefined();
    // Accepted minutes before its CRL's nextUpdate: after it (and the grace) the stale CRL is said, not the old verdict.
    expect(
      await cache.check(practitioner.signing.certificate, 'signing', new Date(nextUpdate - 60_000)),
    ).toBeUndefined();
    expect(
      await cache.check(practitioner.signing.certificate, 'signing', new Date(nextUpdate + 6 * 60_000)),
    ).toMatchObject({ code: 'cms-crl-expired' });

    // A certificate valid for one more day: accepted an hour before it ends, expired an hour after, in one cache.
    const shortLived = await region.issue('practitioner-signing', 'clinic-a.dr-short', {
      notBefore: new Date(Date.now() - DAY),
      validityDays: 2,
    });
    const longCrl = await createCrl(region.ca, { validityDays: 365 });
    const longCache = createCertificateCache(
      { anchors: [region.ca.certificate], crls: [longCrl] },
      { ttlMs: 10 * DAY },
    );
    const end = Date.now() + DAY;
    expect(await longCache.check(shortLived.certificate, 'signing', new Date(end - 3600_000))).toBeUndefined();
    expect(await longCache.check(shortLived.certificate, 'signing', new Date(end + 3600_000))).toMatchObject({
      code: 'cms-certificate-expired',
    });

    expect(
      await createCertificateCache({ anchors: [region.ca.certificate] }).check(
        practitioner.signing.certificate,
        'signing',
        new Date(),
      ),
    ).toMatchObject({ code: 'cms-crl-missing' });
  });
});
