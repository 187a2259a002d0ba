import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual } from '../pki/bytes.ts';
import { parseCertificate } from './certificates.ts';
import type { KnownCertificate } from './chain.ts';
import { isCmsError, parseOrThrow } from './cms-errors.ts';
import { derChildren, readDer, type DerElement } from './der-walk.ts';
import { algorithmIdentifier, DER_NULL, encode, objectIdentifier, parseBer } from './der.ts';
import { OID } from './oids.ts';

/** What verifying a signed message reads of it. */
export interface SignedParts {
  readonly eContentType: string;
  /** The content octets (a view into the message), undefined for a detached signature; throws if unreadable. */
  readonly content: () => Uint8Array<ArrayBuffer> | undefined;
  readonly certificates: KnownCertificate[];
  readonly signerInfos: pkijs.SignerInfo[];
}

const SIGNED_DATA = encode(objectIdentifier(OID.signedData));
const DATA = encode(objectIdentifier(OID.data));
/** Beyond this the full reader decides: its node budget covers the whole message at once. */
const MAX_CERTIFICATES = 8;
const [INTEGER, OCTET_STRING, OBJECT_IDENTIFIER, SEQUENCE, SET, CONTEXT_0] = [0x02, 0x04, 0x06, 0x30, 0x31, 0xa0];

/** The profile's algorithm identifiers as signers write them (SHA-2 without parameters, or with NULL), as pkijs reads them. */
const COMMON_ALGORITHMS = [
  ...[OID.sha256, OID.ecdsaWithSha256, OID.sha256WithRsa].map((algorithmId) => ({
    der: encode(algorithmIdentifier(algorithmId)),
    algorithmId,
    nullParameters: false,
  })),
  ...[OID.sha256, OID.sha256WithRsa].map((algorithmId) => ({
    der: encode(algorithmIdentifier(algorithmId, DER_NULL)),
    algorithmId,
    nullParameters: true,
  })),
];
/** The signed attributes every signer of the profile writes (signed-data.ts `sign`), each once. */
const COMMON_ATTRIBUTES = [OID.contentType, OID.signingTime, OID.messageDigest].map((oid) => ({
  der: encode(objectIdentifier(oid)),
  oid,
}));

/**
 * Reads a signed message of the common shape (plain DER, attached id-data content, certificates, no CRLs) without
 * building asn1js's tree of all of it: the certificates go to the parse cache as bytes, the content is a view, and
 * only the small parts pkijs reads (digest algorithms, signer infos) are parsed, each by parseBer as the full reader
 * would. Anything else is `undefined`, for the full reader to decide and explain; what this accepts, that one accepts
 * too and reads the same (signed-parts.test.ts). A 2 KB receipt took 1.9 ms to verify, half of it in asn1js walking
 * the certificate inside.
 */
export function readSignedPartsQuickly(der: Uint8Array<ArrayBuffer>, maxBytes: number): SignedParts | undefined {
  if (der.byteLength > maxBytes) return undefined;
  let parts: ReturnType<typeof locate>;
  try {
    parts = locate(der);
  } catch {
    return undefined; // not plain DER: the full reader's
  }
  if (!parts) return undefined;
  const { content, certificates, digestAlgorithms, signerInfos } = parts;
  try {
    for (const element of digestAlgorithms) {
      if (commonAlgorithm(der, element)) continue;
      const schema = parseBer(bytesOf(der, element), maxBytes, 'A digest algorithm');
      parseOrThrow('A digest algorithm', () => new pkijs.AlgorithmIdentifier({ schema }));
    }
    const known = certificates.map((element) => {
      const bytes = bytesOf(der, element);
      return { certificate: parseCertificate(bytes, 'A certificate in the signed message'), der: bytes };
    });
    return {
      eContentType: OID.data,
      content: () => content,
      certificates: known,
      signerInfos: signerInfos.map((element) => {
        const common = commonSignerInfo(der, element, known, maxBytes);
        if (common) return common;
        const schema = parseBer(bytesOf(der, element), maxBytes, 'A signer entry');
        return parseOrThrow('A signer entry', () => new pkijs.SignerInfo({ schema }));
      }),
    };
  } catch (error) {
    // A part this reader refuses, the full reader refuses too, but it may name another reason (a damaged length reads
    // as too large to one and as malformed to the other): it decides and explains, as for any other shape.
    if (isCmsError(error)) return undefined;
    throw error;
  }
}

