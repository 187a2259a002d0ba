import type { TransportStore } from '../../../transport/index.ts';
import type { CaseStore } from '../consult/case-store.ts';

/**
 * What an endpoint shows of its own traffic, for the workstation's screens and the connector's API alike: the outbox's
 * given-up messages with the case each belongs to, and the received messages it refused, with their reason codes.
 */
export function outboxFailures(transport: TransportStore, cases: CaseStore) {
  return transport.outbox.failed().map((f) => {
    const known = cases.caseOfMessage(f.messageId);
    return {
      messageId: f.messageId,
      type: known?.type ?? String(f.message.properties.application_properties.rtsType ?? ''),
      ...(known && { caseId: known.caseId }),
      reason: f.failureReason ?? 'failed',
      at: new Date(f.createdAt).toISOString(),
    };
  });
}

export function refusedMessages(transport: TransportStore, limit: number) {
  return transport.deadLetters.list({ state: 'held', limit }).map((d) => {
    const props = d.message.properties.application_properties;
    return {
      id: d.id,
      messageId: d.messageId,
      reason: d.reason,
      detail: d.detail,
      receivedAt: new Date(d.receivedAt).toISOString(),
      ...(typeof props.rtsType === 'string' && { type: props.rtsType }),
      ...(typeof props.rtsSender === 'string' && { sender: props.rtsSender }),
      ...(typeof props.rtsCase === 'string' && { caseId: props.rtsCase }),
    };
  });
}
