import type { IntlShape } from 'react-intl';
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
// Stand-in (worktree wt-case only): takes the user's `intl` first, as the converted reason-words.ts will, and keeps
// the old form for the callers not converted here; the merge takes the converted file.
export function reasonLabel(
  intl: IntlShape,
  code: string | undefined,
  fallback: string,
  side?: 'sender' | 'recipient',
): string;
export function reasonLabel(code: string | undefined, fallback: string, side?: 'sender' | 'recipient'): string;
export function reasonLabel(...args: unknown[]): string {
  const [code, fallback, side = 'sender'] = (
    typeof args[0] === 'object' && args[0] !== null ? args.slice(1) : args
  ) as [string | undefined, string, ('sender' | 'recipient')?];
  if (code === undefined) return fallback;
  const words = reasonInWords(code, side);
  return words ? `${code}: ${words}` : code;
}
