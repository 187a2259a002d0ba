// The regional PKI building blocks: pure TypeScript over Web Crypto (pkijs, asn1js), for Node and browsers.
export { PKI_ERROR_CODES, PkiError, isPkiError, type PkiErrorCode } from './errors.ts';
export { PEM_LABELS, parsePem, pemToDer, pemToDerAll, derToPem, type PemBlock } from './pem.ts';
export {
  KEY_TYPES,
  generateKeyPair,
  exportPrivateKeyPkcs8,
  importSigningPrivateKey,
  privateKeyMatchesPublicKey,
  type KeyType,
  type KeyFamily,
} from './keys.ts';
export type { DistinguishedName } from './names.ts';
export {
  KEY_USAGES,
  EXTENDED_KEY_USAGES,
  CERTIFICATE_PROFILES,
  createRootCertificate,
  issueCertificate,
  type KeyUsage,
  type ExtendedKeyUsage,
  type CertificateProfile,
  type CertificateProfileName,
  type LeafProfileName,
  type CertificateIssuer,
  type CertificateOptions,
  type IssuedCertificate,
} from './certificate.ts';
export {
  createCertificationRequest,
  readCertificationRequest,
  issueCertificateFromRequest,
  type CertificationRequestOptions,
  type CertificationRequestContents,
} from './certification-request.ts';
export {
  createCrl,
  addRevokedSerial,
  verifyCrl,
  readCrl,
  isNewerCrl,
  type CrlIssuer,
  type CrlOptions,
  type CrlInfo,
  type RevokedSerial,
} from './crl.ts';
export { createPkcs12, parsePkcs12, type Pkcs12Contents, type Pkcs12Options } from './pkcs12.ts';
export { commonNameOf, describeCertificate, summarizeCertificate, type CertificateDescription } from './describe.ts';
export type { CryptoKey, KeyPair } from './webcrypto.ts';
export { bytesEqual, fromBase64, toBase64, toHex } from './bytes.ts';
export { extendedKeyUsageOf, hasCaFlag, keyUsageOf, parseCertificate } from './certificate.ts';
