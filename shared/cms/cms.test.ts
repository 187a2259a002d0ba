import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type LeafName, type TestPki } from '../../scripts/test-env/index.ts';
import {
  CONTENT_ENCRYPTION,
  decrypt,
  encrypt,
  importDecryptionKey,
  importSigningKey,
  inspect,
  open,
  seal,
  sign,
  verify,
  type CmsRecipientIdentity,
  type CmsSigner,
  type TrustConfig,
} from './index.ts';
import { importPublicKey, parseCertificate } from './certificates.ts';
import { readContentInfo, writeContentInfo } from './content-info.ts';
import {
  TAG,
  algorithmIdentifier,
  encode,
  objectIdentifier,
  octetString,
  parseBer,
  primitive,
  sequence,
  setOf,
  smallInteger,
  tlv,
  type DerNode,
} from './der.ts';
import { OID } from './oids.ts';
import { recipientInfoFor } from './recipients.ts';
import { readSignedData } from './signed-data.ts';

const SIGNERS = ['rsaSigner', 'ecSigner'] as const satisfies readonly LeafName[];
const RECIPIENTS = ['rsaRecipient', 'ecRecipient'] as const satisfies readonly LeafName[];
const CIPHERS = Object.values(CONTENT_ENCRYPTION);
const COMBINATIONS = SIGNERS.flatMap((signer) =>
  RECIPIENTS.flatMap((recipient) => CIPHERS.map((cipher) => [signer, recipient, cipher] as const)),
);

let pki: TestPki;
let trust: TrustConfig;
const signers = {} as Record<(typeof SIGNERS)[number], CmsSigner>;
const identities = {} as Record<'rsaRecipient' | 'ecRecipient' | 'ecRecipient2', CmsRecipientIdentity>;
const content = new Uint8Array(randomBytes(10_000));

beforeAll(async () => {
  pki = createTestPki();
  trust = { anchors: [pki.root.certificate], crls: [pki.rootCrl, pki.intermediateCrl] };
  for (const name of SIGNERS) {
    const leaf = pki.leaves[name];
    signers[name] = {
      certificate: leaf.certificate,
      privateKey: await importSigningKey(leaf.privateKey, leaf.certificate),
      chain: [pki.intermediate.certificate],
    };
  }
  for (const name of ['rsaRecipient', 'ecRecipient', 'ecRecipient2'] as const) {
    const leaf = pki.leaves[name];
    identities[name] = {
      certificate: leaf.certificate,
      privateKey: await importDecryptionKey(leaf.privateKey, leaf.certificate),
    };
  }
}, 60_000);

afterAll(() => pki?.remove());

