/**
 * Where the elements of plain DER lie, without building a tree: each element's tag byte and bounds, nothing decoded.
 * asn1js spends about 5 µs a node; the parts of a message or a certificate that need no tree (a signed message's
 * certificates and content, the fields OpenSSL has already parsed) are found here instead. Only one-byte tags and
 * definite lengths of up to four bytes: anything else throws, and the caller takes the full parser, which decides and
 * explains. (shared-node/der-walk.ts reads certificate fields with it.)
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
  if (expectedTag !== undefined && tag !== expectedTag)
    throw new Error(`expected DER tag ${expectedTag}, found ${tag}`);
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
