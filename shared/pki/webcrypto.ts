/**
 * Web Crypto types under one name. shared/ is type-checked against the DOM lib (browsers) and against @types/node (its
 * tests, the CLI), which do not name these types alike, so they are derived from `crypto.subtle` itself.
 */
export type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface KeyPair {
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
}
