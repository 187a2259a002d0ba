/**
 * Error codes the renderer can explain to a clinician. `retryable` tells the UI whether offering "try again" makes
 * sense without changing anything.
 */
export const API_ERROR_CODES = {
  invalidRequest: 'invalid-request',
  unknownCommand: 'unknown-command',
  forbiddenSender: 'forbidden-sender',
  keychainUnavailable: 'keychain-unavailable',
  /** The keychain no longer holds this workstation's store key (another backend, or a reset). */
  keychainChanged: 'keychain-changed',
  /** The app is locked after idle: unlock first. */
  locked: 'locked',
  /** Too many wrong passphrases in a row: the reason's `seconds` says how long to wait (the wait survives a restart). */
  tooManyAttempts: 'too-many-attempts',
  /** The act (signing a report) needs the lock passphrase entered again with it. */
  passphraseRequired: 'passphrase-required',
  /** Not set up yet: no region, no identity or no trust configuration. */
  notConfigured: 'not-configured',
  /** A certificate or key file that cannot be used, with the reason. */
  identityInvalid: 'identity-invalid',
  /** An enrolment file refused: altered, of another region CA, or not for a workstation; nothing was changed. */
  enrolmentRefused: 'enrolment-refused',
  notFound: 'not-found',
  /** The step does not follow from the case's state, or is not this user's to take. */
  notAllowed: 'not-allowed',
  internal: 'internal',
} as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES];

/**
 * Every distinct failure the core reports, beside its class code: stable kebab-case codes the renderer translates
 * (renderer/components/error-words.ts maps each to a message of the `errors` area). A reason is never renamed; a new
 * failure gets a new one. Grouped by the class code they usually come with.
 */
export const API_ERROR_REASONS = [
  // invalid-request
  'request-invalid',
  'save-no-folder',
  'save-name-leaves-folder',
  'connection-plain-amqp',
  'idempotency-key-reused',
  // unknown-command, forbidden-sender
  'unknown-command',
  'forbidden-sender',
  // keychain-unavailable: the platform's reason, each with what to do about it
  'keychain-unavailable',
  'keychain-no-dbus',
  'keychain-no-secret-service',
  'keychain-no-default-keyring',
  'keychain-locked',
  'keychain-restarted',
  'keychain-macos-refused',
  'keychain-needed-for-passphrase',
  // keychain-changed
  'keychain-store-key-lost',
  'keychain-passphrase-lost',
  // locked
  'workstation-locked',
  'locked-cannot-switch-region',
  // too-many-attempts, passphrase-required
  'passphrase-wait',
  'passphrase-required-to-sign',
  'passphrase-required-to-make-optional',
  // not-configured
  'workstation-not-started',
  // why the workstation is offline without having tried the broker (ConnectionState.problem)
  'no-region-configured',
  'broker-password-missing',
  'region-opening',
  'lock-policy-needs-passphrase',
  'lock-passphrase-not-set',
  'practitioner-not-set-up',
  'trust-missing',
  'certificate-not-installed',
  'private-key-missing',
  // identity-invalid (a certificate, key or trust file); also inside enrolment-refused
  'certificate-no-practitioner',
  'certificate-other-practitioner',
  'certificate-unusable',
  'certificate-key-mismatch',
  'certificate-file-unreadable',
  'key-request-other-practitioner',
  'file-holds-no-certificate',
  'no-waiting-key-request',
  'ca-file-empty',
  'hub-file-not-one-certificate',
  'crl-not-signed-by-ca',
  'crl-not-current',
  'hub-certificate-invalid',
  // enrolment-refused
  'enrolment-signature-refused',
  'enrolment-crl-unreadable',
  'enrolment-wrong-signer',
  'enrolment-other-ca',
  'enrolment-ca-unreadable',
  'enrolment-not-enrolment-file',
  'enrolment-not-json',
  'enrolment-format-invalid',
  'enrolment-other-region',
  'enrolment-crl-older',
  'enrolment-not-for-workstation',
  'enrolment-broker-user-mismatch',
  'enrolment-connection-out-of-bounds',
  'enrolment-plain-amqp',
  // not-found
  'case-not-found',
  'case-request-unreadable',
  'message-not-found',
  'file-not-found',
  'expert-not-in-directory',
  'peer-not-in-directory',
  'practitioner-not-local',
  'publication-not-found',
  // not-allowed
  'peer-certificate-unusable',
  'case-changed-while-signing',
  'step-not-yours',
  'step-not-allowed',
  'consult-with-yourself',
  'consult-within-connector',
  'passphrase-wrong',
  'passphrase-wrong-wait',
  'current-passphrase-needed',
  'file-name-taken',
  'file-not-written',
  'cannot-save-files',
  'withdraw-not-only-message',
  'withdraw-not-waiting',
  'withdraw-sending-now',
  'withdraw-sent-meanwhile',
  'demo-region-unavailable',
  // internal
  'region-not-opened',
  'internal',
] as const;

export type ApiErrorReason = (typeof API_ERROR_REASONS)[number];

/** Values a reason's words may show: ids, counts, seconds to wait, a field's name, a code. Never patient data. */
export type ApiErrorParams = Readonly<Record<string, string | number>>;

/**
 * A refusal or failure of the core, as the renderer receives it.
 *
 * The renderer shows `reason` (with `params`) in the user's language, and `code` where it does not know the reason (a
 * newer core); it never shows `message`. `message` is English for developers and operators: logs, tests and the clinic
 * connector's HTTP API. Neither `message` nor `params` ever carries patient data or a secret.
 */
export interface ApiError {
  /** The class of failure: what the UI can do about it (e.g. `locked` opens the lock screen). */
  readonly code: ApiErrorCode;
  /** Which failure exactly; kebab-case, stable (API_ERROR_REASONS). */
  readonly reason: ApiErrorReason;
  /** The values the reason's words show; only ids, counts, durations, names of fields and codes. */
  readonly params?: ApiErrorParams;
  /** English, for logs and developers; not shown by the renderer. */
  readonly message: string;
  readonly retryable: boolean;
}

export function apiError(
  code: ApiErrorCode,
  reason: ApiErrorReason,
  message: string,
  options: { readonly params?: ApiErrorParams; readonly retryable?: boolean } = {},
): ApiError {
  return {
    code,
    reason,
    ...(options.params && { params: options.params }),
    message,
    retryable: options.retryable ?? false,
  };
}

export function isApiErrorReason(value: unknown): value is ApiErrorReason {
  return (API_ERROR_REASONS as readonly unknown[]).includes(value);
}
