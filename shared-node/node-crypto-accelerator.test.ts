import { randomBytes, X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, opensslDecrypt, type TestPki } from '../scripts/test-env/index.ts';
import {
  decrypt,
  encrypt,
  importDecryptionKey,
  importSigningKey,
  sign,
  useCryptoAccelerator,
  verify,
  type CryptoAccelerator,
  type CryptoKey,
} from '../shared/cms/index.ts';
import { nodeCryptoAccelerator } from './node-crypto-accelerator.ts';

const { subtle } = globalThis.crypto;

describe('shared/cms with node:crypto lent for small digests, ECDSA signatures and ephemeral ECDH', () => {
  let pki: TestPki;
  let ecKey: CryptoKey;
  let rsaKey: CryptoKey;
  beforeAll(async () => {
    pki = createTestPki();
    ecKey = await importSigningKey(pki.leaves.ecSigner.privateKey, pki.leaves.ecSigner.certificate);
    rsaKey = await importSigningKey(pki.leaves.rsaSigner.privateKey, pki.leaves.rsaSigner.certificate);
  }, 60_000);
  afterEach(() => useCryptoAccelerator(undefined));

  it('gives the digest Web Crypto gives, and ECDSA signatures that Web Crypto verifies; no other keys', async () => {
    const data = new Uint8Array(randomBytes(3000));
    expect(Buffer.from(nodeCryptoAccelerator.sha256(data))).toEqual(Buffer.from(await subtle.digest('SHA-256', data)));
    const signature = nodeCryptoAccelerator.signEcdsaP256(ecKey, data)!;
    expect(signature.byteLength).toBe(64); // r‖s, as Web Crypto gives it
    const publicKey = new X509Certificate(pki.leaves.ecSigner.certificate).publicKey.toCryptoKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
    expect(await subtle.verify(ecdsa, publicKey, signature, data)).toBe(true);
    expect(await subtle.verify(ecdsa, publicKey, signature, data.subarray(1))).toBe(false);
    expect(nodeCryptoAccelerator.signEcdsaP256(rsaKey, data)).toBeUndefined();
  });

  it('signs through it (small inputs only to its SHA-256), and what it signed verifies with or without it', async () => {
    const calls = { sha256: [] as number[], sign: 0 };
    const counting: CryptoAccelerator = {
      ...nodeCryptoAccelerator,
      sha256: (data) => (calls.sha256.push(data.byteLength), nodeCryptoAccelerator.sha256(data)),
      signEcdsaP256: (key, data) => (calls.sign++, nodeCryptoAccelerator.signEcdsaP256(key, data)),
    };
    const trust = { anchors: [pki.root.certificate], crls: [pki.rootCrl, pki.intermediateCrl] };
    const signer = {
      certificate: pki.leaves.ecSigner.certificate,
      privateKey: ecKey,
      chain: [pki.intermediate.certificate],
    };
    useCryptoAccelerator(counting);
    const small = await sign(new Uint8Array(randomBytes(1000)), signer);
    const large = await sign(new Uint8Array(randomBytes(200 * 1024)), signer);
    expect(calls).toEqual({ sha256: [1000], sign: 2 });
    await expect(verify(small, trust)).resolves.toMatchObject({ signer: { signatureAlgorithm: expect.any(String) } });
    useCryptoAccelerator(undefined);
    for (const signed of [small, large]) await expect(verify(signed, trust)).resolves.toBeDefined();
  });

  it("agrees on the secret Web Crypto derives with the recipient's private key, from a fresh key each time; no other keys", async () => {
    const recipient = pki.leaves.ecRecipient;
    const publicKey = new X509Certificate(recipient.certificate).publicKey.toCryptoKey(
      { name: 'ECDH', namedCurve: 'P-256' },
      true,
      [],
    );
    const { sharedSecret, ephemeralPoint } = nodeCryptoAccelerator.ecdhP256Ephemeral(publicKey)!;
    expect([ephemeralPoint.byteLength, ephemeralPoint[0]]).toEqual([65, 4]);
    const recipientKey = await importDecryptionKey(recipient.privateKey, recipient.certificate);
    const ephemeral = await subtle.importKey('raw', ephemeralPoint, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const z = await subtle.deriveBits({ name: 'ECDH', public: ephemeral }, recipientKey, 256);
    expect(Buffer.from(sharedSecret)).toEqual(Buffer.from(z));
    const again = nodeCryptoAccelerator.ecdhP256Ephemeral(publicKey)!;
    expect(Buffer.from(again.ephemeralPoint)).not.toEqual(Buffer.from(ephemeralPoint));
    expect(Buffer.from(again.sharedSecret)).not.toEqual(Buffer.from(sharedSecret));
    const signingKey = new X509Certificate(pki.leaves.ecSigner.certificate).publicKey.toCryptoKey(
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    );
    expect(nodeCryptoAccelerator.ecdhP256Ephemeral(signingKey)).toBeUndefined();
  });

  it('encrypts to an EC recipient through it, and what it sealed opens without it and by openssl cms', async () => {
    let agreements = 0;
    useCryptoAccelerator({
      ...nodeCryptoAccelerator,
      ecdhP256Ephemeral: (key) => (agreements++, nodeCryptoAccelerator.ecdhP256Ephemeral(key)),
    });
    const content = new Uint8Array(randomBytes(5000));
    const { ecRecipient, rsaRecipient } = pki.leaves;
    const envelope = await encrypt(content, [ecRecipient.certificate, rsaRecipient.certificate]);
    expect(agreements).toBe(1);
    useCryptoAccelerator(undefined);
    for (const holder of [ecRecipient, rsaRecipient]) {
      const privateKey = await importDecryptionKey(holder.privateKey, holder.certificate);
      const opened = await decrypt(envelope, { certificate: holder.certificate, privateKey });
      expect(Buffer.from(opened.content)).toEqual(Buffer.from(content));
    }
    const byOpenssl = opensslDecrypt(envelope, ecRecipient);
    expect(byOpenssl).toEqual(Buffer.from(content));
  });
});
