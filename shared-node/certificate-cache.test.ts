import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCmsError, type TrustConfig } from '../shared/cms/index.ts';
import { createCrl, pemToDer } from '../shared/pki/index.ts';
import { createTestRegion } from '../testkit/index.ts';
import { createCachedCertificateValidator } from './certificate-cache.ts';

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
});
