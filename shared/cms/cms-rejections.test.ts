import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestPki, runOpenssl, type LeafName, type TestPki } from '../../scripts/test-env/index.ts';
import {
  checkTrustRevocation,
  CMS_ERROR_CODES,
  CmsError,
  createCertificateValidator,
  decrypt,
  encrypt,
  importDecryptionKey,
  importSigningKey,
  inspect,
  open,
  seal,
  sign,
  verify,
  withheldFailure,
  type CmsErrorCode,
  type CmsRecipientIdentity,
  type CmsSigner,
  type TrustConfig,
} from './index.ts';

/** Every rejection class, each asserting its exact error code. */

let pki: TestPki;
let work: string;
let trust: TrustConfig;
let rsaIdentity: CmsRecipientIdentity;
let ecIdentity: CmsRecipientIdentity;
const content = new TextEncoder().encode('{"resourceType":"Bundle","type":"message"} -- CONTENT-MARKER --');

async function signerFor(name: LeafName, chain: Uint8Array[] = [pki.intermediate.certificate]): Promise<CmsSigner> {
  const leaf = pki.leaves[name];
  return {
    certificate: leaf.certificate,
    privateKey: await importSigningKey(leaf.privateKey, leaf.certificate),
    chain,
  };
}

async function identityFor(name: LeafName): Promise<CmsRecipientIdentity> {
  const leaf = pki.leaves[name];
  return { certificate: leaf.certificate, privateKey: await importDecryptionKey(leaf.privateKey, leaf.certificate) };
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: CmsErrorCode): Promise<CmsError> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CmsError);
  const error = caught as CmsError;
  expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.any(String) });
  expect(error.message).not.toContain('CONTENT-MARKER');
  return error;
}

