/** Keychain account names: one place, so that no two features write the same secret under different names. */
export function brokerPasswordAccount(endpointId: string): string {
  return `broker-password:${endpointId}`;
}

export const STORE_KEY_ACCOUNT = 'store-key';

/**
 * A practitioner's private key (PKCS#8, base64) for one use, named by its public key's fingerprint so that a renewed or
 * requested key never overwrites an earlier one (earlier encryption keys stay to read what was sent to them). Without
 * a fingerprint: the one name per use of stores made before renewal, which their certificates keep referring to.
 */
export function privateKeyAccount(
  practitionerId: string,
  use: 'signing' | 'encryption',
  keyFingerprint?: string,
): string {
  return `private-key:${use}:${practitionerId}${keyFingerprint ? `:${keyFingerprint}` : ''}`;
}

/** Where a key made for a certificate request waited before keys were named by fingerprint. */
export function legacyPendingKeyAccount(practitionerId: string, use: 'signing' | 'encryption'): string {
  return `pending-private-key:${use}:${practitionerId}`;
}

/** The scrypt hash of the passphrase that unlocks the app after idle. */
export const LOCK_PASSPHRASE_ACCOUNT = 'lock-passphrase';

/** The HMAC key of the audit log's chain, kept apart from the store it protects. */
export const AUDIT_KEY_ACCOUNT = 'audit-key';

/** The audit log's newest entry number and MAC, so that cutting the newest entries off the store is found. */
export const AUDIT_ANCHOR_ACCOUNT = 'audit-anchor';
