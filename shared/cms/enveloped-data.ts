import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { parseCertificate, type PublicKeyKind } from './certificates.ts';
import { CMS_ERROR_CODES, CmsError, malformed, parseOrThrow } from './cms-errors.ts';
import { readContentInfo, writeContentInfo } from './content-info.ts';
import {
  CONTEXT,
  DEFAULT_MAX_BYTES,
  TAG,
  UNIVERSAL,
  algorithmIdentifier,
  bufferSource,
  children,
  concat,
  contextTag,
  hasTag,
  objectIdentifier,
  octetString,
  octets,
  oidOf,
  parseBer,
  primitive,
  rawBytes,
  sequence,
  setOf,
  smallInteger,
  type DerNode,
} from './der.ts';
import { bytesEqual } from '../pki/bytes.ts';
import { OID, oidName } from './oids.ts';
import { afterUnwrap } from './opening-failure.ts';
import { recipientInfoFor, recipientKind, unwrapContentKey } from './recipients.ts';
import {
  CONTENT_ENCRYPTION,
  type CmsRecipientIdentity,
  type CmsRecipients,
  type ContentEncryption,
  type DecryptOptions,
  type DecryptResult,
  type Der,
  type EncryptOptions,
} from './types.ts';
import { randomBytes, subtle, type CryptoKey } from './webcrypto.ts';

/**
 * EnvelopedData (RFC 5652) with AES-256-CBC and AuthEnvelopedData (RFC 5083/5084) with AES-256-GCM. pkijs has no
 * AuthEnvelopedData (its "GCM in EnvelopedData" is non-standard), so both are read and written here, with pkijs's
 * RecipientInfo structures inside.
 */

const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const CBC_IV_BYTES = 16;

/** The parts of either envelope type, read but not yet checked against the profile. */
export interface ParsedEnvelope {
  contentType: typeof OID.envelopedData | typeof OID.authEnvelopedData;
  recipientInfos: pkijs.RecipientInfo[];
  encryptedContentType: string;
  contentEncryptionAlgorithm: pkijs.AlgorithmIdentifier;
  encryptedContent: Uint8Array<ArrayBuffer> | undefined;
  /** AuthEnvelopedData only: the GCM tag and the authenticated attributes as they were encoded. */
  mac?: Uint8Array<ArrayBuffer>;
  authAttributes?: Uint8Array;
}

/**
 * A RecipientInfo read as the variant its tag names, as pkijs's RecipientInfo does after first comparing the element
 * with a schema of all five variants, built anew for each one (then the variant compares it again): a consult's two
 * recipients took 0.9–1.2 ms to read that way, 0.5–0.6 ms this way. Variants the profile does not use go through
 * pkijs's own.
 */
export function readRecipientInfo(schema: asn1js.AsnType): pkijs.RecipientInfo {
  if (schema.idBlock.tagClass === UNIVERSAL)
    return new pkijs.RecipientInfo({ variant: 1, value: new pkijs.KeyTransRecipientInfo({ schema }) });
  if (hasTag(schema, CONTEXT, 1) && schema.idBlock.isConstructed) {
    const parts = children(schema);
    const value =
      commonKeyAgreement(parts) ?? new pkijs.KeyAgreeRecipientInfo({ schema: new asn1js.Sequence({ value: parts }) });
    return new pkijs.RecipientInfo({ variant: 2, value });
  }
  return new pkijs.RecipientInfo({ schema });
}

/**
 * A KeyAgreeRecipientInfo of the profile's shape built from its parsed elements: version 3, an ephemeral originator
 * key, no ukm, every recipient named by issuer and serial number, each element primitive where the profile's is. pkijs
 * compares it with the schema of every variant of every field, for the whole and again for each part: 340 µs of CPU
 * for each recipient of an envelope opened, against 15 here (a probe, beside asn1js's 130 µs parse of the element). Issuer names repeat (a region has one CA), so each is parsed once. Anything
 * else is undefined, for pkijs to read (recipient-info.test.ts holds the two to each other).
 */
