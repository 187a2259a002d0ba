import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { serialHex, subjectKeyIdentifierOf } from '../pki/certificate.ts';
import { formatName } from '../pki/names.ts';
import {
  importPublicKey,
  issuerAndSerialDer,
  parseCertificate,
  publicKeyKind,
  sameIssuerAndSerial,
  type PublicKeyKind,
} from './certificates.ts';
import { parseTrust, validateSignerChain, type KnownCertificate } from './chain.ts';
import { CMS_ERROR_CODES, CmsError, malformed, parseOrThrow } from './cms-errors.ts';
import { readContentInfo, writeContentInfo } from './content-info.ts';
import { readSignedPartsQuickly, type SignedParts } from './signed-parts.ts';
import {
  CONTEXT,
  DEFAULT_MAX_BYTES,
  DER_NULL,
  TAG,
  UNIVERSAL,
  algorithmIdentifier,
  bufferSource,
  children,
  contextTag,
  derTime,
  encode,
  explicit,
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
  tlv,
  type DerNode,
} from './der.ts';
import { bytesEqual } from '../pki/bytes.ts';
import { OID, oidName } from './oids.ts';
import type { CmsSigner, Der, SignOptions, TrustConfig, VerifyOptions, VerifyResult } from './types.ts';
import { sha256, signBytes, subtle, type CryptoKey, type ProfileKeyAlgorithm } from './webcrypto.ts';

/** A clock ahead of the verifier's by more than this makes the signing time a lie, not skew. */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const P256_COORDINATE_BYTES = 32;

// ---------------------------------------------------------------------------------------------------------------
// Signing

/**
 * ContentInfo(SignedData), content attached as id-data, signed attributes contentType, messageDigest and
 * signingTime, the signer certificate and `chain` embedded. SHA-256 with ECDSA P-256 or RSASSA-PKCS1-v1_5.
 */
export async function sign(content: Uint8Array, signer: CmsSigner, options: SignOptions = {}): Promise<Der> {
  if (!(content instanceof Uint8Array))
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The content to sign must be bytes');
  const { certificate, kind, scheme, issuerAndSerial, chain, ...prepared } = prepareSigner(signer);

  const signingTime = new Date(Math.floor((options.signingTime ?? new Date()).getTime() / 1000) * 1000);
  const digest = await sha256(bufferSource(content));
  const attributes = setOf(
    attribute(OID.contentType, objectIdentifier(OID.data)),
    attribute(OID.signingTime, derTime(signingTime)),
    attribute(OID.messageDigest, octetString(digest)),
  );
  // The signature covers the attributes as a SET OF (RFC 5652 5.4); the SignerInfo carries them under [0].
  const encodedAttributes = encode(attributes);

  const rawSignature = await signBytes(scheme.sign, signer.privateKey, encodedAttributes);
  // The first signature of a signer proves that its key belongs to its certificate; later ones need not repeat it.
  if (!prepared.keyMatches) {
    const publicKey = await importPublicKey(certificate, scheme.import, ['verify']);
    if (!(await subtle().verify(scheme.sign, publicKey, rawSignature, encodedAttributes))) {
      throw new CmsError(CMS_ERROR_CODES.badSignature, 'The signing key does not belong to the signer certificate');
    }
    preparedSigners.set(signer, { ...preparedSigners.get(signer)!, keyMatches: true });
  }
  const signature = kind === 'ec-p256' ? ecdsaRawToDer(rawSignature) : rawSignature;

  const signerInfo = sequence(
    smallInteger(1),
    issuerAndSerial,
    algorithmIdentifier(OID.sha256),
    tlv(contextTag(0, true), ...attributes.parts),
    scheme.algorithm,
    octetString(signature),
  );
  const signedData = sequence(
    smallInteger(1),
    tlv(TAG.set, algorithmIdentifier(OID.sha256)),
    sequence(objectIdentifier(OID.data), explicit(0, octetString(content))),
    tlv(contextTag(0, true), signer.certificate, ...chain),
    tlv(TAG.set, signerInfo),
  );
  return writeContentInfo(OID.signedData, signedData);
}

