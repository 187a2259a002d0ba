import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCmsError, type TrustConfig } from '../shared/cms/index.ts';
import { createCrl, pemToDer } from '../shared/pki/index.ts';
import { createTestRegion } from '../testkit/index.ts';
import {
  certificateKeyOf,
  createCachedCertificateValidator,
  createCertificateCache,
  trustKeyOf,
} from './certificate-cache.ts';

describe('a cached certificate validator (the workstation directory sync)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rts-certificate-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('forgets an acceptance when the trust changes: a certificate a new CRL revokes is refused at once', async () => {
    const region = await createTestRegion(dir);
    const anchors = [region.ca.certificate];
    let trust: TrustConfig = { anchors, crls: [await createCrl(region.ca)] };
    const validator = createCachedCertificateValidator(() => trust);
    const { certificate } = region.revoked;
    // Under a CRL that does not list it: accepted, and the verdict kept.
    await expect(validator()(certificate, 'signing', new Date())).resolves.toBeUndefined();
    await expect(validator()(certificate, 'signing', new Date())).resolves.toBeUndefined();

    trust = { anchors, crls: [pemToDer(readFileSync(region.files.crl, 'utf8'))] };
    const refusal = await validator()(certificate, 'signing', new Date()).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isCmsError(refusal) && refusal.code).toBe('cms-certificate-revoked');
  }, 30_000);

  it('keeps a verdict for its use only: a signing certificate accepted for signing is refused for encryption', async () => {
    const region = await createTestRegion(join(dir, 'uses'));
    const trust: TrustConfig = { anchors: [region.ca.certificate], crls: [await createCrl(region.ca)] };
    const validate = createCachedCertificateValidator(() => trust)();
    const { certificate } = (await region.practitioner('clinic-a.dr-use')).signing;
    await expect(validate(certificate, 'signing', new Date())).resolves.toBeUndefined();
    await expect(validate(certificate, 'encryption', new Date())).rejects.toMatchObject({
      code: 'cms-wrong-key-usage',
    });
  }, 30_000);

  it('keeps acceptances reached elsewhere (a payload validation worker) only under its own trust and dates', async () => {
    const region = await createTestRegion(join(dir, 'accept'));
    const anchors = [region.ca.certificate];
    const before: TrustConfig = { anchors, crls: [await createCrl(region.ca)] };
    const revoking: TrustConfig = { anchors, crls: [pemToDer(readFileSync(region.files.crl, 'utf8'))] };
    const { certificate } = region.revoked;
    const key = certificateKeyOf(certificate, 'signing');
    const now = Date.now();
    const cache = createCertificateCache(revoking);
    const revoked = { code: 'cms-certificate-revoked' };

    // Reached under the CRL before, which did not list it: not this cache's trust, so checked here and refused.
    await cache.accept({ trustKey: trustKeyOf(before), at: now, certificates: [{ key, notAfter: now + 3_600_000 }] });
    await expect(cache.check(certificate, 'signing', new Date())).resolves.toMatchObject(revoked);
    // Under this trust but past the certificate's notAfter: not kept either.
    await cache.accept({ trustKey: trustKeyOf(revoking), at: now, certificates: [{ key, notAfter: now - 1 }] });
    await expect(cache.check(certificate, 'signing', new Date())).resolves.toMatchObject(revoked);
    // Under this very trust the cache takes the worker's acceptance as its own (here against the CRL, to show it).
    await cache.accept({ trustKey: trustKeyOf(revoking), at: now, certificates: [{ key, notAfter: now + 3_600_000 }] });
    await expect(cache.check(certificate, 'signing', new Date())).resolves.toBeUndefined();
    await expect(cache.check(certificate, 'encryption', new Date())).resolves.toMatchObject({
      code: expect.any(String),
    });
    // A new trust forgets it.
    cache.useTrust({ anchors, crls: [...revoking.crls!] });
    await expect(cache.check(certificate, 'signing', new Date())).resolves.toMatchObject(revoked);
  }, 30_000);
});
