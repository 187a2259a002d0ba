/** What other layers may use of shared-node/: they import it from here only (eslint rule rts/layers). */
export { certificateBindingProblem } from './certificate-binding.ts';
export { createCachedCertificateValidator, createCertificateCache, trustKeyOf } from './certificate-cache.ts';
export type { AcceptedCertificates, CertificateCache, CertificateFailure } from './certificate-cache.ts';
export type { BoundUse } from './certificate-binding.ts';
export { loadFhirDefinitions, protocolDefinitionsText } from './fhir-definitions.ts';
export { createJsonLinesLogger, openJsonLinesLogFile } from './json-lines-logger.ts';
export type { JsonLinesLogFile } from './json-lines-logger.ts';
export { createNativeCertificateValidator } from './native-certificate-validator.ts';
export { nodeCryptoAccelerator } from './node-crypto-accelerator.ts';
export { envOrFileSecretReferenceSchema, secretReferenceSchema } from './secret-reference.ts';
export type { EnvOrFileSecretReference, SecretReference } from './secret-reference.ts';
export { createPayloadValidationPool } from './payload-validation-pool.ts';
export type { PayloadValidationPool } from './payload-validation-pool.ts';
export { createBaseFhirValidator } from './base-fhir-validator.ts';
export type { BaseFhirValidator } from './base-fhir-validator.ts';
