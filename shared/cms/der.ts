import * as asn1js from 'asn1js';
import { CMS_ERROR_CODES, CmsError, parseOrThrow } from './cms-errors.ts';

/**
 * A minimal DER writer and a bounded BER reader.
 *
 * The writer exists because asn1js re-copies every nested value on encoding (and pkijs splits large contents byte by
 * byte): for a 20 MB message that is several full copies. Here a tree of parts is measured once and written once
 * into a single buffer, so the content is copied exactly one time.
 */

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Tag byte of a context-specific [n] element (n < 31). */
export function contextTag(n: number, constructed: boolean): number {
  return (constructed ? 0xa0 : 0x80) | n;
}

/** Already-encoded bytes (a whole element) or an element still to be written. */
export type DerPart = Uint8Array | DerNode;

export interface DerNode {
  readonly tag: number;
  readonly parts: readonly DerPart[];
  readonly contentLength: number;
}

function lengthOfLength(length: number): number {
  if (length < 0x80) return 1;
  let bytes = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes++;
  return 1 + bytes;
}

function encodedLength(part: DerPart): number {
  if (part instanceof Uint8Array) return part.byteLength;
  return 1 + lengthOfLength(part.contentLength) + part.contentLength;
}

export function tlv(tag: number, ...parts: DerPart[]): DerNode {
  let contentLength = 0;
  for (const part of parts) contentLength += encodedLength(part);
  return { tag, parts, contentLength };
}

function write(out: Uint8Array, offset: number, part: DerPart): number {
  if (part instanceof Uint8Array) {
    out.set(part, offset);
    return offset + part.byteLength;
  }
  out[offset++] = part.tag;
  const length = part.contentLength;
  if (length < 0x80) {
    out[offset++] = length;
  } else {
    const size = lengthOfLength(length) - 1;
    out[offset++] = 0x80 | size;
    for (let i = size - 1; i >= 0; i--) out[offset++] = Math.floor(length / 256 ** i) % 256;
  }
  for (const child of part.parts) offset = write(out, offset, child);
  return offset;
}

export function encode(part: DerPart): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(encodedLength(part));
  write(out, 0, part);
  return out;
}

export function sequence(...parts: DerPart[]): DerNode {
  return tlv(TAG.sequence, ...parts);
}

/** SET OF in DER order: the encodings sorted as octet strings (X.690 11.6). */
export function setOf(...parts: DerPart[]): DerNode {
  const encoded = parts.map((part) => (part instanceof Uint8Array ? part : encode(part)));
  encoded.sort(compareBytes);
  return tlv(TAG.set, ...encoded);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.byteLength - b.byteLength;
}

/** A primitive element whose content is `content` as it is. */
export function primitive(tag: number, content: Uint8Array): DerNode {
  return { tag, parts: [content], contentLength: content.byteLength };
}

export function octetString(content: Uint8Array): DerNode {
  return primitive(TAG.octetString, content);
}

export function explicit(n: number, ...parts: DerPart[]): DerNode {
  return tlv(contextTag(n, true), ...parts);
}

export function smallInteger(value: number): DerNode {
  if (!Number.isInteger(value) || value < 0 || value > 127) throw new RangeError('only 0..127 are written here');
  return primitive(TAG.integer, Uint8Array.of(value));
}

/** The OIDs written are our own few constants, over and over (every signature names the same ones): each once. */
const encodedOids = new Map<string, DerNode>();

export function objectIdentifier(dotted: string): DerNode {
  let node = encodedOids.get(dotted);
  if (!node) {
    node = encodeObjectIdentifier(dotted);
    if (encodedOids.size < 1000) encodedOids.set(dotted, node);
  }
  return node;
}

function encodeObjectIdentifier(dotted: string): DerNode {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v % 128));
    bytes.push(...groups);
  }
  return primitive(TAG.oid, Uint8Array.from(bytes));
}

/** AlgorithmIdentifier; `parameters` undefined means absent (the SHA-2 convention), not NULL. */
export function algorithmIdentifier(oid: string, parameters?: DerPart): DerNode {
  return parameters === undefined ? sequence(objectIdentifier(oid)) : sequence(objectIdentifier(oid), parameters);
}

export const DER_NULL: Uint8Array = Uint8Array.of(TAG.null, 0);