describe('seal and open', () => {
  it.each(COMBINATIONS)('%s to %s with %s', async (signer, recipient, cipher) => {
    const envelope = await seal(content, signers[signer], [pki.leaves[recipient].certificate], {
      contentEncryption: cipher,
    });
    const opened = await open(envelope, identities[recipient], trust, { allowCbc: true });
    expect(opened.content).toEqual(content);
    expect(opened.contentEncryption).toBe(cipher);
    expect(opened.signer.certificate).toEqual(pki.leaves[signer].certificate);
  });

  it("opens with a list of one holder's identities, using the key whose certificate the RecipientInfo names", async () => {
    // ecRecipient2 plays an earlier encryption certificate, kept after a renewal to ecRecipient.
    const toEarlier = await seal(content, signers.ecSigner, [pki.leaves.ecRecipient2.certificate]);
    const held = [identities.ecRecipient, identities.rsaRecipient, identities.ecRecipient2];
    expect((await open(toEarlier, held, trust)).content).toEqual(content);
    expect((await decrypt(await encrypt(content, [pki.leaves.rsaRecipient.certificate]), held)).content).toEqual(
      content,
    );
    // Chosen by name, not tried in turn: with the keys swapped between the two certificates the named one fails.
    const swapped = [
      { certificate: identities.ecRecipient.certificate, privateKey: identities.ecRecipient2.privateKey },
      { certificate: identities.ecRecipient2.certificate, privateKey: identities.ecRecipient.privateKey },
    ];
    await expect(open(toEarlier, swapped, trust)).rejects.toMatchObject({ code: 'cms-decrypt-failed' });
    await expect(open(toEarlier, [identities.ecRecipient, identities.rsaRecipient], trust)).rejects.toMatchObject({
      code: 'cms-not-a-recipient',
      message: expect.stringContaining('nor to 1 earlier certificate of the same holder'),
    });
  });

  it('defaults to AES-256-GCM in AuthEnvelopedData', async () => {
    const envelope = await seal(content, signers.ecSigner, [pki.leaves.ecRecipient.certificate]);
    expect(inspect(envelope)).toMatchObject({
      contentType: 'authEnvelopedData',
      contentEncryption: 'AES-256-GCM',
      macSize: 16,
    });
    expect((await open(envelope, identities.ecRecipient, trust)).contentEncryption).toBe('aes-256-gcm');
  });

  it('lets every recipient, the sender included, open one envelope', async () => {
    // ecRecipient2 plays the sender's own encryption certificate.
    const envelope = await seal(content, signers.rsaSigner, [
      pki.leaves.rsaRecipient.certificate,
      pki.leaves.ecRecipient.certificate,
      pki.leaves.ecRecipient2.certificate,
      pki.leaves.ecRecipient.certificate,
    ]);
    const structure = inspect(envelope);
    expect(structure.contentType === 'authEnvelopedData' && structure.recipients).toHaveLength(3);
    for (const identity of Object.values(identities)) {
      expect((await open(envelope, identity, trust)).content).toEqual(content);
    }
  });

  it('round-trips empty content and returns the decrypted SignedData from decrypt()', async () => {
    const envelope = await seal(new Uint8Array(0), signers.ecSigner, [pki.leaves.rsaRecipient.certificate], {
      contentEncryption: 'aes-256-cbc',
    });
    expect((await open(envelope, identities.rsaRecipient, trust, { allowCbc: true })).content).toEqual(
      new Uint8Array(0),
    );
    const inner = await decrypt(envelope, identities.rsaRecipient, { allowCbc: true });
    expect(inner.contentEncryption).toBe('aes-256-cbc');
    expect(inspect(inner.content)).toMatchObject({ contentType: 'signedData', contentSize: 0 });
  });

  it('authenticates the authenticated attributes of an AuthEnvelopedData (RFC 5083 AAD)', async () => {
    // Made by hand: our writer never sends authAttrs, other implementations may.
    const contentKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
    const recipientInfo = await recipientInfoFor(
      parseCertificate(pki.leaves.ecRecipient.certificate, 'test'),
      'ec-p256',
      contentKey,
    );
    const authAttributes = setOf(sequence(objectIdentifier(OID.contentType), tlv(TAG.set, objectIdentifier(OID.data))));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: nonce, additionalData: encode(authAttributes) },
        contentKey,
        content,
      ),
    );
    const build = (attributes: DerNode, gcmParameters: DerNode) =>
      writeContentInfo(
        OID.authEnvelopedData,
        sequence(
          smallInteger(0),
          setOf(recipientInfo),
          sequence(
            objectIdentifier(OID.data),
            algorithmIdentifier(OID.aes256Gcm, gcmParameters),
            primitive(0x80, sealed.subarray(0, -16)),
          ),
          tlv(0xa1, ...attributes.parts),
          octetString(sealed.subarray(-16)),
        ),
      );
    const withIcvLength = sequence(octetString(nonce), smallInteger(16));
    expect((await decrypt(build(authAttributes, withIcvLength), identities.ecRecipient)).content).toEqual(content);
    // Without aes-ICVlen the default of 12 bytes contradicts the 16-byte mac.
    await expect(
      decrypt(build(authAttributes, sequence(octetString(nonce))), identities.ecRecipient),
    ).rejects.toMatchObject({ code: 'cms-malformed' });
    const otherAttributes = setOf(
      sequence(objectIdentifier(OID.contentType), tlv(TAG.set, objectIdentifier(OID.signedData))),
    );
    await expect(decrypt(build(otherAttributes, withIcvLength), identities.ecRecipient)).rejects.toMatchObject({
      code: 'cms-decrypt-failed',
    });
  });

  it('encrypts without signing', async () => {
    const envelope = await encrypt(content, [pki.leaves.ecRecipient.certificate]);
    expect((await decrypt(envelope, identities.ecRecipient)).content).toEqual(content);
  });
});