function commonKeyAgreement(parts: readonly asn1js.AsnType[]): pkijs.KeyAgreeRecipientInfo | undefined {
  const [version, originator, keyEncryption, recipients, ...rest] = parts;
  if (rest.length > 0 || !isPrimitive(version, asn1js.Integer, TAG.integer) || version.valueBlock.valueDec !== 3)
    return undefined;
  if (!hasTag(originator, CONTEXT, 0) || !originator.idBlock.isConstructed) return undefined;
  const [key, ...afterKey] = children(originator);
  if (afterKey.length > 0 || !hasTag(key, CONTEXT, 1) || !key.idBlock.isConstructed) return undefined;
  const [keyAlgorithm, publicKey, ...afterPublicKey] = children(key);
  const originatorAlgorithm = plainAlgorithm(keyAlgorithm);
  if (afterPublicKey.length > 0 || !originatorAlgorithm || !isPrimitive(publicKey, asn1js.BitString, TAG.bitString))
    return undefined;
  const keyEncryptionAlgorithm = plainAlgorithm(keyEncryption);
  if (!keyEncryptionAlgorithm || !isSequence(recipients)) return undefined;
  const encryptedKeys: pkijs.RecipientEncryptedKey[] = [];
  for (const entry of children(recipients)) {
    const [rid, encryptedKey, ...afterEncryptedKey] = isSequence(entry) ? children(entry) : [];
    if (afterEncryptedKey.length > 0 || !isSequence(rid)) return undefined;
    if (!isPrimitive(encryptedKey, asn1js.OctetString, TAG.octetString)) return undefined;
    const [issuer, serialNumber, ...afterSerial] = children(rid);
    if (afterSerial.length > 0 || !isSequence(issuer) || !isPrimitive(serialNumber, asn1js.Integer, TAG.integer))
      return undefined;
    const name = parsedName(issuer);
    if (!name) return undefined;
    const value = new pkijs.IssuerAndSerialNumber({ issuer: name, serialNumber });
    encryptedKeys.push(
      new pkijs.RecipientEncryptedKey({
        rid: new pkijs.KeyAgreeRecipientIdentifier({ variant: 1, value }),
        encryptedKey,
      }),
    );
  }
  if (encryptedKeys.length === 0) return undefined;
  return new pkijs.KeyAgreeRecipientInfo({
    version: 3,
    originator: new pkijs.OriginatorIdentifierOrKey({
      variant: 3,
      value: new pkijs.OriginatorPublicKey({ algorithm: originatorAlgorithm, publicKey }),
    }),
    keyEncryptionAlgorithm,
    recipientEncryptedKeys: new pkijs.RecipientEncryptedKeys({ encryptedKeys }),
  });
}

/** Of exactly that universal tag, primitive: asn1js's ENUMERATED is an Integer to `instanceof`, not to pkijs. */
function isPrimitive<T extends asn1js.BaseBlock>(
  block: asn1js.AsnType | undefined,
  type: abstract new (...args: never[]) => T,
  tagNumber: number,
): block is T {
  return block instanceof type && hasTag(block, UNIVERSAL, tagNumber) && !block.idBlock.isConstructed;
}

function isSequence(block: asn1js.AsnType | undefined): block is asn1js.Sequence {
  return block instanceof asn1js.Sequence && hasTag(block, UNIVERSAL, 16) && block.idBlock.isConstructed;
}

/** An AlgorithmIdentifier of an OID and at most one parameter, as pkijs reads it; otherwise undefined. */
function plainAlgorithm(block: asn1js.AsnType | undefined): pkijs.AlgorithmIdentifier | undefined {
  if (!isSequence(block)) return undefined;
  const [oid, params, ...rest] = children(block);
  if (rest.length > 0 || !isPrimitive(oid, asn1js.ObjectIdentifier, TAG.oid)) return undefined;
  return new pkijs.AlgorithmIdentifier({
    algorithmId: oid.valueBlock.toString(),
    ...(params ? { algorithmParams: params } : {}),
  });
}

/**
 * Issuer names parsed lately, by their encoding, each from a copy of its bytes (the envelope's may be reused by its
 * owner); a name pkijs cannot read is undefined, and pkijs then explains.
 */
const parsedNames = new Map<string, pkijs.RelativeDistinguishedNames>();
const NAMES_KEPT = 64;
const NAME_BYTES_AT_MOST = 4096;
const asKey = new TextDecoder('latin1');

function parsedName(block: asn1js.Sequence): pkijs.RelativeDistinguishedNames | undefined {
  const encoded = block.valueBeforeDecodeView;
  if (encoded.byteLength > NAME_BYTES_AT_MOST) return undefined;
  const key = asKey.decode(encoded);
  const kept = parsedNames.get(key);
  if (kept) return kept;
  let name: pkijs.RelativeDistinguishedNames;
  try {
    const copy = new Uint8Array(encoded);
    name = new pkijs.RelativeDistinguishedNames({ schema: parseBer(copy, copy.byteLength, 'A recipient name') });
  } catch {
    return undefined;
  }
  parsedNames.set(key, name);
  if (parsedNames.size > NAMES_KEPT) parsedNames.delete(parsedNames.keys().next().value!);
  return name;
}

