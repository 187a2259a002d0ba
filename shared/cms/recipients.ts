import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { keyUsageOf, subjectKeyIdentifierOf } from '../pki/certificate.ts';
import {
  certificateFact,
  certificateLabel,
  importPublicKey,
  publicKeyKind,
  issuerAndSerialDer,
  sameIssuerAndSerial,
  type PublicKeyKind,
} from './certificates.ts';
import { CMS_ERROR_CODES, CmsError, parseOrThrow } from './cms-errors.ts';
import { bytesEqual } from '../pki/bytes.ts';
import {
  algorithmIdentifier,
  bufferSource,
  concat,
  contextTag,
  encode,
  explicit,
  octetString,
  primitive,
  sequence,
  smallInteger,
  TAG,
  tlv,
} from './der.ts';
import { openingFailed } from './opening-failure.ts';
import { OID, oidName } from './oids.ts';
import { ecdhP256Ephemeral, sha256, subtle, type CryptoKey } from './webcrypto.ts';

/**
 * RecipientInfos of the profile: key transport with RSAES-OAEP (SHA-256, MGF1-SHA-256) for RSA certificates, and
 * ephemeral-static ECDH on P-256 with the X9.63 SHA-256 KDF and AES-256 key wrap (RFC 5753) for EC certificates.
 * The ASN.1 structures are pkijs's; the cryptography is done here because pkijs's own EnvelopedData defaults to
 * SHA-512 and encodes an empty entityUInfo into the KDF input when there is no ukm, which OpenSSL never sends.
 */

export type ContentKeyAlgorithm = { name: 'AES-GCM' } | { name: 'AES-CBC' };

const P256_FIELD_BITS = 256;
const KEK_BITS = 256;
const ID_P_SPECIFIED = '1.2.840.113549.1.1.9';

function sha256Identifier(): pkijs.AlgorithmIdentifier {
  return new pkijs.AlgorithmIdentifier({ algorithmId: OID.sha256 });
}

function oaepParameters(): asn1js.Sequence {
  return new pkijs.RSAESOAEPParams({
    hashAlgorithm: sha256Identifier(),
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.mgf1,
      algorithmParams: sha256Identifier().toSchema(),
    }),
  }).toSchema();
}

function issuerAndSerial(certificate: pkijs.Certificate): pkijs.IssuerAndSerialNumber {
  return new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber });
}

/** The KEK's length in bits as ECC-CMS-SharedInfo's suppPubInfo carries it: four octets, big-endian. */
const SUPP_PUB_INFO = Uint8Array.of(0, 0, KEK_BITS >> 8, KEK_BITS & 0xff);
/**
 * ECC-CMS-SharedInfo for AES-256 key wrap (no parameters) without a ukm, as the profile's senders write it: the same
 * bytes for every recipient, where pkijs's objects and their encoding cost 55 µs of CPU each time, at every
 * recipient of a consult sealed and every one opened (openssl's interop tests hold them to OpenSSL's).
 */
const AES256_WRAP_SHARED_INFO = encode(
  sequence(algorithmIdentifier(OID.aes256Wrap), explicit(2, octetString(SUPP_PUB_INFO))),
);

/** ECC-CMS-SharedInfo (RFC 5753 7.2), with entityUInfo only when the sender chose a ukm. */
function sharedInfo(
  wrapAlgorithm: pkijs.AlgorithmIdentifier,
  ukm: asn1js.OctetString | undefined,
): Uint8Array<ArrayBuffer> {
  // Parameters absent (pkijs leaves them undefined, or an Any); a NULL the sender wrote is encoded as it came, below.
  const params: unknown = wrapAlgorithm.algorithmParams;
  if (!ukm && wrapAlgorithm.algorithmId === OID.aes256Wrap && (params === undefined || params instanceof asn1js.Any))
    return AES256_WRAP_SHARED_INFO;
  const suppPubInfo = new asn1js.OctetString({ valueHex: SUPP_PUB_INFO });
  const info = new pkijs.ECCCMSSharedInfo({
    keyInfo: wrapAlgorithm,
    suppPubInfo,
    ...(ukm ? { entityUInfo: ukm } : {}),
  });
  return new Uint8Array(info.toSchema().toBER(false));
}

