import { isBase64 } from '../base64.ts';

/** Strings at least this long are spliced in when they are base64 (an attachment's data), not escaped by JSON.stringify. */
const SPLICE_FROM = 16 * 1024;
const QUOTE = 0x22;

/**
 * `new TextEncoder().encode(JSON.stringify(value))`, the same bytes, faster for a payload carrying attachments. V8 here
 * stringifies a 1 MiB string in 5.5 ms, where checking that it is base64 takes 0.55 ms and base64 needs no escaping:
 * long base64 strings are left out of the stringified text, behind a placeholder with a nonce no other string of the
 * value can have made, and copied into the bytes as they are.
 */
export function jsonBytes(value: unknown, options: { readonly spliceFrom?: number } = {}): Uint8Array<ArrayBuffer> {
  const spliceFrom = options.spliceFrom ?? SPLICE_FROM;
  const spliced: string[] = [];
  let marker = '';
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'string' || item.length < spliceFrom || !isBase64(item)) return item;
    marker ||= `rts-spliced-${Array.from(globalThis.crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(36)).join('')}-`;
    spliced.push(item);
    return `${marker}${spliced.length - 1}`;
  });
  if (text === undefined) throw new TypeError('The value has no JSON form');
  const encoder = new TextEncoder();
  if (spliced.length === 0) return encoder.encode(text);

  // Each placeholder is a whole JSON string, `"marker<i>"`, in the order the strings were met: the text between them
  // is encoded as it is, each placeholder's quotes kept and its content replaced by the base64, one byte per character.
  const quotedMarker = `"${marker}`;
  const pieces: (string | number)[] = [];
  let from = 0;
  for (let i = 0; i < spliced.length; i++) {
    const at = text.indexOf(`${quotedMarker}${i}"`, from);
    if (at < 0) throw new Error('A spliced string is missing from the JSON text');
    pieces.push(text.slice(from, at), i);
    from = at + quotedMarker.length + String(i).length + 1;
  }
  pieces.push(text.slice(from));

  const encoded = pieces.map((piece) => (typeof piece === 'string' ? encoder.encode(piece) : piece));
  let size = 0;
  for (const piece of encoded) size += typeof piece === 'number' ? spliced[piece]!.length + 2 : piece.byteLength;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const piece of encoded) {
    if (typeof piece !== 'number') {
      bytes.set(piece, offset);
      offset += piece.byteLength;
      continue;
    }
    bytes[offset++] = QUOTE;
    offset += encoder.encodeInto(spliced[piece]!, bytes.subarray(offset)).written;
    bytes[offset++] = QUOTE;
  }
  return bytes;
}
