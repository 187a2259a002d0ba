import * as asn1js from 'asn1js';
import { toArrayBuffer } from './bytes.ts';
import { PKI_ERROR_CODES, PkiError } from './errors.ts';
import type { CryptoKey, KeyPair } from './webcrypto.ts';

export const KEY_TYPES = {
  ecP256: 'ec-p256',
  rsa2048: 'rsa-2048',
  rsa3072: 'rsa-3072',
} as const;

export type KeyType = (typeof KEY_TYPES)[keyof typeof KEY_TYPES];

/** The two families a certificate profile distinguishes (key transport vs. key agreement). */
export type KeyFamily = 'ec' | 'rsa';

const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const NAMED_CURVES: Readonly<Record<string, string>> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/**
 * A fresh, extractable signing key pair. The same key bytes also serve encryption certificates: an EC key is one
 * id-ecPublicKey whatever the WebCrypto algorithm, and an RSA key is one rsaEncryption key; the user of the private key
 * imports it for ECDH or RSA-OAEP as needed.
 */
export async function generateKeyPair(keyType: KeyType = KEY_TYPES.ecP256): Promise<KeyPair> {
  const algorithm =
    keyType === KEY_TYPES.ecP256
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          ...RSA_SIGNING,
          modulusLength: keyType === KEY_TYPES.rsa2048 ? 2048 : 3072,
          publicExponent: new Uint8Array([1, 0, 1]),
        };
  return crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
}

export async function exportPrivateKeyPkcs8(privateKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
}

export function keyFamilyOf(key: CryptoKey): KeyFamily {
  const name = key.algorithm.name.toUpperCase();
  if (name === 'ECDSA' || name === 'ECDH') return 'ec';
  if (name.startsWith('RSA')) return 'rsa';
  throw new PkiError(PKI_ERROR_CODES.unsupported, `unsupported key algorithm ${key.algorithm.name}`);
}

/** The WebCrypto algorithm for signing and verifying (SHA-256) with a key of either family. */
function signingAlgorithmOf({
  oid,
  parameters,
}: KeyAlgorithm): typeof RSA_SIGNING | { name: 'ECDSA'; namedCurve: string } {
  if (oid === OID_RSA_ENCRYPTION) return RSA_SIGNING;
  if (oid === OID_EC_PUBLIC_KEY) {
    const curveOid = parameters instanceof asn1js.ObjectIdentifier ? parameters.valueBlock.toString() : '';
    const curve = NAMED_CURVES[curveOid];
    if (curve) return { name: 'ECDSA', namedCurve: curve };
    throw new PkiError(PKI_ERROR_CODES.unsupported, 'EC key on an unsupported or unnamed curve');
  }
  throw new PkiError(PKI_ERROR_CODES.unsupported, `unsupported key algorithm ${oid}`);
}

interface KeyAlgorithm {
  readonly oid: string;
  readonly parameters: unknown;
}

/**
 * The AlgorithmIdentifier of a PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey, ... } or a
 * SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, subjectPublicKey }, read by hand: pkijs's classes also
 * decode the key itself and fail on curves they do not know, which must be "unsupported", not "malformed".
 */
function keyAlgorithmOf(der: Uint8Array, format: 'pkcs8' | 'spki'): KeyAlgorithm {
  const decoded = asn1js.fromBER(toArrayBuffer(der));
  const fields = decoded.result instanceof asn1js.Sequence ? decoded.result.valueBlock.value : [];
  const algorithm = fields[format === 'pkcs8' ? 1 : 0];
  const [oid, parameters] = algorithm instanceof asn1js.Sequence ? algorithm.valueBlock.value : [];
  if (decoded.offset === -1 || !(oid instanceof asn1js.ObjectIdentifier)) {
    const what = format === 'pkcs8' ? 'the PKCS#8 private key' : 'the public key';
    throw new PkiError(PKI_ERROR_CODES.malformed, `${what} is not valid DER`);
  }
  return { oid: oid.valueBlock.toString(), parameters };
}

/** Imports a PKCS#8 key (RSA or EC) for signing with SHA-256, e.g. a CA key for issuing certificates and CRLs. */
export async function importSigningPrivateKey(pkcs8: Uint8Array, extractable = false): Promise<CryptoKey> {
  const algorithm = signingAlgorithmOf(keyAlgorithmOf(pkcs8, 'pkcs8'));
  try {
    return await crypto.subtle.importKey('pkcs8', toArrayBuffer(pkcs8), algorithm, extractable, ['sign']);
  } catch (error) {
    throw new PkiError(PKI_ERROR_CODES.malformed, 'the private key could not be imported', { cause: error });
  }
}

/**
 * Imports a SubjectPublicKeyInfo (RSA, or EC on a named curve) for verifying with SHA-256, extractable so that a
 * certificate can be issued for it. Importing checks the key itself, e.g. that an EC point is on its curve.
 */
export async function importPublicKey(spki: Uint8Array): Promise<CryptoKey> {
  const algorithm = signingAlgorithmOf(keyAlgorithmOf(spki, 'spki'));
  try {
    return await crypto.subtle.importKey('spki', toArrayBuffer(spki), algorithm, true, ['verify']);
  } catch (error) {
    throw new PkiError(PKI_ERROR_CODES.malformed, 'the public key could not be imported', { cause: error });
  }
}

/** True if the PKCS#8 private key is the partner of the public key in the SubjectPublicKeyInfo DER. */
export async function privateKeyMatchesPublicKey(pkcs8: Uint8Array, spki: Uint8Array): Promise<boolean> {
  const algorithm = signingAlgorithmOf(keyAlgorithmOf(pkcs8, 'pkcs8'));
  const privateJwk = await crypto.subtle.exportKey('jwk', await importSigningPrivateKey(pkcs8, true));
  const publicJwk = await crypto.subtle
    .importKey('spki', toArrayBuffer(spki), algorithm, true, ['verify'])
    .then((publicKey) => crypto.subtle.exportKey('jwk', publicKey))
    // Another algorithm or curve: certainly not this key's partner.
    .catch(() => undefined);
  if (!publicJwk) return false;
  const fields = privateJwk.kty === 'EC' ? (['crv', 'x', 'y'] as const) : (['n', 'e'] as const);
  return fields.every((field) => privateJwk[field] !== undefined && privateJwk[field] === publicJwk[field]);
}