interface PreparedSigner {
  readonly certificateDer: Uint8Array;
  readonly privateKey: CryptoKey;
  readonly chainDers: readonly Uint8Array[];
  readonly certificate: pkijs.Certificate;
  readonly kind: PublicKeyKind;
  readonly scheme: SigningScheme;
  readonly issuerAndSerial: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly keyMatches: boolean;
}

/**
 * What signing needs from the signer's certificate, worked out once per signer: a hub signs every receipt and update
 * with the same identity, and parsing its certificate each time cost more than the signature itself.
 */
const preparedSigners = new WeakMap<CmsSigner, PreparedSigner>();

function prepareSigner(signer: CmsSigner): PreparedSigner {
  const cached = preparedSigners.get(signer);
  const chain = signer.chain ?? [];
  if (
    cached &&
    cached.certificateDer === signer.certificate &&
    cached.privateKey === signer.privateKey &&
    cached.chainDers === signer.chain
  )
    return cached;
  const certificate = parseCertificate(signer.certificate, 'The signer certificate');
  const kind = publicKeyKind(certificate, 'signer');
  const scheme = signingScheme(signer.privateKey, kind);
  for (const der of chain) parseCertificate(der, 'A chain certificate of the signer'); // embed nothing unreadable
  const prepared: PreparedSigner = {
    certificateDer: signer.certificate,
    privateKey: signer.privateKey,
    chainDers: signer.chain as readonly Uint8Array[],
    certificate,
    kind,
    scheme,
    chain,
    keyMatches: false,
    issuerAndSerial: issuerAndSerialDer(certificate),
  };
  preparedSigners.set(signer, prepared);
  return prepared;
}

function attribute(type: string, value: DerNode): DerNode {
  return sequence(objectIdentifier(type), tlv(TAG.set, value));
}

interface SigningScheme {
  sign: { name: 'ECDSA'; hash: 'SHA-256' } | { name: 'RSASSA-PKCS1-v1_5' };
  import: ProfileKeyAlgorithm;
  algorithm: DerNode;
}

function signingScheme(key: CryptoKey, kind: PublicKeyKind): SigningScheme {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  if (kind === 'ec-p256' && algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') {
    return {
      sign: { name: 'ECDSA', hash: 'SHA-256' },
      import: { name: 'ECDSA', namedCurve: 'P-256' },
      algorithm: algorithmIdentifier(OID.ecdsaWithSha256),
    };
  }
  if (kind === 'rsa' && algorithm.name === 'RSASSA-PKCS1-v1_5' && algorithm.hash?.name === 'SHA-256') {
    return {
      sign: { name: 'RSASSA-PKCS1-v1_5' },
      import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      algorithm: algorithmIdentifier(OID.sha256WithRsa, DER_NULL),
    };
  }
  throw new CmsError(
    CMS_ERROR_CODES.unsupportedAlgorithm,
    'The signing key does not fit the signer certificate (expected ECDSA P-256 or RSASSA-PKCS1-v1_5 with SHA-256; import it with importSigningKey)',
  );
}

function minimalUnsigned(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  if (((trimmed[0] ?? 0) & 0x80) === 0) return trimmed;
  const padded = new Uint8Array(trimmed.length + 1);
  padded.set(trimmed, 1);
  return padded;
}