export function readEnvelope(contentType: string, body: asn1js.AsnType): ParsedEnvelope {
  if (contentType === OID.signedData) throw malformed('The message is signed but not encrypted');
  if (contentType !== OID.envelopedData && contentType !== OID.authEnvelopedData) {
    throw malformed(`Expected an encrypted message but found ${oidName(contentType)}`);
  }
  const auth = contentType === OID.authEnvelopedData;
  const items = children(body);
  if (!hasTag(body, UNIVERSAL, 16)) throw malformed('The encrypted message is not a sequence');
  let i = 0;
  if (!hasTag(items[i++], UNIVERSAL, TAG.integer)) throw malformed('The encrypted message has no version');
  if (hasTag(items[i], CONTEXT, 0)) i++; // originatorInfo: certificates this profile does not use
  const recipientSet = items[i++];
  if (!hasTag(recipientSet, UNIVERSAL, 17)) throw malformed('The encrypted message has no recipient list');
  const recipientInfos = children(recipientSet).map((schema) =>
    parseOrThrow('A recipient entry', () => readRecipientInfo(schema)),
  );

  const info = items[i++];
  const [type, algorithm, content, ...extra] = info ? children(info) : [];
  if (!hasTag(info, UNIVERSAL, 16) || !algorithm || extra.length > 0 || (content && !hasTag(content, CONTEXT, 0))) {
    throw malformed('The encrypted content info is not well-formed');
  }
  const envelope: ParsedEnvelope = {
    contentType,
    recipientInfos,
    encryptedContentType: oidOf(type, 'The encrypted content info'),
    contentEncryptionAlgorithm: parseOrThrow(
      'The content encryption algorithm',
      () => new pkijs.AlgorithmIdentifier({ schema: algorithm }),
    ),
    encryptedContent: content ? octets(content) : undefined,
  };
  if (auth) {
    const attributes = items[i];
    if (hasTag(attributes, CONTEXT, 1)) {
      envelope.authAttributes = rawBytes(attributes);
      i++;
    }
    const mac = items[i++];
    if (!hasTag(mac, UNIVERSAL, TAG.octetString)) throw malformed('The encrypted message has no authentication tag');
    envelope.mac = octets(mac);
    if (hasTag(items[i], CONTEXT, 2)) i++;
  } else if (hasTag(items[i], CONTEXT, 1)) {
    i++; // unprotectedAttrs carry nothing the profile needs
  }
  if (i !== items.length) throw malformed('The encrypted message has unexpected fields');
  return envelope;
}

interface ContentCipher {
  contentEncryption: ContentEncryption;
  params: AesGcmDecryptParams | AesCbcDecryptParams;
  ciphertext: Uint8Array<ArrayBuffer>;
}
type AesGcmDecryptParams = {
  name: 'AES-GCM';
  iv: Uint8Array<ArrayBuffer>;
  tagLength: number;
  additionalData?: Uint8Array<ArrayBuffer>;
};
type AesCbcDecryptParams = { name: 'AES-CBC'; iv: Uint8Array<ArrayBuffer> };

function unsupportedCipher(oid: string): CmsError {
  return new CmsError(
    CMS_ERROR_CODES.unsupportedAlgorithm,
    `The content encryption ${oidName(oid)} is not accepted here`,
  );
}

