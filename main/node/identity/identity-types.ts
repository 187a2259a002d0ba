import type { ApiErrorParams, ApiErrorReason } from '../../../shared/api/index.ts';
import type { CmsRecipientIdentity, CmsSigner, TrustConfig } from '../../../shared/cms/index.ts';

/**
 * The practitioner working at this workstation: a signing and an encryption certificate (in the encrypted store) with
 * their private keys (in the OS keychain, and once loaded only as non-extractable keys in this process), plus the
 * region's trust configuration: CA certificates, CRLs and the hub's certificate.
 */
export type CertificateUse = 'signing' | 'encryption';
export const CERTIFICATE_USES: readonly CertificateUse[] = ['signing', 'encryption'];

export type CertificateState = 'valid' | 'expiring' | 'expired' | 'not-yet-valid' | 'revoked' | 'untrusted';

export interface CertificateStatus {
  readonly use: CertificateUse | 'hub' | 'anchor';
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly state: CertificateState;
  /** Why it is not valid, in words for the user. */
  readonly problem?: string;
}

/**
 * The region's revocation list held here: `expiring` within CRL_EXPIRING_HOURS of its nextUpdate, `stale` past it
 * (then nothing can be checked until a new one arrives).
 */
export type CrlState = 'current' | 'expiring' | 'stale';

/** What applyCrl did: `held` for the very CRL held already (the hub sends its CRL to every endpoint that registers). */
export type CrlOutcome = 'applied' | 'held' | 'older' | 'invalid';

export interface IdentityStatus {
  readonly practitionerId?: string;
  readonly certificates: CertificateStatus[];
  /** Earlier encryption certificates whose keys are kept to read what was sent to them before a renewal. */
  readonly earlierEncryptionCertificates: number;
  /** Uses for which a key waits on this workstation for the certificate the CA issues for its request. */
  readonly pendingRequests: CertificateUse[];
  /**
   * Present while an earlier signing certificate still signs because this workstation's directory mirror does not list
   * the newest one yet (the clinic has not published it): the one in use. The newest takes over once the mirror lists it.
   */
  readonly signingInUse?: { readonly serialNumber: string; readonly notAfter: string };
  readonly trust: {
    readonly anchors: CertificateStatus[];
    readonly hub?: CertificateStatus;
    readonly crlNextUpdate?: string;
    readonly crlState?: CrlState;
  };
  /** Both certificates and keys present, and the trust configured: the workstation can register and work. */
  readonly ready: boolean;
}

/** A failure the user can act on, with its code and reason for the UI (the English message is for the log). */
export class IdentityError extends Error {
  readonly code: 'identity-invalid' | 'trust-missing' | 'identity-missing';
  readonly reason: ApiErrorReason;
  readonly params: ApiErrorParams | undefined;
  constructor(code: IdentityError['code'], reason: ApiErrorReason, message: string, params?: ApiErrorParams) {
    super(message);
    this.name = 'IdentityError';
    this.code = code;
    this.reason = reason;
    this.params = params;
  }
}

export interface PractitionerIdentity {
  setTrust(input: { anchorsPem: string; crlsPem?: string; hubCertificatePem: string }): Promise<IdentityStatus>;
  importPkcs12(input: { use: CertificateUse; pkcs12: Uint8Array; password: string }): Promise<IdentityStatus>;
  /**
   * A new key pair for `use`, kept in the keychain under its own name until its certificate comes back (the current
   * key stays in use meanwhile); returns the request (PEM) for the CA.
   */
  createRequest(input: { use: CertificateUse; practitionerId: string; organization?: string }): Promise<string>;
  /**
   * The certificate the CA issued for an earlier request, matched to the key waiting for it. Like importPkcs12 it makes
   * the certificate current; an earlier encryption certificate is kept, with its key, for reading older messages.
   */
  importCertificate(input: { use: CertificateUse; certificatePem: string }): Promise<IdentityStatus>;
  /**
   * A CRL of one of the region's CAs (e.g. from a hub notice): applied if signed by an anchor and newer (higher
   * crlNumber, else later thisUpdate) than the one held; the next trust() judges with it.
   */
  applyCrl(der: Uint8Array): Promise<CrlOutcome>;
  status(now?: Date): Promise<IdentityStatus>;
  /** Any certificate judged under the region's trust now, e.g. an expert's from the directory. */
  checkCertificate(der: Uint8Array, use: CertificateUse): Promise<CertificateStatus>;
  practitionerId(): string | undefined;
  trust(): TrustConfig;
  hubCertificate(): Uint8Array | undefined;
  certificate(use: CertificateUse): Uint8Array | undefined;
  /**
   * The signing key peers and the hub will accept: that of the newest signing certificate the directory mirror lists
   * for this practitioner, or, while the mirror has no entry (or lists none held here), of the newest valid one.
   */
  signer(): Promise<CmsSigner>;
  /** The current encryption identity first, then the earlier ones whose keys are kept, newest first. */
  recipients(): Promise<[CmsRecipientIdentity, ...CmsRecipientIdentity[]]>;
}

export interface PractitionerIdentityOptions {
  /**
   * The signing certificates the directory lists for a practitioner (this workstation's mirror); undefined while it has
   * no entry. Peers and the hub accept a signature only by a certificate their directory lists.
   */
  readonly directorySigningCertificates?: (practitionerId: string) => readonly Uint8Array[] | undefined;
  /** The trust (anchors, CRLs) changed: trust() now returns a new object. */
  readonly onTrustChanged?: () => void;
}
