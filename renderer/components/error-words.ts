import type { IntlShape } from 'react-intl';
import type { ApiError, ApiErrorCode, ApiErrorReason, ConnectionState } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';

/** What each class of failure means for the user: said when the reason is one this renderer does not know. */
export const ERROR_CODE_MESSAGES: Readonly<Record<ApiErrorCode, MessageId>> = {
  'invalid-request': 'errors.code.invalidRequest',
  'unknown-command': 'errors.code.unknownCommand',
  'forbidden-sender': 'errors.code.forbiddenSender',
  'keychain-unavailable': 'errors.code.keychainUnavailable',
  'keychain-changed': 'errors.code.keychainChanged',
  locked: 'errors.code.locked',
  'too-many-attempts': 'errors.code.tooManyAttempts',
  'passphrase-required': 'errors.code.passphraseRequired',
  'not-configured': 'errors.code.notConfigured',
  'identity-invalid': 'errors.code.identityInvalid',
  'enrolment-refused': 'errors.code.enrolmentRefused',
  'not-found': 'errors.code.notFound',
  'not-allowed': 'errors.code.notAllowed',
  internal: 'errors.code.internal',
};

/** Each failure the core reports, in words for a clinician saying what to do (`errors` catalogues). */
export const ERROR_REASON_MESSAGES: Readonly<Record<ApiErrorReason, MessageId>> = {
  'request-invalid': 'errors.reason.requestInvalid',
  'save-no-folder': 'errors.reason.saveNoFolder',
  'save-name-leaves-folder': 'errors.reason.saveNameLeavesFolder',
  'connection-plain-amqp': 'errors.reason.connectionPlainAmqp',
  'idempotency-key-reused': 'errors.reason.idempotencyKeyReused',
  'unknown-command': 'errors.reason.unknownCommand',
  'forbidden-sender': 'errors.reason.forbiddenSender',
  'keychain-unavailable': 'errors.reason.keychainUnavailable',
  'keychain-no-dbus': 'errors.reason.keychainNoDbus',
  'keychain-no-secret-service': 'errors.reason.keychainNoSecretService',
  'keychain-no-default-keyring': 'errors.reason.keychainNoDefaultKeyring',
  'keychain-locked': 'errors.reason.keychainLocked',
  'keychain-restarted': 'errors.reason.keychainRestarted',
  'keychain-macos-refused': 'errors.reason.keychainMacosRefused',
  'keychain-needed-for-passphrase': 'errors.reason.keychainNeededForPassphrase',
  'keychain-store-key-lost': 'errors.reason.keychainStoreKeyLost',
  'keychain-passphrase-lost': 'errors.reason.keychainPassphraseLost',
  'workstation-locked': 'errors.reason.workstationLocked',
  'locked-cannot-switch-region': 'errors.reason.lockedCannotSwitchRegion',
  'passphrase-wait': 'errors.reason.passphraseWait',
  'passphrase-required-to-sign': 'errors.reason.passphraseRequiredToSign',
  'passphrase-required-to-make-optional': 'errors.reason.passphraseRequiredToMakeOptional',
  'workstation-not-started': 'errors.reason.workstationNotStarted',
  'no-region-configured': 'errors.reason.noRegionConfigured',
  'broker-password-missing': 'errors.reason.brokerPasswordMissing',
  'region-opening': 'errors.reason.regionOpening',
  'lock-policy-needs-passphrase': 'errors.reason.lockPolicyNeedsPassphrase',
  'lock-passphrase-not-set': 'errors.reason.lockPassphraseNotSet',
  'practitioner-not-set-up': 'errors.reason.practitionerNotSetUp',
  'trust-missing': 'errors.reason.trustMissing',
  'certificate-not-installed': 'errors.reason.certificateNotInstalled',
  'private-key-missing': 'errors.reason.privateKeyMissing',
  'certificate-no-practitioner': 'errors.reason.certificateNoPractitioner',
  'certificate-other-practitioner': 'errors.reason.certificateOtherPractitioner',
  'certificate-unusable': 'errors.reason.certificateUnusable',
  'certificate-key-mismatch': 'errors.reason.certificateKeyMismatch',
  'certificate-file-unreadable': 'errors.reason.certificateFileUnreadable',
  'key-request-other-practitioner': 'errors.reason.keyRequestOtherPractitioner',
  'file-holds-no-certificate': 'errors.reason.fileHoldsNoCertificate',
  'no-waiting-key-request': 'errors.reason.noWaitingKeyRequest',
  'ca-file-empty': 'errors.reason.caFileEmpty',
  'hub-file-not-one-certificate': 'errors.reason.hubFileNotOneCertificate',
  'crl-not-signed-by-ca': 'errors.reason.crlNotSignedByCa',
  'crl-not-current': 'errors.reason.crlNotCurrent',
  'hub-certificate-invalid': 'errors.reason.hubCertificateInvalid',
  'enrolment-signature-refused': 'errors.reason.enrolmentSignatureRefused',
  'enrolment-crl-unreadable': 'errors.reason.enrolmentCrlUnreadable',
  'enrolment-wrong-signer': 'errors.reason.enrolmentWrongSigner',
  'enrolment-other-ca': 'errors.reason.enrolmentOtherCa',
  'enrolment-ca-unreadable': 'errors.reason.enrolmentCaUnreadable',
  'enrolment-not-enrolment-file': 'errors.reason.enrolmentNotEnrolmentFile',
  'enrolment-not-json': 'errors.reason.enrolmentNotJson',
  'enrolment-format-invalid': 'errors.reason.enrolmentFormatInvalid',
  'enrolment-other-region': 'errors.reason.enrolmentOtherRegion',
  'enrolment-crl-older': 'errors.reason.enrolmentCrlOlder',
  'enrolment-not-for-workstation': 'errors.reason.enrolmentNotForWorkstation',
  'enrolment-broker-user-mismatch': 'errors.reason.enrolmentBrokerUserMismatch',
  'enrolment-connection-out-of-bounds': 'errors.reason.enrolmentConnectionOutOfBounds',
  'enrolment-plain-amqp': 'errors.reason.enrolmentPlainAmqp',
  'case-not-found': 'errors.reason.caseNotFound',
  'case-request-unreadable': 'errors.reason.caseRequestUnreadable',
  'message-not-found': 'errors.reason.messageNotFound',
  'file-not-found': 'errors.reason.fileNotFound',
  'expert-not-in-directory': 'errors.reason.expertNotInDirectory',
  'peer-not-in-directory': 'errors.reason.peerNotInDirectory',
  'practitioner-not-local': 'errors.reason.practitionerNotLocal',
  'publication-not-found': 'errors.reason.publicationNotFound',
  'peer-certificate-unusable': 'errors.reason.peerCertificateUnusable',
  'case-changed-while-signing': 'errors.reason.caseChangedWhileSigning',
  'step-not-yours': 'errors.reason.stepNotYours',
  'step-not-allowed': 'errors.reason.stepNotAllowed',
  'consult-with-yourself': 'errors.reason.consultWithYourself',
  'consult-within-connector': 'errors.reason.consultWithinConnector',
  'passphrase-wrong': 'errors.reason.passphraseWrong',
  'passphrase-wrong-wait': 'errors.reason.passphraseWrongWait',
  'current-passphrase-needed': 'errors.reason.currentPassphraseNeeded',
  'file-name-taken': 'errors.reason.fileNameTaken',
  'file-not-written': 'errors.reason.fileNotWritten',
  'cannot-save-files': 'errors.reason.cannotSaveFiles',
  'withdraw-not-only-message': 'errors.reason.withdrawNotOnlyMessage',
  'withdraw-not-waiting': 'errors.reason.withdrawNotWaiting',
  'withdraw-sending-now': 'errors.reason.withdrawSendingNow',
  'withdraw-sent-meanwhile': 'errors.reason.withdrawSentMeanwhile',
  'demo-region-unavailable': 'errors.reason.demoRegionUnavailable',
  'region-not-opened': 'errors.reason.regionNotOpened',
  internal: 'errors.reason.internal',
};

/**
 * An error of the core in the user's language: its reason's words with its params, else (a newer core's reason) the
 * words of its class code. Never its English `message`, which is for logs and developers.
 */
export function errorText(intl: IntlShape, error: Pick<ApiError, 'code' | 'reason' | 'params'>): string {
  const reasonId = Object.hasOwn(ERROR_REASON_MESSAGES, error.reason) ? ERROR_REASON_MESSAGES[error.reason] : undefined;
  if (reasonId) return intl.formatMessage({ id: reasonId }, error.params);
  const codeId = Object.hasOwn(ERROR_CODE_MESSAGES, error.code) ? ERROR_CODE_MESSAGES[error.code] : undefined;
  return intl.formatMessage({ id: codeId ?? 'errors.code.internal' });
}

/**
 * Why the connection is what it is: the core's problem in the user's words; else the broker's or the network's own
 * words (technical, English: `lang` says so), or nothing.
 */
export function connectionReason(
  intl: IntlShape,
  state: Pick<ConnectionState, 'reason' | 'problem'>,
): { text: string; lang?: 'en' } | undefined {
  if (state.problem) return { text: errorText(intl, state.problem) };
  return state.reason ? { text: state.reason, lang: 'en' } : undefined;
}