/** Checks the content cipher against the profile and returns the Web Crypto parameters to decrypt with. */
function contentCipher(envelope: ParsedEnvelope): ContentCipher {
  const { contentEncryptionAlgorithm: algorithm, encryptedContent } = envelope;
  if (!encryptedContent) throw malformed('The encrypted message does not contain its content');
  const params: unknown = algorithm.algorithmParams;
  if (envelope.contentType === OID.envelopedData) {
    if (algorithm.algorithmId !== OID.aes256Cbc) throw unsupportedCipher(algorithm.algorithmId);
    if (!(params instanceof asn1js.OctetString) || params.valueBlock.valueHexView.byteLength !== CBC_IV_BYTES) {
      throw malformed('The AES-CBC parameters are not a 16-byte IV');
    }
    return {
      contentEncryption: CONTENT_ENCRYPTION.cbc,
      params: { name: 'AES-CBC', iv: octets(params) },
      ciphertext: encryptedContent,
    };
  }

  if (algorithm.algorithmId !== OID.aes256Gcm) throw unsupportedCipher(algorithm.algorithmId);
  // GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }
  const [nonce, icvLength, ...rest] = params instanceof asn1js.Sequence ? params.valueBlock.value : [];
  const tagBytes =
    icvLength === undefined ? 12 : icvLength instanceof asn1js.Integer ? icvLength.valueBlock.valueDec : -1;
  if (!(nonce instanceof asn1js.OctetString) || rest.length > 0 || tagBytes < 12 || tagBytes > 16) {
    throw malformed('The AES-GCM parameters are not well-formed');
  }
  if (nonce.valueBlock.valueHexView.byteLength !== GCM_NONCE_BYTES)
    throw new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, 'Only 12-byte AES-GCM nonces are accepted');
  const mac = envelope.mac ?? new Uint8Array(0);
  if (mac.byteLength !== tagBytes) throw malformed('The authentication tag does not have the declared length');
  const gcm: AesGcmDecryptParams = { name: 'AES-GCM', iv: octets(nonce), tagLength: tagBytes * 8 };
  if (envelope.authAttributes) {
    // RFC 5083: the AAD is the DER of the authenticated attributes under their SET OF tag, not [1].
    const aad = new Uint8Array(envelope.authAttributes);
    aad[0] = TAG.set;
    gcm.additionalData = aad;
  }
  // Web Crypto expects the tag after the ciphertext.
  return { contentEncryption: CONTENT_ENCRYPTION.gcm, params: gcm, ciphertext: concat([encryptedContent, mac]) };
}

/** An envelope whose content key has been unwrapped: what remains is to decrypt the content. */
export interface UnwrappedEnvelope {
  readonly contentEncryption: ContentEncryption;
  /** Every failure from here on is the one opening failure (opening-failure.ts). */
  decryptContent(): Promise<Uint8Array>;
}

const recipientList = (recipients: CmsRecipients): readonly CmsRecipientIdentity[] =>
  'certificate' in recipients ? [recipients] : recipients;

/**
 * Reads an AuthEnvelopedData (AES-256-GCM), or with `allowCbc` an EnvelopedData (AES-256-CBC), addressed to
 * `recipient` (or to one of a list of identities, e.g. a holder's current and earlier certificates), checks it against the profile and unwraps the content key. Failures before the unwrap (structure,
 * algorithms, not a recipient) keep their own codes: they concern the clear-text envelope only.
 */
export async function unwrapEnvelope(
  envelope: Der,
  recipient: CmsRecipients,
  options: DecryptOptions = {},
): Promise<UnwrappedEnvelope> {
  const root = parseBer(envelope, options.maxBytes ?? DEFAULT_MAX_BYTES, 'The encrypted message');
  const { contentType, content } = readContentInfo(root, 'The encrypted message');
  const parsed = readEnvelope(contentType, content);
  // CBC is unauthenticated: decrypting it before the signature inside is checked is what makes padding oracles.
  // Refused before any key is touched, so a good and a bad padding get the same answer.
  if (parsed.contentType === OID.envelopedData && !options.allowCbc) {
    throw new CmsError(
      CMS_ERROR_CODES.unsupportedAlgorithm,
      'EnvelopedData with AES-256-CBC is not accepted (unauthenticated encryption); the sender must use AuthEnvelopedData with AES-256-GCM',
    );
  }
  const cipher = contentCipher(parsed);
  const keys = recipientList(recipient).map((r) => ({
    certificate: parseCertificate(r.certificate, 'The recipient certificate'),
    privateKey: r.privateKey,
  }));
  const key = await unwrapContentKey(parsed.recipientInfos, keys, { name: cipher.params.name });
  return {
    contentEncryption: cipher.contentEncryption,
    decryptContent: () =>
      afterUnwrap(async () => {
        try {
          return new Uint8Array(await subtle().decrypt(cipher.params, key, cipher.ciphertext));
        } catch (error) {
          throw new CmsError(
            CMS_ERROR_CODES.decryptFailed,
            'The encrypted content is damaged or was altered (integrity or padding check failed)',
            { cause: error },
          );
        }
      }),
  };
}

/** Decrypts an AuthEnvelopedData (or, with `allowCbc`, an EnvelopedData) addressed to `recipient` (or one of a list). */
export async function decrypt(
  envelope: Der,
  recipient: CmsRecipients,
  options: DecryptOptions = {},
): Promise<DecryptResult> {
  const unwrapped = await unwrapEnvelope(envelope, recipient, options);
  return { content: await unwrapped.decryptContent(), contentEncryption: unwrapped.contentEncryption };
}