/** ANSI X9.63 KDF with SHA-256; the 256-bit KEK is exactly one hash block: SHA-256(Z || 00000001 || SharedInfo). */
async function deriveKek(
  sharedSecret: ArrayBuffer | Uint8Array,
  info: Uint8Array,
  usage: 'wrapKey' | 'unwrapKey',
): Promise<CryptoKey> {
  const kek = await sha256(concat([new Uint8Array(sharedSecret), Uint8Array.of(0, 0, 0, 1), info]));
  return subtle().importKey('raw', kek, { name: 'AES-KW' }, false, [usage]);
}

// ---------------------------------------------------------------------------------------------------------------
// Encryption side

/**
 * Checks a recipient certificate against the profile and its KeyUsage (keyEncipherment for RSA, keyAgreement for
 * EC) and returns its key type.
 */
export function recipientKind(certificate: pkijs.Certificate): PublicKeyKind {
  const kind = publicKeyKind(certificate, 'recipient');
  const usages = certificateFact(keyUsageOf, certificate);
  const needed = kind === 'rsa' ? 'keyEncipherment' : 'keyAgreement';
  if (usages && !usages.includes(needed)) {
    throw new CmsError(
      CMS_ERROR_CODES.wrongKeyUsage,
      `The recipient certificate ${certificateLabel(certificate)} does not allow ${needed}`,
    );
  }
  return kind;
}

/** One encoded RecipientInfo that gives `certificate`'s holder the content-encryption key. */
export async function recipientInfoFor(
  certificate: pkijs.Certificate,
  kind: PublicKeyKind,
  contentKey: CryptoKey,
): Promise<Uint8Array<ArrayBuffer>> {
  if (kind !== 'rsa') return keyAgreement(certificate, contentKey);
  return new Uint8Array((await keyTransport(certificate, contentKey)).toSchema().toBER(false));
}

async function keyTransport(certificate: pkijs.Certificate, contentKey: CryptoKey): Promise<pkijs.RecipientInfo> {
  const publicKey = await importPublicKey(certificate, { name: 'RSA-OAEP', hash: 'SHA-256' }, ['wrapKey']);
  const encryptedKey = await subtle().wrapKey('raw', contentKey, publicKey, { name: 'RSA-OAEP' });
  return new pkijs.RecipientInfo({
    variant: 1,
    value: new pkijs.KeyTransRecipientInfo({
      version: 0,
      rid: issuerAndSerial(certificate),
      keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: OID.rsaesOaep,
        algorithmParams: oaepParameters(),
      }),
      encryptedKey: new asn1js.OctetString({ valueHex: encryptedKey }),
    }),
  });
}

/**
 * The KeyAgreeRecipientInfo ([1]) written as DER directly: pkijs's objects and their encoding cost 230 µs of CPU for
 * each recipient of a consult sealed (a probe). recipient-info.test.ts holds it to what pkijs writes of it again.
 */
