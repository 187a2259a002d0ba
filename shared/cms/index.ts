export { CMS_ERROR_CODES, CmsError, isCmsError, type CmsErrorCode } from './cms-errors.ts';
export { DEFAULT_MAX_BYTES } from './der.ts';
export { decrypt, encrypt } from './enveloped-data.ts';
export { open, seal } from './envelope.ts';
export { OPENING_FAILED_MESSAGE, withheldFailure } from './opening-failure.ts';
export { inspect, type CmsStructure } from './inspect.ts';
export { readUnverifiedSignedContent } from './unverified-content.ts';
export { importDecryptionKey, importSigningKey } from './keys.ts';
export { readSignedParts, sign, verify } from './signed-data.ts';
export { readSignedPartsQuickly, type SignedParts } from './signed-parts.ts';
export {
  CONTENT_ENCRYPTION,
  type CmsRecipientIdentity,
  type CmsRecipients,
  type CmsSigner,
  type ContentEncryption,
  type DecryptOptions,
  type DecryptResult,
  type Der,
  type EncryptOptions,
  type OpenOptions,
  type OpenResult,
  type SealOptions,
  type SignerInfoSummary,
  type SignOptions,
  type TrustConfig,
  type VerifyOptions,
  type VerifyResult,
} from './types.ts';
export { useCryptoAccelerator, type CryptoAccelerator, type CryptoKey } from './webcrypto.ts';
export { createCertificateValidator, type CertificateUse, type CertificateValidator } from './certificate-validator.ts';
export { checkTrustRevocation, CRL_GRACE_MS } from './chain.ts';
export { MAX_CERTIFICATE_BYTES, parseCertificate } from './certificates.ts';
export { SHA1_SIGNATURES, UNDERSTOOD_EXTENSIONS, crlCurrentUntil, crlsOf, parseTrust } from './chain.ts';
export { OID } from './oids.ts';
export { derChildren, readDer, type DerElement } from './der-walk.ts';
