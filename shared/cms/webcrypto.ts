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

/**
 * Synchronous SHA-256 and ECDSA signing that a host may lend shared/cms (shared-node's `nodeCryptoAccelerator`: OpenSSL
 * through node:crypto, which shared/ may not import). Each Web Crypto call is a job for libuv's thread pool, and making
 * one costs more than the work on small inputs: a hub signs a receipt for every consult, and its digest and signature
 * took 70–84 µs of CPU through Web Crypto, 27–32 µs synchronously. Without one Web Crypto does everything; either way
 * the digests are the same bytes and the signatures verify alike.
 */
export interface CryptoAccelerator {
  sha256(data: Uint8Array): Uint8Array<ArrayBuffer>;
  /** ECDSA P-256 with SHA-256 over `data`, as r‖s (Web Crypto's form); undefined when this key is not one it can use. */
  signEcdsaP256(privateKey: CryptoKey, data: Uint8Array): Uint8Array<ArrayBuffer> | undefined;
}

let accelerator: CryptoAccelerator | undefined;

/** For the whole process; undefined goes back to Web Crypto alone. */
export function useCryptoAccelerator(next: CryptoAccelerator | undefined): void {
  accelerator = next;
}

/**
 * Larger inputs still go to Web Crypto's thread pool: hashing a 1 MiB consult takes the event loop about 0.7 ms, which
 * the pool takes off it while the loop goes on with other work.
 */
const SYNC_SHA256_BYTES = 64 * 1024;

export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (accelerator && data.byteLength <= SYNC_SHA256_BYTES) return accelerator.sha256(data);
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

/** Web Crypto's `sign`, through the accelerator for ECDSA (always with SHA-256 in this profile) when there is one. */
export async function signBytes(
  algorithm: { name: 'ECDSA'; hash: 'SHA-256' } | { name: 'RSASSA-PKCS1-v1_5' },
  privateKey: CryptoKey,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const quick = algorithm.name === 'ECDSA' ? accelerator?.signEcdsaP256(privateKey, data) : undefined;
  return quick ?? new Uint8Array(await subtle().sign(algorithm, privateKey, data));
}