/** The leaf with one extension's value replaced by an INTEGER, re-signed by the intermediate CA (EC P-256). */
async function withUnreadableExtension(name: LeafName, extnID: string): Promise<Uint8Array> {
  const certificate = pkijs.Certificate.fromBER(pki.leaves[name].certificate);
  const garbage = new asn1js.Integer({ value: 1 }).toBER();
  certificate.extensions = certificate.extensions?.map((e) =>
    e.extnID === extnID ? new pkijs.Extension({ extnID, critical: e.critical, extnValue: garbage }) : e,
  );
  const caKey = await crypto.subtle.importKey(
    'pkcs8',
    pki.intermediate.privateKey,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  await certificate.sign(caKey, 'SHA-256');
  return new Uint8Array(certificate.toSchema(true).toBER());
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}

function flipped(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

/** `openssl cms -sign` + optional `-encrypt`; returns the DER. */
function opensslMessage(signArgs: string[], encryptArgs?: string[]): Uint8Array {
  const contentPath = join(work, 'content.bin');
  const signedPath = join(work, 'signed.der');
  const envelopePath = join(work, 'envelope.der');
  writeFileSync(contentPath, content);
  const signer = pki.leaves.ecSigner;
  runOpenssl([
    'cms',
    '-sign',
    '-binary',
    '-nodetach',
    '-nosmimecap',
    '-in',
    contentPath,
    '-signer',
    signer.certPath,
    '-inkey',
    signer.keyPath,
    '-certfile',
    pki.intermediate.certPath,
    '-outform',
    'DER',
    '-out',
    signedPath,
    ...signArgs,
  ]);
  if (!encryptArgs) return new Uint8Array(readFileSync(signedPath));
  runOpenssl([
    'cms',
    '-encrypt',
    '-binary',
    '-in',
    signedPath,
    '-outform',
    'DER',
    '-out',
    envelopePath,
    ...encryptArgs,
  ]);
  return new Uint8Array(readFileSync(envelopePath));
}

beforeAll(async () => {
  pki = createTestPki();
  work = join(pki.dir, 'rejections');
  mkdirSync(work);
  trust = { anchors: [pki.root.certificate], crls: [pki.rootCrl, pki.intermediateCrl] };
  rsaIdentity = await identityFor('rsaRecipient');
  ecIdentity = await identityFor('ecRecipient');
}, 60_000);

afterAll(() => pki?.remove());

describe('damaged and foreign input', () => {
  it('rejects a GCM ciphertext with one bit changed', async () => {
    const envelope = await encrypt(content, [pki.leaves.rsaRecipient.certificate]);
    // The ciphertext ends just before the 18-byte mac OCTET STRING.
    await expectCode(
      decrypt(flipped(envelope, envelope.byteLength - 18 - 5), rsaIdentity),
      CMS_ERROR_CODES.decryptFailed,
    );
  });

  it('rejects a changed GCM tag', async () => {
    const envelope = await encrypt(content, [pki.leaves.ecRecipient.certificate]);
    await expectCode(decrypt(flipped(envelope, envelope.byteLength - 1), ecIdentity), CMS_ERROR_CODES.decryptFailed);
  });

  it('rejects a signer certificate whose EC key is no point on P-256 as cms-malformed, not with a Web Crypto exception (found by fuzzing)', async () => {
    const signed = await sign(content, await signerFor('ecSigner'));
    const point = pkijs.Certificate.fromBER(pki.leaves.ecSigner.certificate).subjectPublicKeyInfo.subjectPublicKey
      .valueBlock.valueHexView;
    const at = indexOf(signed, point);
    expect(at).toBeGreaterThan(0);
    await expectCode(verify(flipped(signed, at + 10), trust), CMS_ERROR_CODES.malformed);
  });

  it('rejects a signing-time attribute with no value as cms-malformed, in verify and inspect (found by fuzzing)', async () => {
    const info = pkijs.ContentInfo.fromBER(await sign(content, await signerFor('ecSigner')));
    const signedData = new pkijs.SignedData({ schema: info.content });
    const attributes = signedData.signerInfos[0]!.signedAttrs!.attributes;
    const at = attributes.findIndex((a) => a.type === '1.2.840.113549.1.9.5');
    expect(at).toBeGreaterThanOrEqual(0);
    // An empty SET: pkijs then leaves the attribute's values undefined.
    attributes[at] = new pkijs.Attribute({ type: '1.2.840.113549.1.9.5', values: [] });
    const damaged = new Uint8Array(
      new pkijs.ContentInfo({ contentType: info.contentType, content: signedData.toSchema(true) }).toSchema().toBER(),
    );
    await expectCode(verify(damaged, trust), CMS_ERROR_CODES.malformed);
    expect(inspect(damaged)).toMatchObject({ contentType: 'signedData' });
  });

  it('rejects signed content changed after signing', async () => {
    const signed = await sign(content, await signerFor('ecSigner'));
    const at = indexOf(signed, new TextEncoder().encode('CONTENT-MARKER'));
    expect(at).toBeGreaterThan(0);
    await expectCode(verify(flipped(signed, at), trust), CMS_ERROR_CODES.badSignature);
  });

  it('rejects a changed signature value', async () => {
    const signed = await sign(content, await signerFor('rsaSigner'));
    // The RSA signature is the last 256 bytes of the message.
    await expectCode(verify(flipped(signed, signed.byteLength - 10), trust), CMS_ERROR_CODES.badSignature);
  });

  it('rejects truncated DER everywhere', async () => {
    const envelope = await seal(content, await signerFor('ecSigner'), [pki.leaves.rsaRecipient.certificate]);
    const truncated = envelope.subarray(0, envelope.byteLength - 100);
    await expectCode(decrypt(truncated, rsaIdentity), CMS_ERROR_CODES.malformed);
    await expectCode(open(truncated, rsaIdentity, trust), CMS_ERROR_CODES.malformed);
    await expectCode(verify(truncated, trust), CMS_ERROR_CODES.malformed);
    await expectCode(() => inspect(truncated), CMS_ERROR_CODES.malformed);
  });

  it('rejects garbage bytes', async () => {
    const garbage = new Uint8Array(Buffer.from('this is not a CMS message at all, just text'));
    await expectCode(decrypt(garbage, rsaIdentity), CMS_ERROR_CODES.malformed);
    await expectCode(verify(garbage, trust), CMS_ERROR_CODES.malformed);
    await expectCode(verify(new Uint8Array(0), trust), CMS_ERROR_CODES.malformed);
    await expectCode(() => inspect(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), CMS_ERROR_CODES.malformed);
  });

  it('rejects the wrong content type', async () => {
    const signed = await sign(content, await signerFor('ecSigner'));
    const envelope = await encrypt(content, [pki.leaves.rsaRecipient.certificate]);
    await expectCode(decrypt(signed, rsaIdentity), CMS_ERROR_CODES.malformed);
    await expectCode(verify(envelope, trust), CMS_ERROR_CODES.malformed);
    // open() of an envelope whose content is not a SignedData: past the unwrap, the one opening failure (the cause says why)
    const failure = await expectCode(open(envelope, rsaIdentity, trust), CMS_ERROR_CODES.decryptFailed);
    expect(withheldFailure(failure)).toMatchObject({ code: CMS_ERROR_CODES.malformed });
  });

  it('rejects messages above maxBytes before parsing them', async () => {
    const big = new Uint8Array(200_000);
    const envelope = await seal(big, await signerFor('ecSigner'), [pki.leaves.ecRecipient.certificate]);
    await expectCode(decrypt(envelope, ecIdentity, { maxBytes: 100_000 }), CMS_ERROR_CODES.tooLarge);
    await expectCode(open(envelope, ecIdentity, trust, { maxBytes: 100_000 }), CMS_ERROR_CODES.tooLarge);
    await expectCode(
      verify(await sign(big, await signerFor('ecSigner')), trust, { maxBytes: 100_000 }),
      CMS_ERROR_CODES.tooLarge,
    );
    await expect(open(envelope, ecIdentity, trust, { maxBytes: 300_000 })).resolves.toMatchObject({ content: big });
  });

  it('rejects a declared length beyond maxBytes inside a small message', async () => {
    // SEQUENCE with a 4-byte length of 64 MiB, then nothing: the limit is hit before the truncation.
    const lying = Uint8Array.of(0x30, 0x84, 0x04, 0x00, 0x00, 0x00, 0x06, 0x09);
    await expectCode(verify(lying, trust, { maxBytes: 1024 * 1024 }), CMS_ERROR_CODES.tooLarge);
  });
});

describe('recipients', () => {
  it('rejects a message for somebody else', async () => {
    const envelope = await encrypt(content, [pki.leaves.rsaRecipient.certificate, pki.leaves.ecRecipient2.certificate]);
    await expectCode(decrypt(envelope, ecIdentity), CMS_ERROR_CODES.notARecipient);
  });

  it('fails to decrypt with a key that is not the certificate holder', async () => {
    const envelope = await encrypt(content, [pki.leaves.ecRecipient.certificate]);
    const otherKey = await importDecryptionKey(pki.leaves.ecRecipient2.privateKey, pki.leaves.ecRecipient2.certificate);
    await expectCode(
      decrypt(envelope, { certificate: pki.leaves.ecRecipient.certificate, privateKey: otherKey }),
      CMS_ERROR_CODES.decryptFailed,
    );
  });

  it('refuses to encrypt to certificates without keyEncipherment / keyAgreement', async () => {
    await expectCode(encrypt(content, [pki.leaves.ecSigner.certificate]), CMS_ERROR_CODES.wrongKeyUsage);
    await expectCode(
      encrypt(content, [pki.leaves.rsaRecipient.certificate, pki.leaves.rsaSigner.certificate]),
      CMS_ERROR_CODES.wrongKeyUsage,
    );
  });

  it('seal reports a bad signer before a bad recipient list, though it prepares the envelope while it signs', async () => {
    const unreadable = { ...(await signerFor('ecSigner')), certificate: new Uint8Array([0x30, 0x03, 0x02, 0x01]) };
    const wrongUsage = [pki.leaves.ecSigner.certificate];
    await expectCode(seal(content, unreadable, wrongUsage), CMS_ERROR_CODES.malformed);
    await expectCode(seal(content, await signerFor('ecSigner'), wrongUsage), CMS_ERROR_CODES.wrongKeyUsage);
    await expectCode(seal(content, await signerFor('ecSigner'), []), CMS_ERROR_CODES.notARecipient);
  });

  it('refuses an envelope without recipients and unknown content encryption', async () => {
    await expectCode(encrypt(content, []), CMS_ERROR_CODES.notARecipient);
    await expectCode(
      encrypt(content, [pki.leaves.ecRecipient.certificate], { contentEncryption: 'des-cbc' as never }),
      CMS_ERROR_CODES.unsupportedAlgorithm,
    );
  });
});

describe('signer certificate at the signing time', () => {
  it('rejects an expired certificate', async () => {
    const error = await expectCode(
      verify(await sign(content, await signerFor('expired')), trust),
      CMS_ERROR_CODES.certificateExpired,
    );
    expect(error.message).toContain('clinic-c.dr-expired');
  });

  it('rejects a certificate not yet valid', async () => {
    await expectCode(
      verify(await sign(content, await signerFor('notYetValid')), trust),
      CMS_ERROR_CODES.certificateNotYetValid,
    );
  });

  it('judges validity at the signing time, not now', async () => {
    // The signer certificate became valid a day ago; a signature claiming to be older predates it.
    const signed = await sign(content, await signerFor('ecSigner'), {
      signingTime: new Date(Date.now() - 3 * 24 * 3600_000),
    });
    await expectCode(verify(signed, trust), CMS_ERROR_CODES.certificateNotYetValid);
    // ...and the expired certificate was fine when it signed, two years minus a day ago.
    const old = await sign(content, await signerFor('expired'), {
      signingTime: new Date(Date.now() - 500 * 24 * 3600_000),
    });
    await expect(verify(old, trust)).resolves.toMatchObject({
      signer: { subject: 'CN=clinic-c.dr-expired,O=Clinic C' },
    });
  });

  it('rejects a signing time more than five minutes ahead', async () => {
    const now = new Date();
    const signed = await sign(content, await signerFor('ecSigner'), {
      signingTime: new Date(now.getTime() + 10 * 60_000),
    });
    await expectCode(verify(signed, trust, { now }), CMS_ERROR_CODES.signingTimeInvalid);
    await expect(verify(signed, trust, { now: new Date(now.getTime() + 6 * 60_000) })).resolves.toBeDefined();
  });

  it('rejects a revoked certificate when its issuer CRL is configured', async () => {
    const signed = await sign(content, await signerFor('revoked'));
    await expectCode(verify(signed, trust), CMS_ERROR_CODES.certificateRevoked);
    // A CRL under the right name but signed by another key counts for nothing: the issuer then has no CRL here.
    const foreign = pkijs.CertificateRevocationList.fromBER(pki.rootCrl);
    foreign.issuer = pkijs.Certificate.fromBER(pki.intermediate.certificate).subject;
    const renamed = new Uint8Array(foreign.toSchema(true).toBER());
    await expectCode(
      verify(signed, { anchors: [pki.intermediate.certificate], crls: [renamed] }),
      CMS_ERROR_CODES.crlMissing,
    );
  });

  it('refuses to rely on revocation without a CRL of every issuer in the path (cms-crl-missing), saying what to load', async () => {
    const signed = await sign(content, await signerFor('ecSigner'));
    // No CRL at all: nothing could say it is revoked, so the signature is not accepted.
    const none = await expectCode(verify(signed, { anchors: [pki.root.certificate] }), CMS_ERROR_CODES.crlMissing);
    expect(none.message).toContain("load the region's current CRL");
    // The root's CRL, but not the intermediate's that would list a revoked leaf.
    const partial = await expectCode(
      verify(await sign(content, await signerFor('revoked')), { anchors: [pki.root.certificate], crls: [pki.rootCrl] }),
      CMS_ERROR_CODES.crlMissing,
    );
    expect(partial.message).toContain('RTS Test Practitioner CA');
  });

  it('refuses a stale CRL (90 days past its nextUpdate) as cms-crl-expired; a certificate it lists is still revoked', async () => {
    const nextUpdate = pkijs.CertificateRevocationList.fromBER(pki.intermediateCrl).nextUpdate!.value;
    const later = new Date(nextUpdate.getTime() + 90 * 24 * 3600_000);
    const stale = await expectCode(
      verify(await sign(content, await signerFor('ecSigner'), { signingTime: later }), trust, { now: later }),
      CMS_ERROR_CODES.crlExpired,
    );
    expect(stale.message).toMatch(/out of date \(its next update was due .*\): load the region's current CRL/);
    await expectCode(
      verify(await sign(content, await signerFor('revoked'), { signingTime: later }), trust, { now: later }),
      CMS_ERROR_CODES.certificateRevoked,
    );
    // Judged when it is relied on (now), not at the signing time: an old signature does not revive a stale CRL.
    await expectCode(
      verify(await sign(content, await signerFor('ecSigner')), trust, { now: later }),
      CMS_ERROR_CODES.crlExpired,
    );
    // Within the grace (the tolerated clock skew) it is still current.
    const justAfter = new Date(nextUpdate.getTime() + 60_000);
    await expect(
      verify(await sign(content, await signerFor('ecSigner'), { signingTime: justAfter }), trust, { now: justAfter }),
    ).resolves.toBeDefined();
  });

  it('refuses a trust configuration without a current CRL of each anchor when it is set up', async () => {
    await expect(checkTrustRevocation(trust, new Date())).resolves.toBeUndefined();
    await expectCode(checkTrustRevocation({ anchors: [pki.root.certificate] }, new Date()), CMS_ERROR_CODES.crlMissing);
    const rootNextUpdate = pkijs.CertificateRevocationList.fromBER(pki.rootCrl).nextUpdate!.value;
    await expectCode(
      checkTrustRevocation(trust, new Date(rootNextUpdate.getTime() + 90 * 24 * 3600_000)),
      CMS_ERROR_CODES.crlExpired,
    );
  });

  it('rejects a chain to an unknown root', async () => {
    await expectCode(
      verify(await sign(content, await signerFor('untrusted', [pki.untrustedRoot.certificate])), trust),
      CMS_ERROR_CODES.untrustedChain,
    );
  });

  it('rejects a chain with its intermediate missing, and accepts it from the trust configuration', async () => {
    const signed = await sign(content, await signerFor('ecSigner', []));
    await expectCode(verify(signed, trust), CMS_ERROR_CODES.untrustedChain);
    await expect(verify(signed, { ...trust, intermediates: [pki.intermediate.certificate] })).resolves.toBeDefined();
  });

  it("builds a signer's path once per trust, yet only takes it again when the message offers its certificates", async () => {
    const kept: TrustConfig = { ...trust };
    const built = vi.spyOn(pkijs.CertificateChainValidationEngine.prototype, 'verify');
    try {
      for (let i = 0; i < 3; i++) await verify(await sign(content, await signerFor('ecSigner')), kept);
      expect(built).toHaveBeenCalledTimes(1);
      // The same signer without its intermediate: refused, as it would be by a receiver that saw nothing before.
      await expectCode(
        verify(await sign(content, await signerFor('ecSigner', [])), kept),
        CMS_ERROR_CODES.untrustedChain,
      );
      // A certificate whose path is kept is still judged at the time asked: expired two years on.
      const validate = createCertificateValidator({ ...trust, intermediates: [pki.intermediate.certificate] });
      await validate(pki.leaves.ecSigner.certificate, 'signing', new Date());
      await expectCode(
        validate(pki.leaves.ecSigner.certificate, 'signing', new Date(Date.now() + 2 * 366 * 24 * 3600_000)),
        CMS_ERROR_CODES.certificateExpired,
      );
    } finally {
      built.mockRestore();
    }
  });

  it('rejects a trust configuration without anchors', async () => {
    await expectCode(
      verify(await sign(content, await signerFor('ecSigner')), { anchors: [] }),
      CMS_ERROR_CODES.untrustedChain,
    );
  });

  it('rejects a certificate whose key usage does not allow signing', async () => {
    await expectCode(
      verify(await sign(content, await signerFor('wrongKeyUsage')), trust),
      CMS_ERROR_CODES.wrongKeyUsage,
    );
  });

  it('rejects a certificate whose extended key usage is not email protection', async () => {
    await expectCode(
      verify(await sign(content, await signerFor('serverAuthOnly')), trust),
      CMS_ERROR_CODES.wrongKeyUsage,
    );
  });

  it('rejects signer and recipient certificates whose key usage or extended key usage cannot be read', async () => {
    for (const extnID of ['2.5.29.15', '2.5.29.37']) {
      const certificate = await withUnreadableExtension('ecSigner', extnID);
      const privateKey = await importSigningKey(pki.leaves.ecSigner.privateKey, certificate);
      const signed = await sign(content, { certificate, privateKey, chain: [pki.intermediate.certificate] });
      await expectCode(verify(signed, trust), CMS_ERROR_CODES.malformed);
    }
    await expectCode(
      encrypt(content, [await withUnreadableExtension('rsaRecipient', '2.5.29.15')]),
      CMS_ERROR_CODES.malformed,
    );
  });
});

describe('algorithms outside the profile (made by openssl)', () => {
  it('rejects a SHA-1 signature', async () => {
    await expectCode(verify(opensslMessage(['-md', 'sha1']), trust), CMS_ERROR_CODES.unsupportedAlgorithm);
  });

  it('rejects RSA PKCS#1 v1.5 key transport (openssl -encrypt without OAEP)', async () => {
    const envelope = opensslMessage(['-md', 'sha256'], ['-aes-256-gcm', '-recip', pki.leaves.rsaRecipient.certPath]);
    expect(inspect(envelope)).toMatchObject({ recipients: [{ type: 'key-transport', keyEncryption: 'RSA' }] });
    await expectCode(open(envelope, rsaIdentity, trust), CMS_ERROR_CODES.unsupportedAlgorithm);
  });

  it('rejects OAEP with SHA-1', async () => {
    const envelope = opensslMessage(
      ['-md', 'sha256'],
      ['-aes-256-gcm', '-recip', pki.leaves.rsaRecipient.certPath, '-keyopt', 'rsa_padding_mode:oaep'],
    );
    await expectCode(decrypt(envelope, rsaIdentity), CMS_ERROR_CODES.unsupportedAlgorithm);
  });

  it('rejects ECDH with the SHA-1 KDF (openssl default)', async () => {
    const envelope = opensslMessage(['-md', 'sha256'], ['-aes-256-gcm', '-recip', pki.leaves.ecRecipient.certPath]);
    await expectCode(decrypt(envelope, ecIdentity), CMS_ERROR_CODES.unsupportedAlgorithm);
  });

  it('rejects AES-128 content encryption', async () => {
    const envelope = opensslMessage(
      ['-md', 'sha256'],
      ['-aes128', '-recip', pki.leaves.ecRecipient.certPath, '-keyopt', 'ecdh_kdf_md:sha256'],
    );
    await expectCode(decrypt(envelope, ecIdentity), CMS_ERROR_CODES.unsupportedAlgorithm);
  });
});

describe('key import', () => {
  it('rejects a private key of another certificate', async () => {
    const { leaves } = pki;
    await expectCode(
      importSigningKey(leaves.revoked.privateKey, leaves.ecSigner.certificate),
      CMS_ERROR_CODES.badSignature,
    );
    await expectCode(
      importDecryptionKey(leaves.ecRecipient2.privateKey, leaves.ecRecipient.certificate),
      CMS_ERROR_CODES.decryptFailed,
    );
    await expectCode(
      importDecryptionKey(leaves.wrongKeyUsage.privateKey, leaves.rsaRecipient.certificate),
      CMS_ERROR_CODES.decryptFailed,
    );
  });

  it('rejects a key of the wrong type and garbage', async () => {
    const { leaves } = pki;
    await expectCode(
      importSigningKey(leaves.ecSigner.privateKey, leaves.rsaSigner.certificate),
      CMS_ERROR_CODES.malformed,
    );
    await expectCode(importSigningKey(Uint8Array.of(1, 2, 3), leaves.ecSigner.certificate), CMS_ERROR_CODES.malformed);
    await expectCode(importSigningKey(leaves.ecSigner.privateKey, Uint8Array.of(1, 2, 3)), CMS_ERROR_CODES.malformed);
  });
});