async function keyAgreement(certificate: pkijs.Certificate, contentKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  const algorithm = { name: 'ECDH', namedCurve: 'P-256' } as const;
  const recipientKey = await importPublicKey(certificate, algorithm, []);
  const { sharedSecret, ephemeralPoint: point } = await ecdhP256Ephemeral(recipientKey);
  const wrapAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: OID.aes256Wrap });
  const kek = await deriveKek(sharedSecret, sharedInfo(wrapAlgorithm, undefined), 'wrapKey');
  const encryptedKey = await subtle().wrapKey('raw', contentKey, kek, { name: 'AES-KW' });

  return encode(
    tlv(
      contextTag(1, true),
      smallInteger(3),
      // originator [0] EXPLICIT, its originatorKey [1] IMPLICIT. RFC 5753: id-ecPublicKey with absent parameters; the
      // curve is the recipient's.
      explicit(
        0,
        tlv(
          contextTag(1, true),
          algorithmIdentifier(OID.ecPublicKey),
          primitive(TAG.bitString, concat([Uint8Array.of(0), new Uint8Array(point)])),
        ),
      ),
      algorithmIdentifier(OID.ecdhStdSha256Kdf, algorithmIdentifier(OID.aes256Wrap)),
      sequence(sequence(issuerAndSerialDer(certificate), octetString(new Uint8Array(encryptedKey)))),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Decryption side

function matchesIssuerAndSerial(value: unknown, certificate: pkijs.Certificate): boolean {
  return (
    value instanceof pkijs.IssuerAndSerialNumber && sameIssuerAndSerial(certificate, value.issuer, value.serialNumber)
  );
}

function matchesKeyId(keyId: unknown, certificate: pkijs.Certificate): boolean {
  const ski = subjectKeyIdentifierOf(certificate);
  return ski !== undefined && keyId instanceof asn1js.OctetString && bytesEqual(keyId.valueBlock.valueHexView, ski);
}

function unsupported(message: string): CmsError {
  return new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, message);
}

/** The unwrap is where the uniform opening failure begins (opening-failure.ts): a failed unwrap reads like the rest. */
function decryptFailed(cause: unknown): CmsError {
  return openingFailed(
    new CmsError(
      CMS_ERROR_CODES.decryptFailed,
      'The content key could not be unwrapped with this recipient key (wrong key or damaged message)',
      { cause },
    ),
  );
}

/** A recipient's certificate (parsed) with its private key: one of the keys an envelope may be opened with. */
export interface RecipientKey {
  readonly certificate: pkijs.Certificate;
  readonly privateKey: CryptoKey;
}

/** Whether `rid` (a KeyTrans or KeyAgree recipient identifier) names `certificate`: issuer+serial or its SKI. */
function names(rid: unknown, certificate: pkijs.Certificate): boolean {
  if (rid instanceof pkijs.RecipientKeyIdentifier) return matchesKeyId(rid.subjectKeyIdentifier, certificate);
  return matchesIssuerAndSerial(rid, certificate) || matchesKeyId(rid, certificate);
}

/**
 * Recovers the content-encryption key from the RecipientInfo addressed to one of `keys` (e.g. a practitioner's current
 * and earlier encryption certificates): the key is chosen by the certificate the RecipientInfo names, never by trying
 * keys in turn, so only the named key is ever used.
 */
export async function unwrapContentKey(
  recipientInfos: readonly pkijs.RecipientInfo[],
  keys: readonly RecipientKey[],
  target: ContentKeyAlgorithm,
): Promise<CryptoKey> {
  for (const info of recipientInfos) {
    const value: unknown = info.value;
    for (const { certificate, privateKey } of keys) {
      if (value instanceof pkijs.KeyTransRecipientInfo) {
        if (names(value.rid, certificate)) return checkLength(await transportedKey(value, privateKey, target));
      } else if (value instanceof pkijs.KeyAgreeRecipientInfo) {
        const mine = value.recipientEncryptedKeys.encryptedKeys.find((k) => names(k.rid.value, certificate));
        if (mine) return checkLength(await agreedKey(value, mine, privateKey, target));
      }
    }
  }
  const [current, ...earlier] = keys;
  throw new CmsError(
    CMS_ERROR_CODES.notARecipient,
    current
      ? `The message is not addressed to ${certificateLabel(current.certificate)}${earlier.length > 0 ? ` nor to ${earlier.length} earlier certificate${earlier.length === 1 ? '' : 's'} of the same holder` : ''}`
      : 'The message is not addressed to any key held here',
  );
}

function checkLength(key: CryptoKey): CryptoKey {
  const length = (key.algorithm as { length?: number }).length;
  if (length !== 256)
    throw openingFailed(new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, 'The content key is not a 256-bit AES key'));
  return key;
}

function checkOaepParameters(algorithm: pkijs.AlgorithmIdentifier): void {
  const params = parseOrThrow(
    'The RSA-OAEP parameters',
    () => new pkijs.RSAESOAEPParams({ schema: algorithm.algorithmParams }),
  );
  const mgfHash = parseOrThrow(
    'The RSA-OAEP mask generation',
    () => new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }),
  );
  if (params.hashAlgorithm.algorithmId === OID.sha1 || mgfHash.algorithmId === OID.sha1)
    throw unsupported('The RSA-OAEP key transport uses SHA-1, which is not accepted');
  // pkijs fills an absent pSourceFunc with a non-empty placeholder; only an explicit one can carry a label.
  const label: unknown = params.pSourceAlgorithm.algorithmParams;
  const defaultLabel = params.pSourceAlgorithm.isEqual(pkijs.RSAESOAEPParams.defaultValues('pSourceAlgorithm'));
  const emptyLabel =
    params.pSourceAlgorithm.algorithmId === ID_P_SPECIFIED &&
    label instanceof asn1js.OctetString &&
    label.valueBlock.valueHexView.byteLength === 0;
  if (
    params.hashAlgorithm.algorithmId !== OID.sha256 ||
    params.maskGenAlgorithm.algorithmId !== OID.mgf1 ||
    mgfHash.algorithmId !== OID.sha256 ||
    !(defaultLabel || emptyLabel)
  ) {
    throw unsupported('The RSA-OAEP key transport uses parameters other than SHA-256 with MGF1-SHA-256 and no label');
  }
}