/** Web Crypto's ECDSA signature is r || s; CMS carries Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.byteLength / 2;
  return encode(
    sequence(
      primitive(TAG.integer, minimalUnsigned(raw.subarray(0, half))),
      primitive(TAG.integer, minimalUnsigned(raw.subarray(half))),
    ),
  );
}

function ecdsaDerToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  const { offset, result } = asn1js.fromBER(bufferSource(der), { maxNodes: 8, maxContentLength: 256 });
  if (offset !== der.byteLength || !(result instanceof asn1js.Sequence)) return undefined;
  const [r, s, ...rest] = result.valueBlock.value;
  if (!(r instanceof asn1js.Integer) || !(s instanceof asn1js.Integer) || rest.length > 0) return undefined;
  const raw = new Uint8Array(2 * P256_COORDINATE_BYTES);
  for (const [index, integer] of [r, s].entries()) {
    const bytes = integer.valueBlock.valueHexView;
    let i = 0;
    while (i < bytes.length && bytes[i] === 0) i++;
    const value = bytes.subarray(i);
    if (value.length > P256_COORDINATE_BYTES) return undefined;
    raw.set(value, (index + 1) * P256_COORDINATE_BYTES - value.length);
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------------------------
// Verification

interface VerificationScheme {
  kind: PublicKeyKind;
  name: string;
  import: ProfileKeyAlgorithm;
  verify: { name: 'ECDSA'; hash: 'SHA-256' } | { name: 'RSASSA-PKCS1-v1_5' } | { name: 'RSA-PSS'; saltLength: number };
}

function rejectSha1(what: string): never {
  throw new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, `${what} uses SHA-1, which is not accepted`);
}

function verificationScheme(algorithm: pkijs.AlgorithmIdentifier): VerificationScheme {
  const oid = algorithm.algorithmId;
  switch (oid) {
    case OID.ecdsaWithSha256:
    case OID.ecPublicKey: // older signers name the key type; the digest algorithm (SHA-256, checked) gives the hash
      return {
        kind: 'ec-p256',
        name: 'ECDSA-SHA256',
        import: { name: 'ECDSA', namedCurve: 'P-256' },
        verify: { name: 'ECDSA', hash: 'SHA-256' },
      };
    case OID.sha256WithRsa:
    case OID.rsaEncryption:
      return {
        kind: 'rsa',
        name: 'RSASSA-PKCS1-v1_5-SHA256',
        import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        verify: { name: 'RSASSA-PKCS1-v1_5' },
      };
    case OID.rsassaPss: {
      const params = parseOrThrow(
        'The RSA-PSS parameters',
        () => new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams }),
      );
      const mgfHash = parseOrThrow(
        'The RSA-PSS mask generation',
        () => new pkijs.AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }),
      );
      if (params.hashAlgorithm.algorithmId === OID.sha1 || mgfHash.algorithmId === OID.sha1)
        rejectSha1('The RSA-PSS signature');
      if (
        params.hashAlgorithm.algorithmId !== OID.sha256 ||
        params.maskGenAlgorithm.algorithmId !== OID.mgf1 ||
        mgfHash.algorithmId !== OID.sha256 ||
        params.trailerField !== 1
      ) {
        throw new CmsError(
          CMS_ERROR_CODES.unsupportedAlgorithm,
          'The RSA-PSS signature uses parameters other than SHA-256 with MGF1-SHA-256',
        );
      }
      return {
        kind: 'rsa',
        name: 'RSASSA-PSS-SHA256',
        import: { name: 'RSA-PSS', hash: 'SHA-256' },
        verify: { name: 'RSA-PSS', saltLength: params.saltLength },
      };
    }
    case OID.sha1WithRsa:
    case OID.ecdsaWithSha1:
      return rejectSha1('The signature');
    default:
      throw new CmsError(
        CMS_ERROR_CODES.unsupportedAlgorithm,
        `The signature algorithm ${oidName(oid)} is not accepted`,
      );
  }
}

function singleAttribute(signerInfo: pkijs.SignerInfo, type: string): unknown {
  const matches = signerInfo.signedAttrs?.attributes.filter((a) => a.type === type) ?? [];
  // pkijs leaves `values` undefined for an attribute whose SET it could not read.
  const values: readonly unknown[] | undefined = matches[0]?.values;
  if (matches.length !== 1 || values?.length !== 1) {
    throw new CmsError(CMS_ERROR_CODES.malformed, `The signature must carry exactly one ${oidName(type)} attribute`);
  }
  return values[0];
}

function readSigningTime(value: unknown): Date {
  if (value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime) {
    const date = value.toDate();
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new CmsError(CMS_ERROR_CODES.malformed, 'The signing time attribute is not a valid time');
}

/** The parts of a SignedData, read but not yet checked against the profile. */
export interface ParsedSignedData {
  digestAlgorithms: pkijs.AlgorithmIdentifier[];
  eContentType: string;
  /** The OCTET STRING inside [0] EXPLICIT, absent for a detached signature. */
  eContent: asn1js.AsnType | undefined;
  certificates: KnownCertificate[];
  signerInfos: pkijs.SignerInfo[];
}

/**
 * Walks a SignedData (RFC 5652 5.1) with pkijs for the SignerInfos and certificates only: pkijs's own SignedData
 * would parse every certificate a second time.
 */
