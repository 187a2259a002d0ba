import type { TrustConfig } from '../shared/cms/index.ts';
import {
  PROTOCOL_LIMITS,
  UUID_PATTERN,
  MESSAGE_TYPES as T,
  MESSAGE_TYPE_SPECS,
  REASON_CODES,
  type OpenContext,
  type MessageType,
  type ReasonCode,
} from '../shared/protocol/index.ts';
import type { EndpointProvisioner } from './broker/endpoint-provisioner.ts';
import type { CertificateCache } from '../shared-node/index.ts';
import * as store from './store/hub-store.ts';
import { admit, claim, claimAll } from './uplink/admission.ts';
import { forwardReceipt, routeConsult } from './uplink/consult-routing.ts';
import {
  reject,
  Rejected,
  type Hub,
  type HubIdentity,
  type ProcessContext,
  type UplinkMessage,
} from './uplink/context.ts';
import { completeFullList, publish } from './uplink/directory-publish.ts';
import { serveDueSnapshots, snapshot, snapshotRequest } from './uplink/directory-snapshot.ts';
import { distributeCrl, flush, sendReceipt } from './uplink/outgoing.ts';
import { register } from './uplink/registration.ts';
import { DEFAULT_SNAPSHOT_INTERVAL_MS } from './uplink-limits.ts';

export {
  createProcessContext,
  type HubIdentity,
  type Outbound,
  type Outgoing,
  type ProcessContext,
  type UplinkMessage,
} from './uplink/context.ts';

/**
 * What the hub does with one uplink message, inside the transaction that records it (docs/protocol.md; the hub's
 * side is summarized in hub/README.md):
 *   1. properties (type, version, ids, size, replay window) — the codec;
 *   2. sender: the broker-verified sender and the uplink routing key must both be rtsSender, and user_id if given the
 *      broker-verified sender (forged-sender);
 *   3. de-duplication by message_id (a repeat gets the first outcome's receipt again, nothing else);
 *   4. the type's own work: registration, directory publish or snapshot request (signed, read and verified here), or
 *      routing of consult messages and receipts by their clear-text properties (the hub cannot decrypt consults);
 *   5. outgoing messages: the hub's own (directory updates, snapshots, notices, receipts) written to the outbox table;
 *      forwarded consult messages and receipts, and `delivered` receipts, only put in the context, for the caller to
 *      send before it commits.
 * Permanent failures are dead-lettered with the reason and answered with a `rejected` receipt. Anything thrown is
 * transient: the caller rolls the transaction back and releases the message for redelivery.
 * Steps 1–3 are uplink/admission.ts, step 4 uplink/registration.ts, directory-publish.ts, directory-snapshot.ts and
 * consult-routing.ts, step 5 uplink/outgoing.ts; this file composes them.
 */
export interface ProcessorOptions {
  readonly identity: HubIdentity;
  readonly trust: TrustConfig;
  readonly certificates: CertificateCache;
  readonly provisioner: Pick<EndpointProvisioner, 'provision'>;
  /** Payload validation of a signed message with this body, e.g. prefetched on a worker (payload-validation-pool.ts). */
  readonly validateFor?: (body: Uint8Array) => OpenContext['validate'];
  /** An endpoint gets at most one full snapshot per this time (docs/protocol.md §5.1). */
  readonly snapshotIntervalMs?: number;
  readonly now?: () => Date;
}

export type ProcessOutcome =
  | { readonly outcome: 'processed' | 'delivered' | 'duplicate' }
  | {
      readonly outcome: 'rejected';
      readonly reason: ReasonCode;
      readonly detail: string;
      readonly deadLetterId: number;
    };