describe('sign and verify', () => {
  it('summarises the signer', async () => {
    const wholeSecond = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
    const signingTime = new Date(wholeSecond + 678);
    const signed = await sign(content, signers.rsaSigner, { signingTime });
    const { signer } = await verify(signed, trust, { now: new Date() });
    expect(signer).toMatchObject({
      subject: 'CN=clinic-a.dr-a,O=Clinic A',
      serialNumber: expect.stringMatching(/^[0-9a-f]+$/),
      signatureAlgorithm: 'RSASSA-PKCS1-v1_5-SHA256',
    });
    // DER times carry whole seconds.
    expect(signer.signingTime.getTime()).toBe(wholeSecond);
  });

  it('returns content that does not alias the input', async () => {
    const signed = await sign(content, signers.ecSigner);
    const result = await verify(signed, trust);
    signed.fill(0);
    expect(result.content).toEqual(content);
  });

  it('refuses a signing key that does not fit the certificate', async () => {
    const ecdhKey = identities.ecRecipient.privateKey;
    await expect(
      sign(content, { certificate: pki.leaves.ecSigner.certificate, privateKey: ecdhKey }),
    ).rejects.toMatchObject({ code: 'cms-unsupported-algorithm' });
  });
});

describe('inspect', () => {
  it('describes a SignedData without its content', async () => {
    const marker = new TextEncoder().encode('SECRET-PATIENT-DATA');
    const signed = await sign(marker, signers.ecSigner, { signingTime: new Date('2026-03-04T05:06:07Z') });
    const structure = inspect(signed);
    expect(structure).toEqual({
      contentType: 'signedData',
      size: signed.byteLength,
      encapsulatedContentType: 'data',
      contentSize: marker.byteLength,
      digestAlgorithms: ['SHA-256'],
      certificates: [
        expect.objectContaining({
          subject: 'CN=clinic-b.dr-b,O=Clinic B',
          issuer: 'CN=RTS Test Practitioner CA,O=RTS Test',
        }),
        expect.objectContaining({
          subject: 'CN=RTS Test Practitioner CA,O=RTS Test',
          issuer: 'CN=RTS Test Root CA,O=RTS Test',
        }),
      ],
      signers: [
        {
          issuer: 'CN=RTS Test Practitioner CA,O=RTS Test',
          serialNumber: expect.stringMatching(/^[0-9a-f]+$/),
          subject: 'CN=clinic-b.dr-b,O=Clinic B',
          digestAlgorithm: 'SHA-256',
          signatureAlgorithm: 'ECDSA-SHA256',
          signingTime: '2026-03-04T05:06:07.000Z',
        },
      ],
    });
    const json = JSON.stringify(structure);
    expect(JSON.parse(json)).toEqual(structure);
    expect(json).not.toContain('SECRET');
  });

  it('describes both kinds of recipients of an envelope and no key material', async () => {
    const envelope = await encrypt(content, [pki.leaves.rsaRecipient.certificate, pki.leaves.ecRecipient.certificate], {
      contentEncryption: 'aes-256-cbc',
    });
    const structure = inspect(envelope);
    expect(structure).toMatchObject({
      contentType: 'envelopedData',
      encryptedContentType: 'data',
      contentEncryption: 'AES-256-CBC',
      encryptedContentSize: content.byteLength + 16 - (content.byteLength % 16),
    });
    expect(
      structure.contentType === 'envelopedData' &&
        [...structure.recipients].sort((a, b) => a.type.localeCompare(b.type)),
    ).toEqual([
      {
        type: 'key-agreement',
        keyAgreement: 'ECDH-SHA256KDF',
        keyWrap: 'AES-256-KW',
        recipients: [{ issuer: 'CN=RTS Test Practitioner CA,O=RTS Test', serialNumber: expect.any(String) }],
      },
      {
        type: 'key-transport',
        keyEncryption: 'RSAES-OAEP',
        oaepHash: 'SHA-256',
        issuer: 'CN=RTS Test Practitioner CA,O=RTS Test',
        serialNumber: expect.any(String),
      },
    ]);
  });
});

