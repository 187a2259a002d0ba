import { REASON_CODES } from '../../shared/protocol/index.ts';

/**
 * A refusal's reason code with what it means for the user where the code alone says too little: a revoked
 * certificate is the region's decision, not damage or a mistake of the message.
 */
export function reasonInWords(code: string | undefined, side: 'sender' | 'recipient' = 'sender'): string | undefined {
  if (code === REASON_CODES.certificateRevoked) {
    return side === 'sender'
      ? "the sender's certificate was revoked by the region"
      : 'your certificate was revoked by the region';
  }
  return undefined;
}

/** `code (words)` when there are words for the code, else the code as it is. */
export function reasonLabel(
  code: string | undefined,
  fallback: string,
  side: 'sender' | 'recipient' = 'sender',
): string {
  if (code === undefined) return fallback;
  const words = reasonInWords(code, side);
  return words ? `${code}: ${words}` : code;
}
