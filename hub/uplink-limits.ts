import { PROTOCOL_LIMITS, MESSAGE_TYPES as T, type MessageType } from '../shared/protocol/index.ts';

/**
 * What the hub accepts on the uplink beyond the protocol's general limits (docs/protocol.md §2.3 and §5.1), checked on
 * the AMQP properties before anything is parsed or verified: a registration, a snapshot request or a receipt is a few
 * kilobytes (one small payload and the signer's certificates), so megabytes of one are refused as `too-large` without
 * costing the hub's serial loop a CMS parse and a FHIR validation.
 */
export const HUB_BODY_LIMITS: Readonly<Partial<Record<MessageType, number>>> = {
  [T.endpointRegister]: 64 * 1024,
  [T.directorySnapshotRequest]: 64 * 1024,
  [T.receipt]: 64 * 1024,
};

export function bodyLimitOf(type: MessageType): number {
  return HUB_BODY_LIMITS[type] ?? PROTOCOL_LIMITS.maxBodyBytes;
}

/** An endpoint gets at most one full snapshot of one directory version per this time (docs/protocol.md §5.1). */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 60_000;
