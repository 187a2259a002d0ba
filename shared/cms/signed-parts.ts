import * as pkijs from 'pkijs';
import { bytesEqual } from '../pki/bytes.ts';
import { parseCertificate } from './certificates.ts';
import type { KnownCertificate } from './chain.ts';
import { isCmsError, parseOrThrow } from './cms-errors.ts';
import { derChildren, readDer, type DerElement } from './der-walk.ts';
import { encode, objectIdentifier, parseBer } from './der.ts';
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
      const schema = parseBer(bytesOf(der, element), maxBytes, 'A digest algorithm');
      parseOrThrow('A digest algorithm', () => new pkijs.AlgorithmIdentifier({ schema }));
    }
    return {
      eContentType: OID.data,
      content: () => content,
      certificates: certificates.map((element) => {
        const bytes = bytesOf(der, element);
        return { certificate: parseCertificate(bytes, 'A certificate in the signed message'), der: bytes };
      }),
      signerInfos: signerInfos.map((element) => {
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