export interface UplinkProcessor {
  process(context: ProcessContext, message: UplinkMessage): Promise<ProcessOutcome>;
  /** De-duplication records of a burst in one statement, before processing it message by message. */
  claimAll(context: ProcessContext, messages: readonly UplinkMessage[]): Promise<void>;
  /**
   * Writes what the context queued; call before the transaction commits. The forwards are left to the caller to send
   * before the commit, unless `forwards` asks for them to be written too (see outgoing.ts `flush`).
   */
  flush(context: ProcessContext, options?: { forwards?: boolean }): Promise<void>;
  /** Sends a full snapshot to one endpoint (registration, snapshot request, or an operator's resync). */
  snapshot(context: ProcessContext, endpointId: string): Promise<{ version: number; batches: number }>;
  /** Sends the snapshots that requests made too soon after the last one are waiting for, once their interval is over. */
  serveDueSnapshots(context: ProcessContext, limit: number): Promise<number>;
  /** Verifies signatures and certificates against this trust from now on (a newer CRL was taken). */
  useTrust(trust: TrustConfig): void;
  /**
   * Fans a CRL the hub holds out to every registered endpoint (hub.notice crl-updated, protocol §5.3) and records it
   * with its DER, unless an instance already did; returns the number of endpoints it went to, or undefined if it had
   * been sent before.
   */
  distributeCrl(context: ProcessContext, crl: Uint8Array, by: string): Promise<number | undefined>;
}

/** Types whose work writes to the database (registration, directory); the others only route. */
const HUB_BOUND_TYPES: ReadonlySet<MessageType> = new Set([
  T.endpointRegister,
  T.directoryPublish,
  T.directorySnapshotRequest,
]);

