import { errorCodeOf, type Logger } from '../shared/index.ts';
import type { RetryableDelivery } from './broker-adapter.ts';
import type { Entry } from './inbox-entries.ts';
import type { Inbox } from './transport-store.ts';

// How the inbox receiver (inbox-receiver.ts) commits a batch and only then settles it: a crash before the commit loses
// nothing (the broker redelivers), and one message whose writes fail never takes the rest of its batch back with it.

/**
 * The batch in one transaction. If that fails, one message's writes broke it: each is then committed alone, in order,
 * and only a message that fails alone is given back with `retry` (nothing of it is durable; it is judged again when it
 * comes back, and the broker counts it towards the queue's delivery limit).
 */
export function commitEntries(
  inbox: Inbox,
  entries: readonly Entry[],
  source: string,
  logger: Logger,
  retry: (delivery: RetryableDelivery) => void,
): void {
  const writes = entries.flatMap((e) => (e.commit ? [e.commit] : []));
  const tryCommit = (batch: readonly NonNullable<Entry['commit']>[], messages: number): boolean => {
    try {
      inbox.commitMany(batch);
      return true;
    } catch (error) {
      logger.warn('inbox.commit-failed', { source, messages, error: errorCodeOf(error) });
      return false;
    }
  };
  const settle = (entry: Entry, committed: boolean): void => {
    if (!committed) {
      logger.warn('inbox.released', { source, messageId: entry.messageId });
      retry(entry.delivery);
      return;
    }
    entry.delivery.accept();
    // What is told after the commit must not keep the rest of the batch from being settled.
    try {
      entry.afterCommit?.();
    } catch (error) {
      logger.warn('inbox.after-commit-failed', { source, messageId: entry.messageId, error: errorCodeOf(error) });
    }
  };
  if (tryCommit(writes, entries.length)) {
    for (const entry of entries) settle(entry, true);
    return;
  }
  for (const entry of entries) settle(entry, !entry.commit || (writes.length > 1 && tryCommit([entry.commit], 1)));
}