describe('certificates', () => {
  it('parses the same bytes once, in any array, and keeps nothing it could not parse', () => {
    const der = pki.leaves.ecRecipient.certificate;
    const first = parseCertificate(der, 'test');
    expect(parseCertificate(new Uint8Array(der), 'test')).toBe(first);
    expect(parseCertificate(pki.leaves.ecSigner.certificate, 'test')).not.toBe(first);
    // Certificates that differ in one byte of their signature, where windows-1252 has no character, are two.
    const withLastByte = (byte: number) => Uint8Array.from(der, (b, i) => (i === der.byteLength - 1 ? byte : b));
    expect(parseCertificate(withLastByte(0x81), 'test')).not.toBe(parseCertificate(withLastByte(0x8d), 'test'));
    const garbage = new Uint8Array(der.subarray(0, 40));
    expect(() => parseCertificate(garbage, 'The garbage')).toThrow(/The garbage/);
    expect(() => parseCertificate(garbage, 'The garbage')).toThrow(/The garbage/);
  });

  it("imports a certificate's public key once per algorithm and usages", async () => {
    const certificate = parseCertificate(pki.leaves.ecSigner.certificate, 'test');
    const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const key = await importPublicKey(certificate, ecdsa, ['verify']);
    expect(await importPublicKey(certificate, ecdsa, ['verify'])).toBe(key);
    expect(await importPublicKey(certificate, ecdsa, [])).not.toBe(key);
    expect(
      await importPublicKey(parseCertificate(pki.leaves.ecRecipient.certificate, 'test'), ecdsa, ['verify']),
    ).not.toBe(key);
  });

  it("reads a signed message's certificates through the same cache", async () => {
    const signed = await sign(randomBytes(64), signers.ecSigner);
    const read = () =>
      readSignedData(readContentInfo(parseBer(signed, signed.byteLength, 'test'), 'test').content).certificates;
    const [first] = read();
    expect(first!.der).toEqual(pki.leaves.ecSigner.certificate);
    expect(read()[0]!.certificate).toBe(first!.certificate);
    expect(first!.certificate).toBe(parseCertificate(pki.leaves.ecSigner.certificate, 'test'));
  });
});

describe('key import', () => {
  it('gives non-extractable keys of the algorithm the certificate dictates', async () => {
    expect(signers.rsaSigner.privateKey).toMatchObject({
      extractable: false,
      algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
    });
    expect(signers.ecSigner.privateKey).toMatchObject({
      extractable: false,
      algorithm: { name: 'ECDSA', namedCurve: 'P-256' },
    });
    expect(identities.rsaRecipient.privateKey).toMatchObject({
      extractable: false,
      algorithm: { name: 'RSA-OAEP', hash: { name: 'SHA-256' } },
    });
    expect(identities.ecRecipient.privateKey).toMatchObject({
      extractable: false,
      algorithm: { name: 'ECDH', namedCurve: 'P-256' },
    });
  });
});