/**
 * Encrypts `content` for every certificate in `recipientCertificates` (duplicates collapse): AuthEnvelopedData with
 * AES-256-GCM by default, EnvelopedData with AES-256-CBC on request.
 */
export async function encrypt(
  content: Uint8Array,
  recipientCertificates: readonly Der[],
  options: EncryptOptions = {},
): Promise<Der> {
  if (!(content instanceof Uint8Array))
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The content to encrypt must be bytes');
  return (await prepareEncryption(recipientCertificates, options))(content);
}

/** Encrypts a content with the content key and recipient entries made beforehand: the envelope, written. */
export type PreparedEncryption = (content: Uint8Array) => Promise<Der>;

/**
 * What an envelope needs before its content is known: the checked recipient certificates, a fresh content key and
 * every recipient's entry for it. seal() makes them while it signs, so that the two sets of thread-pool jobs overlap.
 */
export async function prepareEncryption(
  recipientCertificates: readonly Der[],
  options: EncryptOptions = {},
): Promise<PreparedEncryption> {
  const contentEncryption = options.contentEncryption ?? CONTENT_ENCRYPTION.gcm;
  if (!Object.values<string>(CONTENT_ENCRYPTION).includes(contentEncryption)) {
    throw new CmsError(
      CMS_ERROR_CODES.unsupportedAlgorithm,
      `Unknown content encryption "${String(contentEncryption)}"`,
    );
  }
  // Every certificate is checked before any key is made, so a bad list fails without side effects.
  const recipients: { certificate: pkijs.Certificate; der: Der; kind: PublicKeyKind }[] = [];
  for (const der of recipientCertificates) {
    if (recipients.some((r) => bytesEqual(r.der, der))) continue;
    const certificate = parseCertificate(der, 'A recipient certificate');
    recipients.push({ certificate, der, kind: recipientKind(certificate) });
  }
  if (recipients.length === 0)
    throw new CmsError(CMS_ERROR_CODES.notARecipient, 'An encrypted message needs at least one recipient');

  const gcm = contentEncryption === CONTENT_ENCRYPTION.gcm;
  const contentKey = await subtle().generateKey({ name: gcm ? 'AES-GCM' : 'AES-CBC', length: 256 }, true, ['encrypt']);
  const recipientInfos = setOf(
    ...(await Promise.all(recipients.map((r) => recipientInfoFor(r.certificate, r.kind, contentKey)))),
  );
  // RFC 5652 6.1: version 2 once any RecipientInfo is not version 0 (key agreement is version 3).
  const cbcVersion = recipients.some((r) => r.kind === 'ec-p256') ? 2 : 0;
  return gcm
    ? (content) => encryptGcm(content, contentKey, recipientInfos)
    : (content) => encryptCbc(content, contentKey, recipientInfos, cbcVersion);
}

async function encryptGcm(content: Uint8Array, contentKey: CryptoKey, recipientInfos: DerNode): Promise<Der> {
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const sealed = new Uint8Array(
    await subtle().encrypt(
      { name: 'AES-GCM', iv: nonce, tagLength: GCM_TAG_BYTES * 8 },
      contentKey,
      bufferSource(content),
    ),
  );
  const split = sealed.byteLength - GCM_TAG_BYTES;
  return writeContentInfo(
    OID.authEnvelopedData,
    sequence(
      smallInteger(0),
      recipientInfos,
      sequence(
        objectIdentifier(OID.data),
        algorithmIdentifier(OID.aes256Gcm, sequence(octetString(nonce), smallInteger(GCM_TAG_BYTES))),
        primitive(contextTag(0, false), sealed.subarray(0, split)),
      ),
      octetString(sealed.subarray(split)),
    ),
  );
}

async function encryptCbc(
  content: Uint8Array,
  contentKey: CryptoKey,
  recipientInfos: DerNode,
  version: number,
): Promise<Der> {
  const iv = randomBytes(CBC_IV_BYTES);
  const ciphertext = new Uint8Array(await subtle().encrypt({ name: 'AES-CBC', iv }, contentKey, bufferSource(content)));
  return writeContentInfo(
    OID.envelopedData,
    sequence(
      smallInteger(version),
      recipientInfos,
      sequence(
        objectIdentifier(OID.data),
        algorithmIdentifier(OID.aes256Cbc, octetString(iv)),
        primitive(contextTag(0, false), ciphertext),
      ),
    ),
  );
}