export function createUplinkProcessor(options: ProcessorOptions): UplinkProcessor {
  const hub: Hub = {
    identity: options.identity,
    certificates: options.certificates,
    provisioner: options.provisioner,
    ...(options.validateFor && { validateFor: options.validateFor }),
    snapshotIntervalMs: options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS,
    now: options.now ?? (() => new Date()),
    trust: options.trust,
    admissions: new WeakMap(),
  };

  async function process(context: ProcessContext, message: UplinkMessage): Promise<ProcessOutcome> {
    const admission = admit(hub, message);
    const verifiedSender = message.verifiedSender ?? '';
    const type =
      admission.metadata?.properties.rtsType ?? String(message.stored.properties.application_properties.rtsType ?? '');
    const messageId = message.stored.properties.message_id;
    // Every permanent failure is answered, those of the AMQP properties too, as long as the receipt can name the
    // message: its correlation_id must be the message's id, which then has to be a UUID string (protocol §6.1).
    const answerable = typeof message.fields.message_id === 'string' && UUID_PATTERN.test(message.fields.message_id);

    const deadLetter = async (reason: ReasonCode, detail: string, recorded: boolean): Promise<ProcessOutcome> => {
      const deadLetterId = await store.addDeadLetter(context.tx, {
        messageId,
        source: context.source,
        sender: verifiedSender,
        type,
        reason,
        detail,
        message: message.stored,
        at: hub.now(),
      });
      if (recorded) await store.setMessageOutcome(context.tx, messageId, 'rejected', reason);
      // Receipts are never answered by receipts; the receipt goes to who really sent it (the broker-verified sender),
      // not who it claims, and only if that is a registered endpoint (sendReceipt: it has a downlink).
      if (type !== T.receipt && verifiedSender && answerable)
        await sendReceipt(hub, context, verifiedSender, messageId, 'rejected', { code: reason, detail });
      return { outcome: 'rejected', reason, detail, deadLetterId };
    };

    if (!admission.ok) return deadLetter(admission.reason, admission.detail, false);
    const { metadata, body, sender } = admission;

    if (!(await claim(hub, context, admission))) {
      const earlier = await store.getProcessed(context.tx, messageId);
      if (earlier && earlier.outcome !== 'processed' && type !== T.receipt) {
        const reason = earlier.reason as ReasonCode | null;
        await sendReceipt(
          hub,
          context,
          sender,
          messageId,
          earlier.outcome,
          reason ? { code: reason, detail: 'this message was received before' } : undefined,
        );
      }
      return { outcome: 'duplicate' };
    }

    // A rejection undoes whatever the type's work wrote, keeping only the de-duplication record and the dead letter.
    // Routing writes nothing before it can be rejected (its messages wait in `pending`), so it needs no savepoint.
    const writes = HUB_BOUND_TYPES.has(admission.type);
    if (writes) await context.tx.query('savepoint hub_work');
    const queuedBefore = {
      pending: context.pending.messages.length,
      rows: context.outgoing.rows.length,
      forwards: context.forwards.length,
      delivered: context.delivered.length,
    };
    try {
      if (MESSAGE_TYPE_SPECS[metadata.properties.rtsType].from === 'hub')
        reject(REASON_CODES.notAuthorized, `only the hub sends ${metadata.properties.rtsType}`);
      switch (metadata.properties.rtsType) {
        case T.endpointRegister:
          await register(hub, context, metadata, body);
          return { outcome: 'processed' };
        case T.directorySnapshotRequest:
          await snapshotRequest(hub, context, metadata, body);
          return { outcome: 'processed' };
        case T.directoryPublish:
          await publish(hub, context, message, metadata);
          await sendReceipt(hub, context, sender, messageId, 'processed');
          return { outcome: 'processed' };
        case T.consultRequest:
        case T.consultStatus:
        case T.consultReport:
          await routeConsult(hub, context, message, metadata);
          return { outcome: 'delivered' };
        case T.receipt:
          await forwardReceipt(hub, context, message, metadata);
          return { outcome: 'processed' };
        default:
          return reject(REASON_CODES.unknownType, `${metadata.properties.rtsType} is not handled by the hub`);
      }
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      if (writes) await context.tx.query('rollback to savepoint hub_work');
      // What it queued is dropped unawaited (a seal that fails then fails unheard: outgoing.ts `sealed`).
      void context.pending.messages.splice(queuedBefore.pending);
      context.outgoing.rows.splice(queuedBefore.rows);
      context.forwards.splice(queuedBefore.forwards);
      void context.delivered.splice(queuedBefore.delivered);
      const props = metadata.properties;
      if (
        props.rtsType === T.directoryPublish &&
        props.rtsDirectoryMode === 'full' &&
        (await countsTowardsItsSet(context, sender, props.rtsBatchCount))
      ) {
        // Only this batch's entries are refused (§5.1); the last batch in completes the set, retiring nothing. Under
        // the directory lock, which the rollback above released: another instance may be counting this set's batches.
        await store.lockDirectory(context.tx);
        const received = await store.rejectPublishBatch(context.tx, {
          batchId: props.rtsBatchId,
          publisher: sender,
          batchCount: props.rtsBatchCount,
          index: props.rtsBatchIndex,
          messageId,
          reason: error.reason,
          at: hub.now(),
        });
        if (received === props.rtsBatchCount)
          await completeFullList(hub, context, sender, props.rtsBatchId, props.rtsBatchCount, messageId);
      }
      return deadLetter(error.reason, error.message, true);
    }
  }

  /** A refused batch counts towards its set only if a clinic system sent it for a set it could complete. */
  async function countsTowardsItsSet(context: ProcessContext, sender: string, batchCount: number): Promise<boolean> {
    if (batchCount > PROTOCOL_LIMITS.maxBatchesPerSet) return false;
    return (await store.getEndpoint(context.tx, sender))?.kind === 'clinic-system';
  }

  return {
    process,
    claimAll: (context, messages) => claimAll(hub, context, messages),
    flush: (context, flushOptions) => flush(hub, context, flushOptions),
    snapshot: (context, endpointId) => snapshot(hub, context, endpointId),
    serveDueSnapshots: (context, limit) => serveDueSnapshots(hub, context, limit),
    useTrust(next) {
      hub.trust = next;
      options.certificates.useTrust(next);
    },
    distributeCrl: (context, crl, by) => distributeCrl(hub, context, crl, by),
  };
}
