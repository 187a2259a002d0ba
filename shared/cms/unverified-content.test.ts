import { describe, expect, it } from 'vitest';
import { createRootCertificate, generateKeyPair, issueCertificate } from '../pki/index.ts';
import { readUnverifiedSignedContent, seal, sign, type CmsSigner } from './index.ts';

/** A signer no trust configuration knows: what is read here must not depend on who signed. */
async function strangerSigner(): Promise<{ signer: CmsSigner; recipient: Uint8Array }> {
  const caKeys = await generateKeyPair();
  const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: 'Unknown CA' } });
  const issuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const signing = await generateKeyPair();
  const encryption = await generateKeyPair();
  const leaf = await issueCertificate({
    profile: 'practitioner-signing',
    subject: { commonName: 'x.signer' },
    publicKey: signing.publicKey,
    issuer,
  });
  const recipient = await issueCertificate({
    profile: 'practitioner-encryption',
    subject: { commonName: 'x.reader' },
    publicKey: encryption.publicKey,
    issuer,
  });
  return { signer: { certificate: leaf.der, privateKey: signing.privateKey }, recipient: recipient.der };
}

const content = new TextEncoder().encode('{"resourceType":"Bundle","type":"message"}');

describe('readUnverifiedSignedContent', () => {
  it('returns the encapsulated content of a SignedData without judging its signer, as a copy', async () => {
    const { signer } = await strangerSigner();
    const signed = await sign(content, signer);
    const read = readUnverifiedSignedContent(signed, 1024 * 1024);
    expect(read).toEqual(content);
    signed.fill(0);
    expect(read).toEqual(content);
  });

  it('returns nothing for an encrypted envelope, for more than the limit, and for damaged or foreign bytes, without throwing', async () => {
    const { signer, recipient } = await strangerSigner();
    const signed = await sign(content, signer);
    expect(readUnverifiedSignedContent(await seal(content, signer, [recipient]), 1024 * 1024)).toBeUndefined();
    expect(readUnverifiedSignedContent(signed, signed.byteLength - 1)).toBeUndefined();
    expect(readUnverifiedSignedContent(signed.subarray(0, signed.byteLength - 7), 1024 * 1024)).toBeUndefined();
    expect(readUnverifiedSignedContent(new Uint8Array(0), 1024)).toBeUndefined();
    expect(readUnverifiedSignedContent(new TextEncoder().encode('{"not":"cms"}'), 1024)).toBeUndefined();
    expect(readUnverifiedSignedContent(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), 1024)).toBeUndefined();
    expect(readUnverifiedSignedContent('text' as unknown as Uint8Array, 1024)).toBeUndefined();
  });
});