async function transportedKey(
  info: pkijs.KeyTransRecipientInfo,
  privateKey: CryptoKey,
  target: ContentKeyAlgorithm,
): Promise<CryptoKey> {
  const oid = info.keyEncryptionAlgorithm.algorithmId;
  if (oid === OID.rsaEncryption)
    throw unsupported('RSA PKCS#1 v1.5 key transport is not accepted; the sender must use RSA-OAEP');
  if (oid !== OID.rsaesOaep) throw unsupported(`The key transport algorithm ${oidName(oid)} is not accepted`);
  checkOaepParameters(info.keyEncryptionAlgorithm);
  if (privateKey.algorithm.name !== 'RSA-OAEP')
    throw decryptFailed(new Error('the recipient key is not an RSA-OAEP key'));
  try {
    return await subtle().unwrapKey(
      'raw',
      bufferSource(info.encryptedKey.valueBlock.valueHexView),
      privateKey,
      { name: 'RSA-OAEP' },
      target,
      false,
      ['decrypt'],
    );
  } catch (error) {
    throw decryptFailed(error);
  }
}

async function agreedKey(
  info: pkijs.KeyAgreeRecipientInfo,
  encryptedKey: pkijs.RecipientEncryptedKey,
  privateKey: CryptoKey,
  target: ContentKeyAlgorithm,
): Promise<CryptoKey> {
  const oid = info.keyEncryptionAlgorithm.algorithmId;
  if (oid === OID.ecdhStdSha1Kdf) throw unsupported('The ECDH key agreement uses the SHA-1 KDF, which is not accepted');
  if (oid !== OID.ecdhStdSha256Kdf) throw unsupported(`The key agreement algorithm ${oidName(oid)} is not accepted`);
  const wrapAlgorithm = parseOrThrow(
    'The key wrap algorithm',
    () => new pkijs.AlgorithmIdentifier({ schema: info.keyEncryptionAlgorithm.algorithmParams }),
  );
  if (wrapAlgorithm.algorithmId !== OID.aes256Wrap)
    throw unsupported(`The key wrap algorithm ${oidName(wrapAlgorithm.algorithmId)} is not accepted`);

  const originator: unknown = info.originator.value;
  if (info.originator.variant !== 3 || !(originator instanceof pkijs.OriginatorPublicKey)) {
    throw unsupported('Only ephemeral-static ECDH is accepted (the originator must be a public key)');
  }
  const curve: unknown = originator.algorithm.algorithmParams;
  const curveOk =
    curve === undefined ||
    curve instanceof asn1js.Null ||
    (curve instanceof asn1js.ObjectIdentifier && curve.valueBlock.toString() === OID.p256);
  if (originator.algorithm.algorithmId !== OID.ecPublicKey || !curveOk)
    throw unsupported('The sender key of the ECDH key agreement is not on P-256');
  if (privateKey.algorithm.name !== 'ECDH') throw decryptFailed(new Error('the recipient key is not an ECDH key'));

  const ephemeral = await subtle()
    .importKey(
      'raw',
      bufferSource(originator.publicKey.valueBlock.valueHexView),
      { name: 'ECDH', namedCurve: 'P-256' },
      false,
      [],
    )
    .catch((error: unknown) => {
      throw new CmsError(
        CMS_ERROR_CODES.malformed,
        'The sender key of the ECDH key agreement is not a valid P-256 point',
        { cause: error },
      );
    });
  try {
    const sharedSecret = await subtle().deriveBits({ name: 'ECDH', public: ephemeral }, privateKey, P256_FIELD_BITS);
    const kek = await deriveKek(sharedSecret, sharedInfo(wrapAlgorithm, info.ukm), 'unwrapKey');
    return await subtle().unwrapKey(
      'raw',
      bufferSource(encryptedKey.encryptedKey.valueBlock.valueHexView),
      kek,
      { name: 'AES-KW' },
      target,
      false,
      ['decrypt'],
    );
  } catch (error) {
    throw decryptFailed(error);
  }
}
