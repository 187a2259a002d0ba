import { parseCertificate } from './certificates.ts';
import { parseTrust, validateSignerChain } from './chain.ts';
import { recipientKind } from './recipients.ts';
import type { TrustConfig } from './types.ts';

export type CertificateUse = 'signing' | 'encryption';

/**
 * Checks a certificate that is not attached to a signature, e.g. a practitioner's certificates in a directory entry:
 * the same path, validity, revocation and key-usage rules as a signer's (docs/protocol.md §3), at the given time.
 * Throws a CmsError with the code of the first failure.
 */
export type CertificateValidator = (der: Uint8Array, use: CertificateUse, at: Date) => Promise<void>;

export function createCertificateValidator(trust: TrustConfig): CertificateValidator {
  const parsed = parseTrust(trust);
  return async (der, use, at) => {
    const certificate = parseCertificate(der, `The ${use} certificate`);
    await validateSignerChain(
      certificate,
      [],
      parsed,
      at,
      use === 'encryption' ? (c) => void recipientKind(c) : undefined,
    );
  };
}
