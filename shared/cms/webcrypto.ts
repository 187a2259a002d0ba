/**
 * The platform's Web Crypto. shared/ is type-checked both against the DOM lib (browsers) and against @types/node
 * (its tests), which name the same types differently, so the types here are derived from `crypto.subtle` itself.
 */
export type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export type WebKeyUsage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveBits' | 'wrapKey' | 'unwrapKey';

export type ProfileKeyAlgorithm =
  | { name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'RSA-OAEP'; hash: 'SHA-256' }
  | { name: 'ECDSA' | 'ECDH'; namedCurve: 'P-256' };

export function subtle(): typeof crypto.subtle {
  return globalThis.crypto.subtle;
}

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}
