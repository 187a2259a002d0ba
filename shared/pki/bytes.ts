/** Byte helpers that work the same in Node and browsers (no Buffer). */

export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Constant time for equal lengths: it also compares tags and key material. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunked so that large inputs do not exceed the argument limit of fromCharCode.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Strict base64 (whitespace ignored); returns undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  const compact = text.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) return undefined;
  return Uint8Array.from(atob(compact), (char) => char.charCodeAt(0));
}

/** A copy that owns exactly its bytes, for APIs that take an ArrayBuffer. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  // Not bytes.slice(): a Node Buffer's slice shares memory with its (larger) pool.
  return new Uint8Array(bytes).buffer;
}
