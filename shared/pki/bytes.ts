/** Byte helpers that work the same in Node and browsers (no Buffer). */

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
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
