import type { CaseAttention } from '../shared/api/index.ts';

/** A summary or view as the connector's API gives it: `attention` in English words, its readers being developers. */
export type WithAttentionWords<T extends { attention?: CaseAttention }> = Omit<T, 'attention'> & { attention?: string };

/** Why a case needs attention, in the English the connector's API has always given (the workstation words the code). */
export function attentionWords(attention: CaseAttention): string {
  if (attention.kind === 'received-refused')
    return `A received message was refused: ${attention.reason ?? 'unknown reason'}`;
  if (attention.kind === 'sent-refused' && attention.reason) return `A sent message was refused: ${attention.reason}`;
  return 'A message could not be sent';
}

export function withAttentionWords<T extends { attention?: CaseAttention }>(summary: T): WithAttentionWords<T> {
  const { attention, ...rest } = summary;
  return { ...rest, ...(attention && { attention: attentionWords(attention) }) };
}
