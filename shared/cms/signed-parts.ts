import * as pkijs from 'pkijs';
import { bytesEqual } from '../pki/bytes.ts';
import { parseCertificate } from './certificates.ts';
import type { KnownCertificate } from './chain.ts';
import { parseOrThrow } from './cms-errors.ts';
import { isSpan, spanBytes, spansIn, wholeSpan } from './der-spans.ts';
import { CONTEXT, TAG, UNIVERSAL, encode, objectIdentifier, parseBer } from './der.ts';
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
const [SEQUENCE, SET] = [16, 17];

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
  const root = wholeSpan(der);
  const [type, wrapper, ...afterContent] = spansIn(der, root) ?? [];
  if (
    !isSpan(root, UNIVERSAL, SEQUENCE, true) ||
    !isSpan(type, UNIVERSAL, TAG.oid, false) ||
    !bytesEqual(spanBytes(der, type), SIGNED_DATA) ||
    !isSpan(wrapper, CONTEXT, 0, true) ||
    afterContent.length > 0
  )
    return undefined;
  const [signedData, ...afterSignedData] = spansIn(der, wrapper) ?? [];
  const items = spansIn(der, signedData);
  if (!isSpan(signedData, UNIVERSAL, SEQUENCE, true) || afterSignedData.length > 0 || !items) return undefined;

  const [version, digestSet, encapsulated] = items;
  let i = 3;
  const certificateSet = isSpan(items[i], CONTEXT, 0, true) ? items[i++] : undefined;
  const signerSet = items[i++];
  if (
    !isSpan(version, UNIVERSAL, TAG.integer, false) ||
    !isSpan(digestSet, UNIVERSAL, SET, true) ||
    !isSpan(encapsulated, UNIVERSAL, SEQUENCE, true) ||
    !isSpan(signerSet, UNIVERSAL, SET, true) ||
    i !== items.length // a CRL set among them, say
  )
    return undefined;

  const [eType, eWrapper, ...afterEContent] = spansIn(der, encapsulated) ?? [];
  if (!isSpan(eType, UNIVERSAL, TAG.oid, false) || !bytesEqual(spanBytes(der, eType), DATA) || afterEContent.length)
    return undefined;
  let content: Uint8Array<ArrayBuffer> | undefined;
  if (eWrapper) {
    const [octets, ...afterOctets] = spansIn(der, eWrapper) ?? [];
    if (!isSpan(eWrapper, CONTEXT, 0, true) || !isSpan(octets, UNIVERSAL, TAG.octetString, false) || afterOctets.length)
      return undefined;
    content = der.subarray(octets.contentStart, octets.end);
  }

  const certificateSpans = certificateSet ? spansIn(der, certificateSet) : [];
  const digestSpans = spansIn(der, digestSet);
  const signerSpans = spansIn(der, signerSet);
  if (
    !certificateSpans ||
    certificateSpans.length > MAX_CERTIFICATES ||
    !certificateSpans.every((span) => isSpan(span, UNIVERSAL, SEQUENCE, true)) ||
    !digestSpans ||
    !signerSpans
  )
    return undefined;

  for (const span of digestSpans) {
    const schema = parseBer(spanBytes(der, span), maxBytes, 'A digest algorithm');
    parseOrThrow('A digest algorithm', () => new pkijs.AlgorithmIdentifier({ schema }));
  }
  return {
    eContentType: OID.data,
    content: () => content,
    certificates: certificateSpans.map((span) => {
      const bytes = spanBytes(der, span);
      return { certificate: parseCertificate(bytes, 'A certificate in the signed message'), der: bytes };
    }),
    signerInfos: signerSpans.map((span) => {
      const schema = parseBer(spanBytes(der, span), maxBytes, 'A signer entry');
      return parseOrThrow('A signer entry', () => new pkijs.SignerInfo({ schema }));
    }),
  };
}
