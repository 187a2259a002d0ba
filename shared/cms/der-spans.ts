/**
 * Where the elements of plain DER lie, without building a tree: each element's tag and bounds, nothing decoded. For
 * the parts of a message that asn1js need not walk node by node (a signed message's certificates and content): asn1js
 * spends about 5 µs a node, and a 2 KB signed receipt has hundreds. Only low tag numbers and definite lengths of up to
 * four bytes are read; anything else is `undefined`, and the caller takes the full BER reader (parseBer), which
 * decides and explains.
 */
export interface DerSpan {
  /** As asn1js numbers classes: 1 universal, 2 application, 3 context-specific, 4 private. */
  readonly tagClass: number;
  readonly tagNumber: number;
  readonly constructed: boolean;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

const HIGH_TAG_NUMBER = 0x1f;
const INDEFINITE_LENGTH = 0x80;
const MAX_LENGTH_BYTES = 4;

/** The element starting at `offset`, which must end by `limit`. */
export function spanAt(bytes: Uint8Array, offset: number, limit: number): DerSpan | undefined {
  if (offset + 2 > limit) return undefined;
  const identifier = bytes[offset]!;
  if ((identifier & HIGH_TAG_NUMBER) === HIGH_TAG_NUMBER) return undefined;
  let length = bytes[offset + 1]!;
  let contentStart = offset + 2;
  if (length === INDEFINITE_LENGTH) return undefined;
  if (length > INDEFINITE_LENGTH) {
    const count = length & 0x7f;
    if (count > MAX_LENGTH_BYTES || contentStart + count > limit) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) return undefined;
  return {
    tagClass: (identifier >> 6) + 1,
    tagNumber: identifier & HIGH_TAG_NUMBER,
    constructed: (identifier & 0x20) !== 0,
    start: offset,
    contentStart,
    end,
  };
}

/** The one element that is all of `bytes`. */
export function wholeSpan(bytes: Uint8Array): DerSpan | undefined {
  const span = spanAt(bytes, 0, bytes.byteLength);
  return span?.end === bytes.byteLength ? span : undefined;
}

/** The elements inside a constructed one, which must fill it exactly. */
export function spansIn(bytes: Uint8Array, parent: DerSpan | undefined): DerSpan[] | undefined {
  if (!parent?.constructed) return undefined;
  const inside: DerSpan[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const span = spanAt(bytes, offset, parent.end);
    if (!span) return undefined;
    inside.push(span);
    offset = span.end;
  }
  return inside;
}

export function isSpan(
  span: DerSpan | undefined,
  tagClass: number,
  tagNumber: number,
  constructed: boolean,
): span is DerSpan {
  return !!span && span.tagClass === tagClass && span.tagNumber === tagNumber && span.constructed === constructed;
}

/** The whole element's bytes (tag and length included), as a view. */
export function spanBytes(bytes: Uint8Array, span: DerSpan): Uint8Array {
  return bytes.subarray(span.start, span.end);
}