export function readSignedData(block: asn1js.AsnType): ParsedSignedData {
  const items = children(block);
  if (!hasTag(block, UNIVERSAL, 16)) throw malformed('The signed message is not a sequence');
  let i = 0;
  if (!hasTag(items[i++], UNIVERSAL, TAG.integer)) throw malformed('The signed message has no version');
  const digestSet = items[i++];
  if (!hasTag(digestSet, UNIVERSAL, 17)) throw malformed('The signed message has no digest algorithm list');
  const encapsulated = items[i++];
  const [type, wrapper, ...extra] = encapsulated ? children(encapsulated) : [];
  if (!hasTag(encapsulated, UNIVERSAL, 16) || extra.length > 0 || (wrapper && !hasTag(wrapper, CONTEXT, 0))) {
    throw malformed('The signed content info is not well-formed');
  }
  const certificateSet = hasTag(items[i], CONTEXT, 0) ? items[i++] : undefined;
  if (hasTag(items[i], CONTEXT, 1)) i++; // CRLs travel in the trust configuration, not in messages
  const signerSet = items[i++];
  if (!hasTag(signerSet, UNIVERSAL, 17) || i !== items.length)
    throw malformed('The signed message has no signer list where expected');
  return {
    digestAlgorithms: children(digestSet).map((schema) =>
      parseOrThrow('A digest algorithm', () => new pkijs.AlgorithmIdentifier({ schema })),
    ),
    eContentType: oidOf(type, 'The signed content info'),
    eContent: wrapper ? children(wrapper)[0] : undefined,
    certificates: (certificateSet ? children(certificateSet) : [])
      .filter((item) => hasTag(item, UNIVERSAL, 16)) // other certificate formats are of no use here
      .map((item) => {
        // Through the cache of parsed certificates: every consult from a practitioner carries the same ones.
        const der = rawBytes(item);
        return { certificate: parseCertificate(der, 'A certificate in the signed message'), der };
      }),
    signerInfos: children(signerSet).map((schema) =>
      parseOrThrow('A signer entry', () => new pkijs.SignerInfo({ schema })),
    ),
  };
}

/** A signed message's parts by the full BER reader: any encoding, every error explained. */
export function readSignedParts(signedData: Der, maxBytes: number): SignedParts {
  const root = parseBer(signedData, maxBytes, 'The signed message');
  const { contentType, content: inner } = readContentInfo(root, 'The signed message');
  if (contentType !== OID.signedData) {
    throw new CmsError(CMS_ERROR_CODES.malformed, `Expected a signed message but found ${oidName(contentType)}`);
  }
  const { eContentType, eContent, certificates, signerInfos } = readSignedData(inner);
  return {
    eContentType,
    content: () => eContent && parseOrThrow('The signed content', () => octets(eContent)),
    certificates,
    signerInfos,
  };
}

function findSignerCertificate(
  signerInfo: pkijs.SignerInfo,
  candidates: readonly KnownCertificate[],
): KnownCertificate | undefined {
  const sid: unknown = signerInfo.sid;
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return candidates.find(({ certificate }) => sameIssuerAndSerial(certificate, sid.issuer, sid.serialNumber));
  }
  if (sid instanceof asn1js.BaseBlock) {
    // [0] SubjectKeyIdentifier, parsed by pkijs as a context-specific primitive
    const keyId = octets(sid);
    return candidates.find(({ certificate }) => {
      const ski = subjectKeyIdentifierOf(certificate);
      return ski !== undefined && bytesEqual(ski, keyId);
    });
  }
  return undefined;
}

/**
 * Checks an attached SignedData from the profile and returns its content and who signed it. With `copyContent`
 * false the returned content is a view into `signedData` (for callers that own that buffer).
 */
