import type { IntlShape } from 'react-intl';
import type { CaseAttention } from '../../shared/api/index.ts';
import type { ReasonCode } from '../../shared/protocol/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';

/** What each refusal reason code (shared/protocol REASON_CODES) means for the user, from either side of the refusal. */
export const REFUSAL_REASON_MESSAGES: Readonly<Record<ReasonCode, MessageId>> = {
  'malformed-properties': 'errors.refusal.malformedProperties',
  'missing-property': 'errors.refusal.missingProperty',
  'unknown-type': 'errors.refusal.unknownType',
  'unsupported-version': 'errors.refusal.unsupportedVersion',
  'too-large': 'errors.refusal.tooLarge',
  'forged-sender': 'errors.refusal.forgedSender',
  duplicate: 'errors.refusal.duplicate',
  replay: 'errors.refusal.replay',
  'cms-malformed': 'errors.refusal.cmsMalformed',
  'cms-unsupported-algorithm': 'errors.refusal.cmsUnsupportedAlgorithm',
  'not-a-recipient': 'errors.refusal.notARecipient',
  'decrypt-failed': 'errors.refusal.decryptFailed',
  'bad-signature': 'errors.refusal.badSignature',
  'untrusted-chain': 'errors.refusal.untrustedChain',
  'certificate-expired': 'errors.refusal.certificateExpired',
  'certificate-not-yet-valid': 'errors.refusal.certificateNotYetValid',
  'certificate-revoked': 'errors.refusal.certificateRevoked',
  'wrong-key-usage': 'errors.refusal.wrongKeyUsage',
  'signing-time-invalid': 'errors.refusal.signingTimeInvalid',
  'signer-mismatch': 'errors.refusal.signerMismatch',
  'invalid-json': 'errors.refusal.invalidJson',
  'schema-invalid': 'errors.refusal.schemaInvalid',
  'fhir-invalid': 'errors.refusal.fhirInvalid',
  'header-mismatch': 'errors.refusal.headerMismatch',
  'not-authorized': 'errors.refusal.notAuthorized',
  'unknown-recipient': 'errors.refusal.unknownRecipient',
  'retired-expert': 'errors.refusal.retiredExpert',
  'not-addressed-to-me': 'errors.refusal.notAddressedToMe',
  'out-of-order': 'errors.refusal.outOfOrder',
  'delivery-limit': 'errors.refusal.deliveryLimit',
  'internal-error': 'errors.refusal.internalError',
};

const isReasonCode = (code: string): code is ReasonCode => Object.hasOwn(REFUSAL_REASON_MESSAGES, code);

/**
 * A refusal's reason code in words, said from the side of whoever reads it: `sender` for a message refused here (the
 * sender's certificate was revoked), `recipient` for one of ours the other side refused (your certificate was revoked).
 * Undefined for no code or a code this version does not know.
 */
export function reasonInWords(
  intl: IntlShape,
  code: string | undefined,
  side: 'sender' | 'recipient' = 'sender',
): string | undefined {
  if (code === undefined || !isReasonCode(code)) return undefined;
  return intl.formatMessage({ id: REFUSAL_REASON_MESSAGES[code] }, { side });
}

/** `code: words` (the code too: it is what the sender's or an administrator's log shows), the code alone when unknown. */
export function reasonLabel(
  intl: IntlShape,
  code: string | undefined,
  fallback: string,
  side: 'sender' | 'recipient' = 'sender',
): string {
  if (code === undefined) return fallback;
  const words = reasonInWords(intl, code, side);
  return words ? intl.formatMessage({ id: 'errors.refusal.label' }, { code, words }) : code;
}

/** Why a case needs the user's eye (a refused or unsent message), with the refusal's code as the core gave it. */
export function attentionText(intl: IntlShape, attention: CaseAttention): string {
  const { kind, reason } = attention;
  if (kind === 'not-sent' || (kind === 'sent-refused' && reason === undefined))
    return intl.formatMessage({ id: 'errors.attention.notSent' });
  if (reason === undefined) return intl.formatMessage({ id: 'errors.attention.receivedRefusedNoReason' });
  return kind === 'received-refused'
    ? intl.formatMessage({ id: 'errors.attention.receivedRefused' }, { reason })
    : intl.formatMessage({ id: 'errors.attention.sentRefused' }, { reason });
}
