import * as asn1js from 'asn1js';
import fc from 'fast-check';
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestPki } from '../../scripts/test-env/index.ts';
import { parseCertificate } from './certificates.ts';
import { isCmsError, parseOrThrow } from './cms-errors.ts';
import { parseBer } from './der.ts';
import { readRecipientInfo } from './enveloped-data.ts';
import { OID } from './oids.ts';
import { recipientInfoFor } from './recipients.ts';
import { subtle } from './webcrypto.ts';

/** How a reader read an encoded RecipientInfo: its variant and encoding again, or the error code. */
function readWith(encoded: Uint8Array, read: (schema: ReturnType<typeof parseBer>) => pkijs.RecipientInfo): unknown {
  try {
    const schema = parseBer(new Uint8Array(encoded), 64 * 1024, 'A recipient entry');
    const info = parseOrThrow('A recipient entry', () => read(schema));
    return { variant: info.variant, der: Buffer.from(info.toSchema().toBER()).toString('hex'), ...keyAgreement(info) };
  } catch (error) {
    if (!isCmsError(error)) throw error;
    return { error: error.code };
  }
}
/** Besides the encoding, what unwrapping a key agreement reads of it, by kind. */
function keyAgreement(info: pkijs.RecipientInfo): object {
  const value: unknown = info.value;
  if (!(value instanceof pkijs.KeyAgreeRecipientInfo)) return {};
  const hex = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(new Uint8Array(bytes)).toString('hex');
  const originator: unknown = value.originator.value;
  return {
    version: value.version,
    ukm: value.ukm === undefined,
    originator: [
      value.originator.variant,
      originator instanceof pkijs.OriginatorPublicKey &&
        hex(originator.algorithm.toSchema().toBER()) + hex(originator.publicKey.valueBlock.valueHexView),
    ],
    keyEncryption: [
      value.keyEncryptionAlgorithm.algorithmId,
      value.keyEncryptionAlgorithm.algorithmParams?.constructor.name,
    ],
    recipients: value.recipientEncryptedKeys.encryptedKeys.map((key) => {
      const rid: unknown = key.rid.value;
      return [
        key.rid.variant,
        rid instanceof pkijs.IssuerAndSerialNumber && [
          rid.issuer.typesAndValues.length,
          hex(rid.issuer.toSchema().toBER()),
          hex(rid.serialNumber.valueBlock.valueHexView),
        ],
        key.encryptedKey.constructor.name,
        hex(key.encryptedKey.valueBlock.valueHexView),
      ];
    }),
  };
}
const directly = (encoded: Uint8Array) => readWith(encoded, readRecipientInfo);
const byPkijs = (encoded: Uint8Array) => readWith(encoded, (schema) => new pkijs.RecipientInfo({ schema }));

describe('reading a RecipientInfo as the variant its tag names', () => {
  const encoded = {} as Record<'keyTransport' | 'keyAgreement', Uint8Array>;
  let ecRecipient: pkijs.Certificate;
  beforeAll(async () => {
    const pki = createTestPki();
    const contentKey = await subtle().generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt']);
    const certificate = (name: 'rsaRecipient' | 'ecRecipient') => parseCertificate(pki.leaves[name].certificate, name);
    encoded.keyTransport = await recipientInfoFor(certificate('rsaRecipient'), 'rsa', contentKey);
    ecRecipient = certificate('ecRecipient');
    encoded.keyAgreement = await recipientInfoFor(ecRecipient, 'ec-p256', contentKey);
  }, 60_000);

  it('reads key transport and key agreement as pkijs reads them', () => {
    expect(directly(encoded.keyTransport)).toMatchObject({ variant: 1 });
    expect(directly(encoded.keyAgreement)).toMatchObject({ variant: 2 });
    for (const bytes of Object.values(encoded)) expect(directly(bytes)).toEqual(byPkijs(bytes));
  });

  it('writes a key agreement, without pkijs, byte for byte as pkijs writes it (RFC 5753, the profile)', () => {
    const read = new pkijs.RecipientInfo({ schema: parseBer(encoded.keyAgreement, 64 * 1024, 'A recipient entry') });
    const written = read.value as pkijs.KeyAgreeRecipientInfo;
    // What the writer chose freely: the ephemeral point and the wrapped key. The rest pkijs builds as the profile has it.
    const point = (written.originator.value as pkijs.OriginatorPublicKey).publicKey.valueBlock.valueHexView;
    const wrapped = written.recipientEncryptedKeys.encryptedKeys[0]!.encryptedKey.valueBlock.valueHexView;
    const expected = new pkijs.RecipientInfo({
      variant: 2,
      value: new pkijs.KeyAgreeRecipientInfo({
        version: 3,
        originator: new pkijs.OriginatorIdentifierOrKey({
          variant: 3,
          value: new pkijs.OriginatorPublicKey({
            algorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.ecPublicKey }),
            publicKey: new asn1js.BitString({ valueHex: point }),
          }),
        }),
        keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
          algorithmId: OID.ecdhStdSha256Kdf,
          algorithmParams: new pkijs.AlgorithmIdentifier({ algorithmId: OID.aes256Wrap }).toSchema(),
        }),
        recipientEncryptedKeys: new pkijs.RecipientEncryptedKeys({
          encryptedKeys: [
            new pkijs.RecipientEncryptedKey({
              rid: new pkijs.KeyAgreeRecipientIdentifier({
                variant: 1,
                value: new pkijs.IssuerAndSerialNumber({
                  issuer: ecRecipient.issuer,
                  serialNumber: ecRecipient.serialNumber,
                }),
              }),
              encryptedKey: new asn1js.OctetString({ valueHex: wrapped }),
            }),
          ],
        }),
      }),
    });
    expect(Buffer.from(encoded.keyAgreement).toString('hex')).toBe(
      Buffer.from(expected.toSchema().toBER(false)).toString('hex'),
    );
  });

  it("builds a key agreement of the profile's shape from its elements, each issuer name parsed once", () => {
    const issuerOf = (encoded: Uint8Array) => {
      const info = readRecipientInfo(parseBer(new Uint8Array(encoded), 64 * 1024, 'A recipient entry'));
      const rid = (info.value as pkijs.KeyAgreeRecipientInfo).recipientEncryptedKeys.encryptedKeys[0]!.rid.value;
      return (rid as pkijs.IssuerAndSerialNumber).issuer;
    };
    // pkijs's own reading makes a new name each time.
    expect(issuerOf(encoded.keyAgreement)).toBe(issuerOf(encoded.keyAgreement));
    expect(issuerOf(encoded.keyAgreement).typesAndValues.length).toBeGreaterThan(0);
  });

  it('refuses, as pkijs does, a version written as ENUMERATED (an Integer to asn1js)', () => {
    const version = Buffer.from('020103', 'hex');
    const at = Buffer.from(encoded.keyAgreement).indexOf(version);
    expect(at).toBeGreaterThan(0);
    const enumerated = Uint8Array.from(encoded.keyAgreement, (b, j) => (j === at ? 0x0a : b));
    expect(byPkijs(enumerated)).toEqual({ error: 'cms-malformed' });
    expect(directly(enumerated)).toEqual(byPkijs(enumerated));
  });

  it('reads (or refuses) damaged copies exactly as pkijs does', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('keyTransport', 'keyAgreement'),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (which, at, byte) => {
          const original = encoded[which];
          const damaged = Uint8Array.from(original, (b, j) => (j === at % original.byteLength ? byte : b));
          expect(directly(damaged)).toEqual(byPkijs(damaged));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