const bytesOf = (der: Uint8Array, element: DerElement) => der.subarray(element.start, element.end);
/** A copy of its own: `slice` of a Node Buffer (as readFileSync gives one) is a view into the caller's bytes. */
const copyOf = (der: Uint8Array, start: number, end: number) => new Uint8Array(der.subarray(start, end));

function commonAlgorithm(der: Uint8Array, element: DerElement | undefined): pkijs.AlgorithmIdentifier | undefined {
  if (!element) return undefined;
  const bytes = bytesOf(der, element);
  const common = COMMON_ALGORITHMS.find((algorithm) => bytesEqual(algorithm.der, bytes));
  if (!common) return undefined;
  return new pkijs.AlgorithmIdentifier({
    algorithmId: common.algorithmId,
    ...(common.nullParameters ? { algorithmParams: new asn1js.Null() } : {}),
  });
}

/**
 * A SignerInfo of the profile's shape, built from its DER without pkijs's parse, which makes its schema of a few hundred
 * asn1js blocks for every signer: 400 µs of CPU to read a signed receipt's parts, most of it that schema, against
 * 45–110 here (bench/cms-signed-parts.bench.ts). The shape: version 1; the issuer and serial number of a certificate
 * the message carries, its issuer's name byte for byte (that certificate's parsed name stands for it); SHA-256;
 * contentType, signingTime and messageDigest, once each with one value; ECDSA or RSA PKCS #1 v1.5 with SHA-256; the
 * signature; nothing after it. Anything else is undefined, for pkijs to read. Each attribute value is parsed as the full
 * reader parses it; what that refuses throws.
 */
function commonSignerInfo(
  der: Uint8Array,
  element: DerElement,
  certificates: readonly KnownCertificate[],
  maxBytes: number,
): pkijs.SignerInfo | undefined {
  let fields: DerElement[];
  let sidFields: DerElement[];
  let attributes: { type: string; values: DerElement[] }[];
  try {
    if (!is(element, SEQUENCE)) return undefined;
    fields = derChildren(der, element);
    const [version, sid, , signedAttributes, , signature] = fields;
    if (fields.length !== 6 || !is(version, INTEGER) || !is(sid, SEQUENCE) || !is(signature, OCTET_STRING))
      return undefined;
    if (version.end - version.contentStart !== 1 || der[version.contentStart] !== 1) return undefined;
    if (!is(signedAttributes, CONTEXT_0)) return undefined;
    sidFields = derChildren(der, sid);
    attributes = derChildren(der, signedAttributes).map((attribute) => {
      const [type, set, ...rest] = is(attribute, SEQUENCE) ? derChildren(der, attribute) : [];
      const common = type && COMMON_ATTRIBUTES.find((a) => bytesEqual(a.der, bytesOf(der, type)));
      if (!common || !is(set, SET) || rest.length > 0) throw new Error('not a common attribute');
      return { type: common.oid, values: derChildren(der, set) };
    });
  } catch {
    return undefined; // not plain DER of the common shape
  }
  const [, , digest, signedAttributes, signatureAlgorithm, signature] = fields as [
    DerElement,
    DerElement,
    DerElement,
    DerElement,
    DerElement,
    DerElement,
  ];
  const [issuer, serial, ...afterSerial] = sidFields;
  if (!is(issuer, SEQUENCE) || !is(serial, INTEGER) || afterSerial.length > 0) return undefined;
  const types = new Set(attributes.map((a) => a.type));
  if (types.size !== COMMON_ATTRIBUTES.length || attributes.length !== types.size) return undefined;
  if (attributes.some((a) => a.values.length !== 1)) return undefined;
  const digestAlgorithm = commonAlgorithm(der, digest);
  const signatureAlgorithmIdentifier = commonAlgorithm(der, signatureAlgorithm);
  if (digestAlgorithm?.algorithmId !== OID.sha256 || !signatureAlgorithmIdentifier) return undefined;
  const issuerBytes = bytesOf(der, issuer);
  // pkijs keeps each parsed name's encoding: the certificates are parsed (and kept) already.
  const named = certificates.find((known) =>
    bytesEqual(new Uint8Array(known.certificate.issuer.valueBeforeDecode), issuerBytes),
  );
  if (!named) return undefined;

  const encodedValue = copyOf(der, signedAttributes.start, signedAttributes.end);
  encodedValue[0] = SET; // as pkijs keeps it: the SET OF the signature covers
  return new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({
      issuer: named.certificate.issuer,
      serialNumber: new asn1js.Integer({ valueHex: copyOf(der, serial.contentStart, serial.end) }),
    }),
    digestAlgorithm,
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: attributes.map(
        ({ type, values }) =>
          new pkijs.Attribute({
            type,
            values: values.map((value) => parseBer(bytesOf(der, value), maxBytes, 'A signer entry')),
          }),
      ),
      encodedValue: encodedValue.buffer,
    }),
    signatureAlgorithm: signatureAlgorithmIdentifier,
    signature: new asn1js.OctetString({ valueHex: copyOf(der, signature.contentStart, signature.end) }),
  });
}
const is = (element: DerElement | undefined, tag: number): element is DerElement => element?.tag === tag;

