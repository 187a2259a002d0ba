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
  /** An ephemeral-static ECDH on P-256 with `recipientKey` (see ecdhP256Ephemeral); undefined when it cannot use it. */
  ecdhP256Ephemeral(recipientKey: CryptoKey): EphemeralAgreement | undefined;
}

/** Z, the shared secret (32 bytes, Web Crypto's `deriveBits`), and the ephemeral public point, uncompressed (65). */
export interface EphemeralAgreement {
  readonly sharedSecret: Uint8Array<ArrayBuffer>;
  readonly ephemeralPoint: Uint8Array<ArrayBuffer>;
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

/**
 * A fresh P-256 key pair agreed with `recipientKey`, its private half used once and dropped: through the accelerator
 * when there is one. Through Web Crypto it is three jobs for the thread pool (generate, derive, export) and the KEK's
 * digest a fourth, whose making cost an applicant's event loop about 2.5 ms per consult (two recipients) in P2's profile.
 */
export async function ecdhP256Ephemeral(recipientKey: CryptoKey): Promise<EphemeralAgreement> {
  const quick = accelerator?.ecdhP256Ephemeral(recipientKey);
  if (quick) return quick;
  const algorithm = { name: 'ECDH', namedCurve: 'P-256' } as const;
  const ephemeral = await subtle().generateKey(algorithm, false, ['deriveBits']);
  const bits = await subtle().deriveBits({ name: 'ECDH', public: recipientKey }, ephemeral.privateKey, 256);
  const point = await subtle().exportKey('raw', ephemeral.publicKey);
  return { sharedSecret: new Uint8Array(bits), ephemeralPoint: new Uint8Array(point) };
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