export async function verifySignedData(
  signedData: Der,
  trust: TrustConfig,
  options: VerifyOptions,
  copyContent: boolean,
): Promise<VerifyResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const now = options.now ?? new Date();
  const sd = readSignedPartsQuickly(bufferSource(signedData), maxBytes) ?? readSignedParts(signedData, maxBytes);

  const [signerInfo, ...others] = sd.signerInfos;
  if (!signerInfo || others.length > 0)
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The signed message must carry exactly one signature');
  const digestAlgorithm = signerInfo.digestAlgorithm.algorithmId;
  if (digestAlgorithm === OID.sha1) rejectSha1('The signature digest');
  if (digestAlgorithm !== OID.sha256) {
    throw new CmsError(
      CMS_ERROR_CODES.unsupportedAlgorithm,
      `The signature digest ${oidName(digestAlgorithm)} is not accepted (only SHA-256)`,
    );
  }
  const scheme = verificationScheme(signerInfo.signatureAlgorithm);

  if (sd.eContentType !== OID.data) {
    throw new CmsError(
      CMS_ERROR_CODES.malformed,
      `The signed content is of type ${oidName(sd.eContentType)}, not data`,
    );
  }
  const content = sd.content();
  if (!content)
    throw new CmsError(
      CMS_ERROR_CODES.malformed,
      'The signed message does not contain its content (detached signature)',
    );
  if (!signerInfo.signedAttrs) throw new CmsError(CMS_ERROR_CODES.malformed, 'The signature has no signed attributes');

  const declaredType = singleAttribute(signerInfo, OID.contentType);
  if (!(declaredType instanceof asn1js.ObjectIdentifier) || declaredType.valueBlock.toString() !== OID.data) {
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The signed content type attribute does not match the content');
  }
  const declaredDigest = singleAttribute(signerInfo, OID.messageDigest);
  if (!(declaredDigest instanceof asn1js.OctetString))
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The message digest attribute is not an octet string');
  const signingTime = readSigningTime(singleAttribute(signerInfo, OID.signingTime));

  const trusted = parseTrust(trust);
  const signerCertificate = findSignerCertificate(signerInfo, [
    ...sd.certificates,
    ...trusted.intermediates,
    ...trusted.anchors,
  ]);
  if (!signerCertificate)
    throw new CmsError(
      CMS_ERROR_CODES.untrustedChain,
      'The signer certificate is neither in the message nor in the trust configuration',
    );
  const { certificate } = signerCertificate;
  if (publicKeyKind(certificate, 'signer') !== scheme.kind) {
    throw new CmsError(
      CMS_ERROR_CODES.badSignature,
      'The signature algorithm does not match the signer certificate key',
    );
  }

  const digest = await sha256(content);
  if (!bytesEqual(digest, declaredDigest.valueBlock.valueHexView)) {
    throw new CmsError(
      CMS_ERROR_CODES.badSignature,
      'The content does not match its signature (it was altered after signing)',
    );
  }
  const toBeVerified = new Uint8Array(signerInfo.signedAttrs.encodedValue);
  toBeVerified[0] = TAG.set;
  const signatureBytes = signerInfo.signature.valueBlock.valueHexView;
  const signature = scheme.kind === 'ec-p256' ? ecdsaDerToRaw(signatureBytes) : bufferSource(signatureBytes);
  const publicKey = await importPublicKey(certificate, scheme.import, ['verify']);
  if (!signature || !(await subtle().verify(scheme.verify, publicKey, signature, toBeVerified))) {
    throw new CmsError(CMS_ERROR_CODES.badSignature, 'The signature is not valid for the signer certificate');
  }

  if (signingTime.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new CmsError(
      CMS_ERROR_CODES.signingTimeInvalid,
      `The signing time ${signingTime.toISOString()} lies in the future`,
    );
  }
  const timeProblem = options.signingTimeProblem?.(signingTime);
  if (timeProblem) throw new CmsError(CMS_ERROR_CODES.signingTimeInvalid, timeProblem);
  await validateSignerChain(
    certificate,
    sd.certificates.map((known) => known.certificate),
    trusted,
    signingTime,
    undefined,
    now,
  );

  return {
    content: copyContent ? content.slice() : content,
    signer: {
      certificate: signerCertificate.der.slice(),
      subject: formatName(certificate.subject),
      serialNumber: serialHex(certificate.serialNumber),
      signingTime,
      signatureAlgorithm: scheme.name,
    },
  };
}

export function verify(signedData: Der, trust: TrustConfig, options: VerifyOptions = {}): Promise<VerifyResult> {
  return verifySignedData(signedData, trust, options, true);
}
