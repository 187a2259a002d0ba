import { z } from 'zod';

/**
 * Whether `text` is base64 in RFC 4648's alphabet, with at most two `=` of padding at the end (what FHIR's
 * base64Binary and our API carry). A 1 MB consult's attachment passes this check three times: in the command's input,
 * when its payload is encoded, and in the expert's check of the payload's profile. The platform's `atob` answers first,
 * a slice of 16 Ki characters at a time: decoding the whole megabyte at once made a string of 768 KiB, and while a
 * consult's megabyte buffers kept the garbage collector busy that took 1.3 ms, the slices 0.4 ms (0.55 ms at rest).
 * The loop over the character codes (1.75 ms; the regular expression `^[A-Za-z0-9+/]*={0,2}$` it replaced took 6.6)
 * answers the rest and whatever `atob` refuses, since its forgiving decoding refuses some strings the pattern takes
 * (`a`, `QQQ==`).
 */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 0x3d;
/** What `atob` skips (the Infra standard's ASCII whitespace), and this check must not. */
const WHITESPACE = ['\t', '\n', '\f', '\r', ' '];

/** A multiple of 4, so that every slice but the last is one `atob` takes whole when it is of the alphabet. */
const SLICE = 16 * 1024;

export function isBase64(text: string, options: { readonly nonEmpty?: boolean } = {}): boolean {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === PAD) end--;
  if (end > 0 && text.charCodeAt(end - 1) === PAD) end--;
  if (options.nonEmpty && end === 0) return false;
  // Without whitespace or `=`, atob decodes a slice exactly when it is of the alphabet, unless its length leaves 1 over
  // a multiple of 4 (which it refuses, and the loop then answers).
  const firstPad = text.indexOf('=');
  let from = 0;
  if (!WHITESPACE.some((c) => text.includes(c)) && (firstPad < 0 || firstPad >= end)) {
    while (from < end && decodes(text.slice(from, Math.min(end, from + SLICE)))) from += SLICE;
  }
  return inAlphabet(text, from, end);
}

function inAlphabet(text: string, from: number, end: number): boolean {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || ALPHABET[c] === 0) return false;
  }
  return true;
}

function decodes(text: string): boolean {
  try {
    atob(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A zod string checked by isBase64, whose JSON Schema still says the pattern (the published payload schemas and the
 * connector's OpenAPI document are what other languages implement against).
 */
export function base64String(
  message: string,
  options: { readonly nonEmpty?: boolean; readonly maxLength?: number } = {},
) {
  const text = options.maxLength === undefined ? z.string() : z.string().max(options.maxLength);
  return text
    .refine((text) => isBase64(text, options), message)
    .meta({ pattern: options.nonEmpty ? '^[A-Za-z0-9+/]+={0,2}$' : '^[A-Za-z0-9+/]*={0,2}$' });
}
