import { importPublicKey, parseCertificate, publicKeyKind } from './certificates.ts';
import { CMS_ERROR_CODES, CmsError } from './cms-errors.ts';
import { bytesEqual } from '../pki/bytes.ts';
import { bufferSource } from './der.ts';
import type { Der } from './types.ts';
import { randomBytes, subtle, type CryptoKey, type ProfileKeyAlgorithm, type WebKeyUsage } from './webcrypto.ts';

async function importPrivateKey(
  pkcs8: Der,
  algorithm: ProfileKeyAlgorithm,
  usages: WebKeyUsage[],
  description: string,
): Promise<CryptoKey> {
  if (!(pkcs8 instanceof Uint8Array))
    throw new CmsError(CMS_ERROR_CODES.malformed, 'The private key must be given as PKCS#8 bytes');
  try {
    return await subtle().importKey('pkcs8', bufferSource(pkcs8), algorithm, false, usages);
  } catch (error) {
    throw new CmsError(
      CMS_ERROR_CODES.malformed,
      `The private key is not a PKCS#8 ${description} key as the certificate requires`,
      { cause: error },
    );
  }
}

/** A key that cannot sign for (or decrypt to) its certificate fails the way its first use would. */
function mismatch(code: typeof CMS_ERROR_CODES.badSignature | typeof CMS_ERROR_CODES.decryptFailed): CmsError {
  return new CmsError(code, 'The private key does not belong to the certificate');
}

/**
 * Imports the practitioner's signing key as a non-extractable key for `sign()`: ECDSA P-256 or RSASSA-PKCS1-v1_5
 * with SHA-256, as the certificate's key type dictates. A test signature proves the key belongs to the certificate.
 */
export async function importSigningKey(pkcs8: Der, certificate: Der): Promise<CryptoKey> {
  const cert = parseCertificate(certificate, 'The signer certificate');
  const kind = publicKeyKind(cert, 'signer');
  const algorithm: ProfileKeyAlgorithm =
    kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const signParams = kind === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' };
  const key = await importPrivateKey(pkcs8, algorithm, ['sign'], kind === 'rsa' ? 'RSA' : 'EC P-256');
  const probe = randomBytes(32);
  const signature = await subtle().sign(signParams, key, probe);
  const publicKey = await importPublicKey(cert, algorithm, ['verify']);
  if (!(await subtle().verify(signParams, publicKey, signature, probe))) throw mismatch(CMS_ERROR_CODES.badSignature);
  return key;
}

/**
 * Imports a recipient's decryption key as a non-extractable key for `decrypt()`: RSA-OAEP with SHA-256 or ECDH
 * P-256, as the certificate's key type dictates. A test encryption (or key agreement) proves the key belongs to the
 * certificate.
 */
export async function importDecryptionKey(pkcs8: Der, certificate: Der): Promise<CryptoKey> {
  const cert = parseCertificate(certificate, 'The recipient certificate');
  if (publicKeyKind(cert, 'recipient') === 'rsa') {
    const algorithm = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
    const key = await importPrivateKey(pkcs8, algorithm, ['decrypt', 'unwrapKey'], 'RSA');
    const probe = randomBytes(32);
    const encrypted = await subtle().encrypt(algorithm, await importPublicKey(cert, algorithm, ['encrypt']), probe);
    const decrypted = await subtle()
      .decrypt(algorithm, key, encrypted)
      .catch(() => new ArrayBuffer(0));
    if (!bytesEqual(new Uint8Array(decrypted), probe)) throw mismatch(CMS_ERROR_CODES.decryptFailed);
    return key;
  }
  const algorithm = { name: 'ECDH', namedCurve: 'P-256' } as const;
  const key = await importPrivateKey(pkcs8, algorithm, ['deriveBits'], 'EC P-256');
  // Both sides of one agreement with a throw-away key must meet.
  const probe = await subtle().generateKey(algorithm, false, ['deriveBits']);
  const certificateKey = await importPublicKey(cert, algorithm, []);
  const ours = await subtle().deriveBits({ name: 'ECDH', public: probe.publicKey }, key, 256);
  const theirs = await subtle().deriveBits({ name: 'ECDH', public: certificateKey }, probe.privateKey, 256);
  if (!bytesEqual(new Uint8Array(ours), new Uint8Array(theirs))) throw mismatch(CMS_ERROR_CODES.decryptFailed);
  return key;
}
