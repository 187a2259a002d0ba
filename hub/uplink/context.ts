import type { CmsSigner, TrustConfig } from '../../shared/cms/index.ts';
import {
  failureClass,
  type AmqpMessageFields,
  type MessageMetadata,
  type OpenContext,
  type MessageType,
  type ReasonCode,
} from '../../shared/protocol/index.ts';
import type { StoredMessage } from '../../transport/index.ts';
import type { EndpointProvisioner } from '../broker/endpoint-provisioner.ts';
import type { CertificateCache } from '../../shared-node/index.ts';
import * as store from '../store/hub-store.ts';
import type { SqlQueryable } from '../store/sql-client.ts';

/** What the uplink modules share: the hub's state (`Hub`, one per processor) and one transaction's (`ProcessContext`). */

export interface HubIdentity {
  /** The hub's signing certificate and key: it signs receipts, notices, snapshots and directory updates. */
  readonly signer: CmsSigner;
  /** The broker user the hub sends as (the user_id of everything it sends). */
  readonly brokerUser: string;
}

export interface UplinkMessage {
  readonly fields: AmqpMessageFields;
  /**
   * The endpoint the broker vouches sent it (BrokerAdapter.verifiedSender: RabbitMQ's checked user_id, the uplink
   * address an Artemis divert recorded); absent when it vouches for none.
   */
  readonly verifiedSender?: string;
  /** The routing key the broker saw (`x-routing-key` annotation), when it reports one; RabbitMQ 3 does not. */
  readonly routingKey?: string;
  /** The message as received, for the dead-letter store. */
  readonly stored: StoredMessage;
}

/** One message on its way to the downlinks of `endpoints`. */
export interface Outbound {
  readonly endpoints: readonly string[];
  readonly message: StoredMessage;
}

/** Outgoing messages of the transaction, to be sent once it commits. */
export interface Outgoing {
  readonly rows: store.OutboxRow[];
  readonly bodies: Map<number, Uint8Array>;
}

export interface ProcessContext {
  readonly tx: SqlQueryable;
  /** Where outgoing rows go; claimed by this instance (sent right after commit) or left for any instance to take. */
  readonly claim: { readonly by: string | null; readonly until: Date };
  /** Filled by `flush`: the rows written, and their bodies. */
  readonly outgoing: Outgoing;
  /** Logical source recorded with dead letters: uplink, replay. */
  readonly source: string;
  /**
   * Consult messages and receipts forwarded by reference: never written here, sent by the caller before the commit
   * (hub-transactions.ts), while the uplink delivery they came with stays unsettled as their durable copy.
   */
  readonly forwards: Outbound[];
  /** The hub's `delivered` receipts about them, being sealed: sent with the forwards, before the commit, likewise. */
  readonly delivered: Promise<Outbound>[];
  /**
   * The hub's own messages queued and not yet written: a burst of receipts is written in a few statements. Promises:
   * a message may still be being sealed (the seals of a burst overlap, on the crypto threads); `flush` awaits them.
   */
  readonly pending: {
    messages: Promise<Outbound>[];
    bytes: number;
    routes: { messageId: string; sender: string; recipients: readonly string[] }[];
  };
  /** Endpoints and roles read in this transaction (a burst of consults asks for the same ones over and over). */
  readonly cache: {
    readonly endpoints: Map<string, store.EndpointRecord | undefined>;
    readonly roles: Map<string, store.RoleRecord | undefined>;
  };
  /** Message ids `claimAll` tried (each is used once), and those it claimed. */
  readonly claims: { readonly tried: Set<string>; readonly won: Set<string> };
}

export function createProcessContext(tx: SqlQueryable, claim: ProcessContext['claim'], source: string): ProcessContext {
  return {
    tx,
    claim,
    source,
    outgoing: { rows: [], bodies: new Map() },
    forwards: [],
    delivered: [],
    pending: { messages: [], bytes: 0, routes: [] },
    cache: { endpoints: new Map(), roles: new Map() },
    claims: { tried: new Set(), won: new Set() },
  };
}

/** A message's properties and sender as admitted, or why it was not (admission.ts). */
export type Admission =
  | { ok: true; metadata: MessageMetadata; body: Uint8Array; messageId: string; sender: string; type: MessageType }
  | { ok: false; reason: ReasonCode; detail: string; metadata?: MessageMetadata };

/** The processor's own state, passed to every module explicitly. */
export interface Hub {
  readonly identity: HubIdentity;
  readonly certificates: CertificateCache;
  readonly provisioner: Pick<EndpointProvisioner, 'provision'>;
  /** Payload validation of a signed message with this body, e.g. prefetched on a worker (payload-validation-pool.ts). */
  readonly validateFor?: (body: Uint8Array) => OpenContext['validate'];
  /** An endpoint gets at most one full snapshot per this time (docs/protocol.md §5.1). */
  readonly snapshotIntervalMs: number;
  readonly now: () => Date;
  /** Replaced when a newer CRL is taken (`useTrust`). */
  trust: TrustConfig;
  /** Worked out once per message: `claimAll` and `process` both need it, and decoding is on the hot path. */
  readonly admissions: WeakMap<UplinkMessage, Admission>;
}

/** A permanent failure of one message: dead-lettered and answered with a `rejected` receipt. */
export class Rejected extends Error {
  readonly reason: ReasonCode;
  constructor(reason: ReasonCode, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

export const reject = (reason: ReasonCode, detail: string): never => {
  // A transient reason (this hub's own CRL missing or stale) is no fault of the message: thrown as such, it is
  // released and retried, and the operator reads what to do in the log's transient-failure line.
  if (failureClass(reason) === 'transient') throw new Error(`${reason}: ${detail}`);
  throw new Rejected(reason, detail);
};

export async function endpointOf(context: ProcessContext, id: string): Promise<store.EndpointRecord | undefined> {
  if (!context.cache.endpoints.has(id)) context.cache.endpoints.set(id, await store.getEndpoint(context.tx, id));
  return context.cache.endpoints.get(id);
}

export async function roleOf(context: ProcessContext, directoryId: string): Promise<store.RoleRecord | undefined> {
  if (!context.cache.roles.has(directoryId))
    context.cache.roles.set(directoryId, await store.findRole(context.tx, directoryId));
  return context.cache.roles.get(directoryId);
}
