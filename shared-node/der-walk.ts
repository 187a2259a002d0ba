/**
 * Finding fields in DER that OpenSSL has already parsed, without building an object tree: asn1js costs most of a
 * millisecond per certificate, which is the whole point of the native validator. Only what a certificate needs:
 * one-byte tags and definite lengths. Anything else throws, and the caller falls back to the full parser.
 */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function readDer(bytes: Uint8Array, offset: number, expectedTag?: number): DerElement {
  const tag = bytes[offset];
  if (tag === undefined || (tag & 0x1f) === 0x1f) throw new Error('unsupported DER tag');
  if (expectedTag !== undefined && tag !== expectedTag) throw new Error(`expected DER tag ${expectedTag}, found ${tag}`);
  const first = bytes[offset + 1];
  if (first === undefined || first === 0x80) throw new Error('truncated or indefinite DER length');
  let length = first;
  let contentStart = offset + 2;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new Error('DER length too long');
    length = 0;
    for (let i = 0; i < count; i++) {
      const byte = bytes[contentStart + i];
      if (byte === undefined) throw new Error('truncated DER length');
      length = length * 256 + byte;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element. */
export function derChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readDer(bytes, offset);
    if (child.end > parent.end) throw new Error('DER element overruns its parent');
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** An OBJECT IDENTIFIER's dotted form. */
export function derOid(bytes: Uint8Array, element: DerElement): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = element.contentStart; i < element.end; i++) {
    const byte = bytes[i]!;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new Error('OID arc too large');
    if (byte & 0x80) continue;
    if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  if (value !== 0 || arcs.length === 0 || (bytes[element.end - 1]! & 0x80)) throw new Error('malformed OID');
  return arcs.join('.');
}