/** Where the parts are, if the message has the common shape; throws on what is not plain DER. */
function locate(der: Uint8Array<ArrayBuffer>) {
  const root = readDer(der, 0, SEQUENCE);
  if (root.end !== der.byteLength) return undefined;
  const [type, wrapper, ...afterContent] = derChildren(der, root);
  if (!is(type, OBJECT_IDENTIFIER) || !bytesEqual(bytesOf(der, type), SIGNED_DATA) || !is(wrapper, CONTEXT_0))
    return undefined;
  const [signedData, ...afterSignedData] = derChildren(der, wrapper);
  if (afterContent.length > 0 || !is(signedData, SEQUENCE) || afterSignedData.length > 0) return undefined;

  const items = derChildren(der, signedData);
  const [version, digestSet, encapsulated] = items;
  let i = 3;
  const certificateSet = is(items[i], CONTEXT_0) ? items[i++] : undefined;
  const signerSet = items[i++];
  if (!is(version, INTEGER) || !is(digestSet, SET) || !is(encapsulated, SEQUENCE) || !is(signerSet, SET))
    return undefined;
  if (i !== items.length) return undefined; // a CRL set among them, say

  const [eType, eWrapper, ...afterEContent] = derChildren(der, encapsulated);
  if (!is(eType, OBJECT_IDENTIFIER) || !bytesEqual(bytesOf(der, eType), DATA) || afterEContent.length > 0)
    return undefined;
  let content: Uint8Array<ArrayBuffer> | undefined;
  if (eWrapper) {
    if (!is(eWrapper, CONTEXT_0)) return undefined;
    const [octets, ...afterOctets] = derChildren(der, eWrapper);
    if (!is(octets, OCTET_STRING) || afterOctets.length > 0) return undefined;
    content = der.subarray(octets.contentStart, octets.end);
  }

  const certificates = certificateSet ? derChildren(der, certificateSet) : [];
  if (certificates.length > MAX_CERTIFICATES || !certificates.every((element) => is(element, SEQUENCE)))
    return undefined;
  return {
    content,
    certificates,
    digestAlgorithms: derChildren(der, digestSet),
    signerInfos: derChildren(der, signerSet),
  };
}