/** Time as RFC 5280 wants it: UTCTime for 1950-2049, GeneralizedTime otherwise; whole seconds, UTC. */
export function derTime(date: Date): DerNode {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  const text = year >= 1950 && year < 2050 ? digits.slice(2) : digits;
  return primitive(year >= 1950 && year < 2050 ? TAG.utcTime : TAG.generalizedTime, new TextEncoder().encode(text));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** The protocol's message limit; callers may lower it per call. */
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/**
 * asn1js counts every element; a legitimate message has few (a BER-streamed content in 1 KiB chunks is the most
 * numerous case), while a hostile one can pack an element every two bytes. One per 256 bytes of the limit, and never
 * below asn1js's own default, admits the former and keeps the latter cheap.
 */
function nodeLimit(maxBytes: number): number {
  return Math.max(10_000, Math.ceil(maxBytes / 256));
}

/** Web Crypto and asn1js want views over a plain ArrayBuffer; copy only when the caller's is shared. */
export function bufferSource(view: Uint8Array): Uint8Array<ArrayBuffer> {
  return view.buffer instanceof ArrayBuffer ? (view as Uint8Array<ArrayBuffer>) : new Uint8Array(view);
}

/**
 * Parses one BER element that must span the whole input. Nothing is copied: values are views into `input`, so the
 * caller must not change `input` while it uses the result.
 */
export function parseBer(input: Uint8Array, maxBytes: number, what: string): asn1js.AsnType {
  if (!(input instanceof Uint8Array)) throw new CmsError(CMS_ERROR_CODES.malformed, `${what} must be given as bytes`);
  if (input.byteLength > maxBytes) {
    throw new CmsError(
      CMS_ERROR_CODES.tooLarge,
      `${what} is ${input.byteLength} bytes, more than the limit of ${maxBytes}`,
    );
  }
  // asn1js reports most damage as offset -1, but throws on some (e.g. an empty or non-numeric GeneralizedTime).
  const { offset, result } = parseOrThrow(what, () =>
    asn1js.fromBER(bufferSource(input), {
      maxContentLength: maxBytes,
      maxNodes: nodeLimit(maxBytes),
      parseEmbedded: false,
      copyInput: false,
    }),
  );
  if (offset === -1) {
    const reason = firstError(result);
    if (/Maximum ASN\.1 (node count|content length)/.test(reason)) {
      throw new CmsError(CMS_ERROR_CODES.tooLarge, `${what} exceeds the size limits of this endpoint`);
    }
    throw new CmsError(CMS_ERROR_CODES.malformed, `${what} is not valid DER/BER (truncated or not CMS)`);
  }
  if (offset !== input.byteLength) {
    throw new CmsError(
      CMS_ERROR_CODES.malformed,
      `${what} has ${input.byteLength - offset} unexpected bytes after its end`,
    );
  }
  if (!lengthsNest(result)) {
    throw new CmsError(CMS_ERROR_CODES.malformed, `${what} is not valid DER/BER (an element overruns its parent)`);
  }
  return result;
}

/**
 * asn1js lets the children of a definite-length element run past the length it declares. OpenSSL refuses such input,
 * and so do we: fuzzing found a certificate with its outer length cut by 16 that pkijs accepted and OpenSSL could not
 * read, the same certificate in two byte forms.
 */
function lengthsNest(root: asn1js.AsnType): boolean {
  const pending: asn1js.AsnType[] = [root];
  for (let block = pending.pop(); block; block = pending.pop()) {
    const children: unknown = (block.valueBlock as { value?: unknown }).value;
    if (!block.idBlock.isConstructed || !Array.isArray(children)) continue;
    let spanned = 0;
    for (const child of children as asn1js.AsnType[]) {
      spanned += child.valueBeforeDecodeView.byteLength;
      pending.push(child); // One at a time: a spread of the node limit's 131,072 children would overflow the stack.
    }
    if (!block.lenBlock.isIndefiniteForm && spanned !== block.lenBlock.length) return false;
  }
  return true;
}

/** asn1js reports a nested failure on the innermost element only. */
function firstError(block: asn1js.AsnType): string {
  if (block.error) return block.error;
  const value: unknown = block.valueBlock;
  if (value && typeof value === 'object') {
    if ('error' in value && typeof value.error === 'string' && value.error) return value.error;
    if ('value' in value && Array.isArray(value.value)) {
      for (const child of value.value as asn1js.AsnType[]) {
        const error = firstError(child);
        if (error) return error;
      }
    }
  }
  return '';
}

export function children(block: asn1js.AsnType): asn1js.AsnType[] {
  const value: unknown = block.valueBlock;
  if (
    block.idBlock.isConstructed &&
    value &&
    typeof value === 'object' &&
    'value' in value &&
    Array.isArray(value.value)
  ) {
    return value.value as asn1js.AsnType[];
  }
  return [];
}

export function hasTag(
  block: asn1js.AsnType | undefined,
  tagClass: number,
  tagNumber: number,
): block is asn1js.AsnType {
  return !!block && block.idBlock.tagClass === tagClass && block.idBlock.tagNumber === tagNumber;
}

export const UNIVERSAL = 1;
export const CONTEXT = 3;

/**
 * The content octets of an OCTET STRING (or an IMPLICIT one), primitive or BER-constructed. Primitive contents are
 * returned as views, constructed ones joined once.
 */
export function octets(block: asn1js.AsnType): Uint8Array<ArrayBuffer> {
  if (!block.idBlock.isConstructed) {
    const value: unknown = block.valueBlock;
    if (value && typeof value === 'object' && 'valueHexView' in value && value.valueHexView instanceof Uint8Array) {
      return bufferSource(value.valueHexView);
    }
    throw new CmsError(CMS_ERROR_CODES.malformed, 'an octet string could not be read');
  }
  const pieces = children(block)
    .filter((child) => !(child.idBlock.tagClass === UNIVERSAL && child.idBlock.tagNumber === 0)) // end-of-contents
    .map((child) => {
      if (!hasTag(child, UNIVERSAL, TAG.octetString))
        throw new CmsError(CMS_ERROR_CODES.malformed, 'a segmented octet string holds something else');
      return octets(child);
    });
  if (pieces.length === 1 && pieces[0]) return pieces[0];
  return concat(pieces);
}

export function concat(pieces: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const piece of pieces) length += piece.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.byteLength;
  }
  return out;
}

/** The exact bytes an element was decoded from (a view). */
export function rawBytes(block: asn1js.AsnType): Uint8Array {
  return block.valueBeforeDecodeView;
}

export function oidOf(block: asn1js.AsnType | undefined, what: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier))
    throw new CmsError(CMS_ERROR_CODES.malformed, `${what} is missing its object identifier`);
  return block.valueBlock.toString();
}
