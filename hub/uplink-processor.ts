import { createHash, randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { isCmsError, verify, type CmsSigner, type TrustConfig } from '../shared/cms/index.ts';
import { commonNameOf, describeCertificate, readCrl } from '../shared/pki/index.ts';
import { roleReferenceProblem } from '../shared/protocol/fhir/directory-entries.ts';
import type { ApplicationProperties } from '../shared/protocol/application-properties.ts';
import {
  buildDirectorySnapshot, buildDirectoryUpdate, buildHubNotice, buildReceipt, type DirectoryChange, type DirectoryResource,
} from '../shared/protocol/fhir/message-builders.ts';
import { validatePayload } from '../shared/protocol/fhir/payload-validator.ts';
import { UUID_PATTERN } from '../shared/protocol/identifiers.ts';
import { PROTOCOL_LIMITS } from '../shared/protocol/limits.ts';
import { decodeMessage, type AmqpMessageFields, type MessageMetadata } from '../shared/protocol/message-codec.ts';
import { openMessage, reasonForCmsError, sealMessage, signingTimeProblem, type OpenContext } from '../shared/protocol/message-envelope.ts';
import { MESSAGE_TYPES as T, MESSAGE_TYPE_SPECS, type MessageType } from '../shared/protocol/message-types.ts';
import { PROTOCOL_VERSION } from '../shared/protocol/protocol-version.ts';
import { failureClass, REASON_CODES, REASON_DESCRIPTIONS, type ReasonCode } from '../shared/protocol/reason-codes.ts';
import { certificateBindingProblem } from '../shared-node/certificate-binding.ts';
import type { StoredMessage } from '../transport/transport-store.ts';
import type { EndpointProvisioner } from './broker/rabbitmq-provisioner.ts';
import { ProvisioningError } from './broker/rabbitmq-provisioner.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { chunkDirectoryRows, publisherOf, resourceRows, type DirectoryResourceType, type DirectoryRow } from './directory/directory-chunks.ts';
import * as store from './store/hub-store.ts';
import type { SqlQueryable } from './store/sql-client.ts';
import { newestCrlPerAnchor } from './trust-reloader.ts';
import { DEFAULT_SNAPSHOT_INTERVAL_MS, bodyLimitOf } from './uplink-limits.ts';

/**
 * What the hub does with one uplink message, inside the transaction that records it (docs/protocol.md; the hub's
 * side is summarized in hub/README.md):
 *   1. properties (type, version, ids, size, replay window) — the codec;
 *   2. sender: the broker-verified user_id and the uplink routing key must both be rtsSender (forged-sender);
 *   3. de-duplication by message_id (a repeat gets the first outcome's receipt again, nothing else);
 *   4. the type's own work: registration, directory publish or snapshot request (signed, read and verified here), or
 *      routing of consult messages and receipts by their clear-text properties (the hub cannot decrypt consults);
 *   5. outgoing messages (forwarded copies, directory updates, snapshots, receipts) written to the outbox table.
 * Permanent failures are dead-lettered with the reason and answered with a `rejected` receipt. Anything thrown is
 * transient: the caller rolls the transaction back and releases the message for redelivery.
 */
export interface HubIdentity {
  /** The hub's signing certificate and key: it signs receipts, notices, snapshots and directory updates. */
  readonly signer: CmsSigner;
  /** The broker user the hub sends as (the user_id of everything it sends). */
  readonly brokerUser: string;
}

export interface ProcessorOptions {
  readonly identity: HubIdentity;
  readonly trust: TrustConfig;
  readonly certificates: CertificateCache;
  readonly provisioner: EndpointProvisioner;
  /** Payload validation of a signed message with this body, e.g. prefetched on a worker (payload-validation-pool.ts). */
  readonly validateFor?: (body: Uint8Array) => OpenContext['validate'];
  /** An endpoint gets at most one full snapshot per this time (docs/protocol.md §5.1). */
  readonly snapshotIntervalMs?: number;
  readonly now?: () => Date;
}

export interface UplinkMessage {
  readonly fields: AmqpMessageFields;
  /** The routing key the broker saw (`x-routing-key` annotation), when it reports one; RabbitMQ 3 does not. */
  readonly routingKey?: string;
  /** The message as received, for the dead-letter store. */
  readonly stored: StoredMessage;
}

export type ProcessOutcome =
  | { readonly outcome: 'processed' | 'delivered' | 'duplicate' }
  | { readonly outcome: 'rejected'; readonly reason: ReasonCode; readonly detail: string; readonly deadLetterId: number };

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
  /** Messages queued and not yet written: a burst of consults is written in a few statements rather than many. */
  readonly pending: { messages: { endpoints: readonly string[]; message: StoredMessage }[]; bytes: number; routes: { messageId: string; sender: string; recipients: readonly string[] }[] };
  /** Endpoints and roles read in this transaction (a burst of consults asks for the same ones over and over). */
  readonly cache: { readonly endpoints: Map<string, store.EndpointRecord | undefined>; readonly roles: Map<string, store.RoleRecord | undefined> };
  /** Message ids `claimAll` tried (each is used once), and those it claimed. */
  readonly claims: { readonly tried: Set<string>; readonly won: Set<string> };
}

export function createProcessContext(tx: SqlQueryable, claim: ProcessContext['claim'], source: string): ProcessContext {
  return {
    tx, claim, source, outgoing: { rows: [], bodies: new Map() }, pending: { messages: [], bytes: 0, routes: [] },
    cache: { endpoints: new Map(), roles: new Map() }, claims: { tried: new Set(), won: new Set() },
  };
}

/** Pending bytes past which queued messages are written at once (a directory change can queue hundreds of megabytes). */
const FLUSH_BYTES = 8 * 1024 * 1024;

export interface UplinkProcessor {
  process(context: ProcessContext, message: UplinkMessage): Promise<ProcessOutcome>;
  /** De-duplication records of a burst in one statement, before processing it message by message. */
  claimAll(context: ProcessContext, messages: readonly UplinkMessage[]): Promise<void>;
  /** Writes what the context queued; call before the transaction commits. */
  flush(context: ProcessContext): Promise<void>;
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

class Rejected extends Error {
  readonly reason: ReasonCode;
  constructor(reason: ReasonCode, detail: string) {
    super(detail);
    this.reason = reason;
  }
}

const reject = (reason: ReasonCode, detail: string): never => {
  // A transient reason (this hub's own CRL missing or stale) is no fault of the message: thrown as such, it is
  // released and retried, and the operator reads what to do in the log's transient-failure line.
  if (failureClass(reason) === 'transient') throw new Error(`${reason}: ${detail}`);
  throw new Rejected(reason, detail);
};

const HUB_SENDER = 'hub';
/** Types whose work writes to the database (registration, directory); the others only route. */
const HUB_BOUND_TYPES: ReadonlySet<MessageType> = new Set([T.endpointRegister, T.directoryPublish, T.directorySnapshotRequest]);
const EXTENSION_USE: Readonly<Record<string, 'signing' | 'encryption'>> = { signing: 'signing', encryption: 'encryption' };

/** The certificate extensions of a Practitioner (urn:rts:fhir:extension:certificate): use and base64 DER. */
function certificateExtensions(resource: Record<string, unknown>): { use?: string; base64?: string }[] {
  const extensions = (resource.extension as { url: string; extension?: { url: string; valueCode?: string; valueBase64Binary?: string }[] }[] | undefined) ?? [];
  return extensions.filter((e) => e.url === 'urn:rts:fhir:extension:certificate').map((e) => ({
    use: e.extension?.find((x) => x.url === 'use')?.valueCode,
    base64: e.extension?.find((x) => x.url === 'certificate')?.valueBase64Binary,
  }));
}

/** A clinic system's (or the hub's) certificate: the TLS-client purpose, which practitioners' certificates lack. */
function isClinicSystemCertificate(der: Uint8Array): boolean {
  return describeCertificate(der).extendedKeyUsage.includes('clientAuth');
}

/**
 * A practitioner signing certificate bound to the directory id it names (CN, practitioner-signing usage): any signing
 * certificate would not do (a clinic system's signs too).
 */
function isPractitionerSigningCertificate(der: Uint8Array, id: string): boolean {
  return certificateBindingProblem(der, 'signing', id) === undefined;
}

/** A directory change: a resource to store (json) or, without json, an entry to retire. */
interface ResourceRow extends DirectoryRow {
  readonly json?: string;
  readonly endpoints?: readonly string[];
  readonly digest: string;
}

export function createUplinkProcessor(options: ProcessorOptions): UplinkProcessor {
  const now = options.now ?? (() => new Date());
  const { identity } = options;
  let trust = options.trust;
  const snapshotIntervalMs = options.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;

  // --- sending -------------------------------------------------------------------------------------------------------

  async function queue(context: ProcessContext, endpoints: readonly string[], message: StoredMessage): Promise<void> {
    if (endpoints.length === 0) return;
    context.pending.messages.push({ endpoints, message });
    context.pending.bytes += message.body.byteLength;
    if (context.pending.bytes >= FLUSH_BYTES) await flush(context);
  }

  /** Each body once, however many endpoints it goes to; then the rows, in queue order. */
  async function flush(context: ProcessContext): Promise<void> {
    await store.recordRoutes(context.tx, context.pending.routes.splice(0), now());
    const messages = context.pending.messages.splice(0);
    context.pending.bytes = 0;
    if (messages.length === 0) return;
    const bodyIds = await store.insertBodies(context.tx, messages.map((m) => m.message.body));
    messages.forEach((m, i) => context.outgoing.bodies.set(bodyIds[i]!, m.message.body));
    const rows = await store.insertOutbox(
      context.tx,
      messages.flatMap((m, i) => m.endpoints.map((endpoint) => ({ endpoint, messageId: m.message.properties.message_id, properties: m.message.properties, bodyId: bodyIds[i]! }))),
      context.claim,
    );
    context.outgoing.rows.push(...rows);
  }

  async function endpointOf(context: ProcessContext, id: string): Promise<store.EndpointRecord | undefined> {
    if (!context.cache.endpoints.has(id)) context.cache.endpoints.set(id, await store.getEndpoint(context.tx, id));
    return context.cache.endpoints.get(id);
  }

  async function roleOf(context: ProcessContext, directoryId: string): Promise<store.RoleRecord | undefined> {
    if (!context.cache.roles.has(directoryId)) context.cache.roles.set(directoryId, await store.findRole(context.tx, directoryId));
    return context.cache.roles.get(directoryId);
  }

  async function sealFromHub(properties: ApplicationProperties, payload: (messageId: string, timestamp: Date) => Bundle, correlationId?: string): Promise<StoredMessage> {
    const messageId = randomUUID();
    const creationTime = now();
    const fields = await sealMessage({
      messageId, creationTime, userId: identity.brokerUser, properties, payload: payload(messageId, creationTime), signer: identity.signer,
      ...(correlationId && { correlationId }),
    });
    return {
      properties: {
        message_id: messageId, user_id: identity.brokerUser, creation_time: creationTime.getTime(), content_type: String(fields.content_type),
        application_properties: fields.application_properties, ...(correlationId && { correlation_id: correlationId }),
      },
      body: fields.body,
    };
  }

  async function sendReceipt(context: ProcessContext, toEndpoint: string, about: string, outcome: 'delivered' | 'processed' | 'rejected', reason?: { code: ReasonCode; detail: string }): Promise<void> {
    if (!(await endpointOf(context, toEndpoint))) return; // no downlink to answer on
    const message = await sealFromHub(
      { rtsType: T.receipt, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsReceipt: outcome, rtsToEndpoint: toEndpoint, ...(reason && { rtsReason: reason.code }) },
      (messageId, timestamp) => buildReceipt({ messageId, timestamp, sender: HUB_SENDER }, {
        toEndpoint, originalMessageId: about, outcome,
        ...(reason && { reasons: [{ code: reason.code, text: `${REASON_DESCRIPTIONS[reason.code]} ${reason.detail}`.slice(0, 1000) }] }),
      }),
      about,
    );
    await queue(context, [toEndpoint], message);
  }

  /** A signed crl-updated notice carrying `crl`: to one endpoint (after its registration), or to all. */
  async function crlNotice(crl: Uint8Array, toEndpoint?: string): Promise<StoredMessage> {
    const info = readCrl(crl);
    const text = `The revocation list of ${info.issuer}${info.crlNumber === undefined ? '' : `, number ${info.crlNumber}`}, issued ${info.thisUpdate.toISOString()}`
      + `${info.nextUpdate ? `, next update due ${info.nextUpdate.toISOString()}` : ''}: apply it if it verifies against your trust anchors and is newer than yours.`;
    return sealFromHub(
      { rtsType: T.hubNotice, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsNotice: 'crl-updated', ...(toEndpoint && { rtsToEndpoint: toEndpoint }) },
      (messageId, timestamp) => buildHubNotice({ messageId, timestamp, sender: HUB_SENDER }, { notice: 'crl-updated', text, crl, ...(toEndpoint && { toEndpoint }) }),
    );
  }

  async function distributeCrl(context: ProcessContext, crl: Uint8Array, by: string): Promise<number | undefined> {
    // Under the directory lock, as registrations take it: an endpoint registering meanwhile is either in the list
    // read here or registers afterwards, when it is sent the newest CRL recorded here.
    await store.lockDirectory(context.tx);
    const endpoints = await store.endpointIds(context.tx);
    const info = readCrl(crl);
    const first = await store.recordCrlDistribution(context.tx, {
      digest: createHash('sha256').update(crl).digest('hex'), issuer: info.issuer, crlNumber: info.crlNumber ?? null, thisUpdate: info.thisUpdate, crl,
      endpoints: endpoints.length, by, at: now(),
    });
    if (!first) return undefined;
    await queue(context, endpoints, await crlNotice(crl));
    return endpoints.length;
  }

  // --- opening signed messages ----------------------------------------------------------------------------------------

  async function openSigned(message: UplinkMessage, expected: readonly Uint8Array[]): Promise<{ metadata: MessageMetadata; payload: Record<string, unknown> }> {
    const opened = await openMessage(message.fields, {
      trust, now: now(), recipientFor: () => undefined, expectedSigners: () => expected, ...(options.validateFor && { validate: options.validateFor(message.fields.body as Uint8Array) }),
    });
    if (!opened.ok) return reject(opened.error.code, opened.error.detail);
    return opened.value;
  }

  function entryResource<R>(payload: Record<string, unknown>, index: number): R {
    return (payload.entry as { resource: R }[])[index]!.resource;
  }

  // --- registration ---------------------------------------------------------------------------------------------------

  async function register(context: ProcessContext, metadata: MessageMetadata, body: Uint8Array): Promise<void> {
    const sender = metadata.properties.rtsSender;
    if (sender === HUB_SENDER) reject(REASON_CODES.notAuthorized, `"${HUB_SENDER}" is the hub's own name`);
    const { signer, payload } = await verifySigned(metadata, body);
    const endpoint = entryResource<{ id: string; name?: string; connectionType: { code: string } }>(payload, 1);
    const organization = entryResource<{ name: string }>(payload, 2);
    if (endpoint.id !== sender) reject(REASON_CODES.headerMismatch, 'Endpoint.id differs from rtsSender');
    const kind = endpoint.connectionType.code as store.EndpointKind;

    let operator: string;
    if (kind === 'clinic-system') {
      const signerName = commonNameOf(signer);
      if (!isClinicSystemCertificate(signer)) reject(REASON_CODES.signerMismatch, 'a clinic system registers with its own clinic system certificate');
      if (signerName !== sender) reject(REASON_CODES.signerMismatch, `a clinic system registers with its own certificate; this one names ${signerName ?? 'no one'}`);
      operator = sender;
    } else {
      operator = await workstationOperator(context, sender, signer);
    }
    const existing = await store.getEndpoint(context.tx, sender);
    if (existing && existing.operator !== operator) reject(REASON_CODES.notAuthorized, `${sender} is operated by ${existing.operator}`);

    try {
      await options.provisioner.provision(sender);
    } catch (error) {
      if (error instanceof ProvisioningError && error.permanent) reject(REASON_CODES.notAuthorized, error.message);
      throw error;
    }
    context.cache.endpoints.delete(sender);
    await store.saveEndpoint(context.tx, {
      id: sender, kind, operator, name: endpoint.name ?? sender, organization: organization.name,
      certificate: kind === 'clinic-system' ? signer : null,
    }, now());
    const notice = await sealFromHub(
      { rtsType: T.hubNotice, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsNotice: 'registration-accepted', rtsToEndpoint: sender },
      (messageId, timestamp) => buildHubNotice({ messageId, timestamp, sender: HUB_SENDER }, { notice: 'registration-accepted', text: `Welcome, ${sender}. A directory snapshot follows.`, toEndpoint: sender }),
    );
    await queue(context, [sender], notice);
    // A new endpoint holds the CRL it was enrolled with, maybe older than the region's: it gets the newest at once,
    // this instance's or one another instance already fanned out (this one may not have read its file yet). Read
    // under the directory lock (the snapshot's two locks, in their order), which distributeCrl takes too: a CRL
    // distributed meanwhile is either among those read here or fanned out after this endpoint is recorded.
    await store.lockSnapshotState(context.tx, sender);
    await store.lockDirectory(context.tx);
    const crls = await newestCrlPerAnchor(trust.anchors, [...(trust.crls ?? []), ...await store.newestDistributedCrls(context.tx)]);
    for (const crl of crls) await queue(context, [sender], await crlNotice(crl, sender));
    await sendReceipt(context, sender, metadata.messageId, 'processed');
    await requestedSnapshot(context, sender);
  }

  /** Verifies a signed message whose signer is judged afterwards, from the certificate: registrations, snapshot requests. */
  async function verifySigned(metadata: MessageMetadata, body: Uint8Array): Promise<{ signer: Uint8Array; payload: Record<string, unknown> }> {
    let verified: { signer: { certificate: Uint8Array }; content: Uint8Array };
    try {
      const at = now();
      verified = await verify(body, trust, { now: at, maxBytes: PROTOCOL_LIMITS.maxBodyBytes, signingTimeProblem: (time) => signingTimeProblem(time, metadata.creationTime, at) });
    } catch (error) {
      if (isCmsError(error)) return reject(reasonForCmsError(error.code), error.message);
      throw error;
    }
    const validated = validatePayload(verified.content, metadata);
    if (!validated.ok) return reject(validated.error.code, validated.error.detail);
    return { signer: verified.signer.certificate, payload: validated.value };
  }

  /**
   * A workstation is vouched for by its clinic system (CN = the clinic's endpoint id), which then operates it, or —
   * as a workstation in the field holds its practitioner's key, never its clinic's — by a practitioner its clinic
   * publishes as reached there, and then that clinic operates it.
   */
  async function workstationOperator(context: ProcessContext, workstation: string, signer: Uint8Array): Promise<string> {
    if (isClinicSystemCertificate(signer)) {
      const name = commonNameOf(signer);
      const clinic = name === undefined ? undefined : await store.getEndpoint(context.tx, name);
      if (!clinic || clinic.kind !== 'clinic-system' || !clinic.certificate || !Buffer.from(clinic.certificate).equals(signer)) {
        reject(REASON_CODES.signerMismatch, `a workstation is registered by its clinic system or one of its practitioners; ${name ?? 'the signer'} is not a registered clinic system with this certificate`);
      }
      return name!;
    }
    const { practitioner, publisher } = await practitionerAt(context, workstation, signer);
    const clinic = await store.getEndpoint(context.tx, publisher);
    if (clinic?.kind !== 'clinic-system') reject(REASON_CODES.signerMismatch, `${publisher}, which publishes ${practitioner}, is not a registered clinic system`);
    return publisher;
  }

  /**
   * The practitioner whose signing certificate this is (CN = directory id), reached at the workstation: a live
   * PractitionerRole listing it, and a Practitioner entry carrying exactly this certificate. With the role's publisher.
   */
  async function practitionerAt(context: ProcessContext, workstation: string, signer: Uint8Array): Promise<{ practitioner: string; publisher: string }> {
    const id = commonNameOf(signer);
    const refuse = (why: string): never => reject(REASON_CODES.signerMismatch, `only the clinic system of ${workstation} or a practitioner reached there may sign this: ${why}`);
    if (id === undefined || !isPractitionerSigningCertificate(signer, id)) return refuse(`the certificate of ${id ?? 'the signer'} is not a practitioner signing certificate`);
    const role = await store.findRole(context.tx, id);
    if (!role || role.retired) return refuse(`${id} has no live PractitionerRole in the directory`);
    if (!role.endpoints.includes(workstation)) return refuse(`the PractitionerRole of ${id} does not list ${workstation}`);
    const [json] = await store.resourcesByUrl(context.tx, [`Practitioner/${id}`]);
    const signing = json ? certificateExtensions(JSON.parse(json) as Record<string, unknown>).filter((c) => c.use === 'signing') : [];
    if (!signing.some((c) => c.base64 !== undefined && Buffer.from(c.base64, 'base64').equals(signer))) {
      return refuse(`the directory entry of ${id} does not carry this signing certificate`);
    }
    return { practitioner: id, publisher: role.publisher };
  }

  // --- directory ------------------------------------------------------------------------------------------------------

  async function snapshot(context: ProcessContext, endpointId: string): Promise<{ version: number; batches: number }> {
    // The endpoint's snapshot state first, then the directory: every path takes the two locks in this order.
    await store.lockSnapshotState(context.tx, endpointId);
    // Read under the directory lock: a snapshot is one consistent version.
    const version = await store.lockDirectory(context.tx);
    const chunks = chunkDirectoryRows(await store.liveDirectoryRows(context.tx));
    const batchId = randomUUID();
    for (const [index, chunk] of chunks.entries()) {
      const entries = (await store.resourcesByUrl(context.tx, chunk.map((r) => r.url))).map((json) => JSON.parse(json) as DirectoryResource);
      const message = await sealFromHub(
        {
          rtsType: T.directorySnapshot, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsToEndpoint: endpointId,
          rtsBatchId: batchId, rtsBatchIndex: index + 1, rtsBatchCount: chunks.length, rtsDirectoryVersion: version,
        },
        (messageId, timestamp) => buildDirectorySnapshot({ messageId, timestamp, sender: HUB_SENDER }, { toEndpoint: endpointId, entries }),
      );
      await queue(context, [endpointId], message);
    }
    await store.snapshotSent(context.tx, endpointId, version, now());
    return { version, batches: chunks.length };
  }

  /**
   * A snapshot an endpoint asked for (or registered for): building one reads the whole directory. An endpoint that
   * holds the current version is told so instead. One that got a snapshot of the current version within the interval
   * waits for the next, which `serveDueSnapshots` sends when the interval is over, once however many came (that
   * snapshot and the updates after it are already on its queue); after a directory change it is served at once, as
   * it may have lost an update (a gap). So an endpoint gets at most one snapshot per directory version or interval.
   */
  async function requestedSnapshot(context: ProcessContext, endpointId: string, knownVersion?: number): Promise<void> {
    const state = await store.lockSnapshotState(context.tx, endpointId);
    const current = await store.directoryVersion(context.tx);
    if (knownVersion === current) {
      const notice = await sealFromHub(
        { rtsType: T.hubNotice, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsNotice: 'directory-up-to-date', rtsToEndpoint: endpointId },
        (messageId, timestamp) => buildHubNotice({ messageId, timestamp, sender: HUB_SENDER }, {
          notice: 'directory-up-to-date', text: `Directory version ${current} is the current one: no snapshot follows.`, toEndpoint: endpointId,
        }),
      );
      await queue(context, [endpointId], notice);
      return;
    }
    if (state.version === current && state.sentAt && now().getTime() - new Date(state.sentAt).getTime() < snapshotIntervalMs) {
      await store.deferSnapshot(context.tx, endpointId);
      return;
    }
    await snapshot(context, endpointId);
  }

  async function serveDueSnapshots(context: ProcessContext, limit: number): Promise<number> {
    const due = await store.dueSnapshots(context.tx, new Date(now().getTime() - snapshotIntervalMs), limit);
    for (const endpointId of due) await snapshot(context, endpointId);
    return due.length;
  }

  /** The `knownVersion` parameter of a snapshot request: the directory version the endpoint holds. */
  function knownVersionOf(payload: Record<string, unknown>): number | undefined {
    const parameters = entryResource<{ parameter?: { name: string; valueInteger?: number }[] }>(payload, 1);
    return parameters.parameter?.find((p) => p.name === 'knownVersion')?.valueInteger;
  }

  /** From the operator's clinic system or, for a workstation, a practitioner reached there whom the operator publishes. */
  async function snapshotRequest(context: ProcessContext, metadata: MessageMetadata, body: Uint8Array): Promise<void> {
    const sender = metadata.properties.rtsSender;
    const endpoint = await store.getEndpoint(context.tx, sender);
    if (!endpoint) return reject(REASON_CODES.notAuthorized, `${sender} is not registered`);
    const { signer, payload } = await verifySigned(metadata, body);
    const operator = await store.getEndpoint(context.tx, endpoint.operator);
    if (!operator?.certificate || !Buffer.from(operator.certificate).equals(signer)) {
      if (endpoint.kind !== 'workstation') reject(REASON_CODES.signerMismatch, `signed by ${commonNameOf(signer) ?? 'a certificate without a name'}, not with the clinic system certificate of ${sender}`);
      const { practitioner, publisher } = await practitionerAt(context, sender, signer);
      if (publisher !== endpoint.operator) reject(REASON_CODES.signerMismatch, `${practitioner} is published by ${publisher}, not by ${endpoint.operator}, which operates ${sender}`);
    }
    await sendReceipt(context, sender, metadata.messageId, 'processed');
    await requestedSnapshot(context, sender, knownVersionOf(payload));
  }

  /**
   * Checks the certificates a Practitioner carries: both uses present, each valid now under the regional CA, and each
   * bound to the entry (docs/protocol.md §5.1): subject CN = the directory id, the profile's usage for its use. A
   * clinic cannot publish its own entry with another clinic's expert's certificate, nor give an expert an encryption
   * certificate issued to someone else.
   */
  async function checkPractitionerCertificates(resource: Record<string, unknown>): Promise<void> {
    const uses = new Set<string>();
    const id = String(resource.id);
    for (const extension of certificateExtensions(resource)) {
      const use = EXTENSION_USE[extension.use ?? ''];
      if (!use || !extension.base64) reject(REASON_CODES.schemaInvalid, `Practitioner/${id}: certificate extension without use or certificate`);
      const der = Buffer.from(extension.base64!, 'base64');
      const failure = await options.certificates.check(der, use!, now());
      if (failure) reject(failure.code === 'cms-malformed' ? REASON_CODES.schemaInvalid : reasonForCmsError(failure.code), `Practitioner/${id}: ${failure.message}`);
      const unbound = certificateBindingProblem(der, use!, id);
      if (unbound) reject(unbound.kind === 'usage' ? REASON_CODES.wrongKeyUsage : REASON_CODES.notAuthorized, `Practitioner/${id}: ${unbound.detail}`);
      uses.add(use!);
    }
    if (!uses.has('signing') || !uses.has('encryption')) reject(REASON_CODES.schemaInvalid, `Practitioner/${String(resource.id)}: needs a signing and an encryption certificate`);
  }

  async function publish(context: ProcessContext, message: UplinkMessage, metadata: MessageMetadata): Promise<void> {
    const props = metadata.properties as Extract<ApplicationProperties, { rtsType: 'directory.publish' }>;
    const sender = props.rtsSender;
    const clinic = await store.getEndpoint(context.tx, sender);
    if (!clinic || clinic.kind !== 'clinic-system' || !clinic.certificate) reject(REASON_CODES.notAuthorized, `${sender} is not a registered clinic system`);
    // Instances take directory work one at a time: batches of one set, and versions, never interleave.
    await store.lockDirectory(context.tx);

    const set = props.rtsDirectoryMode === 'full' ? await store.getPublishSet(context.tx, props.rtsBatchId) : undefined;
    if (set && set.publisher !== sender) reject(REASON_CODES.notAuthorized, `batch set ${props.rtsBatchId} belongs to ${set.publisher}`);
    if (set?.state === 'rejected') reject((set.reason ?? REASON_CODES.schemaInvalid) as ReasonCode, `an earlier batch of set ${props.rtsBatchId} was rejected; publish the list again`);

    const { payload } = await openSigned(message, [clinic!.certificate!]);
    const inner = entryResource<{ type: string; entry: { resource?: Record<string, unknown>; request?: { method: string; url: string } }[] }>(payload, 1);
    const full = props.rtsDirectoryMode === 'full';
    if (full !== (inner.type === 'collection')) reject(REASON_CODES.schemaInvalid, `rtsDirectoryMode ${props.rtsDirectoryMode} needs a ${full ? 'collection' : 'transaction'} Bundle`);
    if (!full && (props.rtsBatchIndex !== 1 || props.rtsBatchCount !== 1)) reject(REASON_CODES.malformedProperties, 'a delta is batch 1 of 1');
    if (props.rtsBatchIndex > props.rtsBatchCount) reject(REASON_CODES.malformedProperties, 'rtsBatchIndex exceeds rtsBatchCount');
    if (props.rtsBatchCount > PROTOCOL_LIMITS.maxBatchesPerSet) reject(REASON_CODES.tooLarge, `rtsBatchCount: limit ${PROTOCOL_LIMITS.maxBatchesPerSet}`);
    if (set && set.batchCount !== props.rtsBatchCount) reject(REASON_CODES.malformedProperties, `rtsBatchCount differs from earlier batches of set ${props.rtsBatchId}`);

    let roles = 0;
    for (const entry of inner.entry) {
      const url = entry.request?.url ?? `${String(entry.resource?.resourceType)}/${String(entry.resource?.id)}`;
      const id = url.slice(url.indexOf('/') + 1);
      if (publisherOf(id) !== sender) reject(REASON_CODES.notAuthorized, `${url}: ${sender} may publish only directory ids starting with "${sender}."`);
      if (entry.request?.method === 'PUT' && url !== `${String(entry.resource?.resourceType)}/${String(entry.resource?.id)}`) reject(REASON_CODES.schemaInvalid, `${url}: request.url differs from the resource`);
      if (entry.resource?.resourceType === 'PractitionerRole') {
        roles += 1;
        const outside = roleReferenceProblem(entry.resource);
        if (outside) reject(REASON_CODES.notAuthorized, outside);
      }
      if (entry.resource?.resourceType === 'Practitioner') await checkPractitionerCertificates(entry.resource);
    }
    if (roles > PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch) reject(REASON_CODES.tooLarge, `${roles} PractitionerRoles in one batch, limit ${PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch}`);

    if (!full) {
      const resources = inner.entry.filter((e) => e.resource).map((e) => e.resource!);
      const retired = inner.entry.filter((e) => e.request?.method === 'DELETE').map((e) => e.request!.url);
      const rows = resourceRows(resources);
      await applyChanges(context, sender, metadata.messageId, [...rows, ...retired.map(retirementRow)]);
      return;
    }
    if (!set) await store.createPublishSet(context.tx, { batchId: props.rtsBatchId, publisher: sender, batchCount: props.rtsBatchCount, at: now() });
    const received = await store.addPublishBatch(context.tx, {
      batchId: props.rtsBatchId, index: props.rtsBatchIndex, messageId: metadata.messageId,
      entriesJson: JSON.stringify(inner.entry.map((e) => e.resource)),
    });
    if (received === props.rtsBatchCount) await applyFull(context, sender, props.rtsBatchId, props.rtsBatchCount, metadata.messageId);
  }

  function retirementRow(url: string): ResourceRow {
    const slash = url.indexOf('/');
    return { url, entryId: url.slice(slash + 1), resourceType: url.slice(0, slash) as DirectoryResourceType, digest: 'retired' };
  }

  /** A full list replaces what the clinic published before: what changed, then what it no longer lists, retired. */
  async function applyFull(context: ProcessContext, publisher: string, batchId: string, batchCount: number, messageId: string): Promise<void> {
    const before = await store.publisherDigests(context.tx, publisher);
    const writer = changeWriter(context, publisher, messageId);
    const listed = new Set<string>();
    // One stored batch at a time, so that a 100,000-expert list never sits in memory whole.
    for (let index = 1; index <= batchCount; index++) {
      const rows = resourceRows(JSON.parse(await store.publishBatchEntries(context.tx, batchId, index)) as Record<string, unknown>[]);
      for (const row of rows) listed.add(row.url);
      await writer.add(rows, before);
    }
    await writer.add([...before].filter(([url, entry]) => !entry.retired && !listed.has(url)).map(([url]) => retirementRow(url)), before);
    await writer.finish();
    await store.closePublishSet(context.tx, batchId, 'applied');
  }

  async function applyChanges(context: ProcessContext, publisher: string, messageId: string, rows: readonly ResourceRow[]): Promise<void> {
    const writer = changeWriter(context, publisher, messageId);
    await writer.add(rows, await store.entryDigests(context.tx, rows.map((r) => r.url)));
    await writer.finish();
  }

  /**
   * Applies the changes that differ from what is stored as consecutive directory versions of at most one batch each
   * (docs/protocol.md §5.1), and fans each version out to every registered endpoint — the publisher too, so that its
   * mirror follows the region's version sequence.
   */
  function changeWriter(context: ProcessContext, publisher: string, messageId: string) {
    let pending: ResourceRow[] = [];
    let pendingRoles = 0;
    let version: number | undefined;
    let endpoints: string[] = [];
    const limit = PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch;

    async function emit(): Promise<void> {
      const chunk = pending;
      pending = [];
      pendingRoles = 0;
      if (version === undefined) {
        version = await store.lockDirectory(context.tx);
        endpoints = await store.endpointIds(context.tx);
      }
      const base = version;
      version += 1;
      await store.writeEntries(context.tx, chunk.map((row) => ({ ...row, publisher })), version);
      const retirements = chunk.filter((row) => row.json === undefined).length;
      await store.recordDirectoryChange(context.tx, { version, publisher, messageId, upserts: chunk.length - retirements, retirements, at: now() });
      const changes: DirectoryChange[] = chunkDirectoryRows(chunk).flat()
        .map((row) => (row.json === undefined ? { retire: row.url } : { upsert: JSON.parse(row.json) as DirectoryResource }));
      const update = await sealFromHub(
        { rtsType: T.directoryUpdate, rtsVersion: PROTOCOL_VERSION, rtsSender: HUB_SENDER, rtsDirectoryBaseVersion: base, rtsDirectoryVersion: version },
        (id, timestamp) => buildDirectoryUpdate({ messageId: id, timestamp, sender: HUB_SENDER }, changes),
      );
      await queue(context, endpoints, update);
    }

    return {
      async add(rows: readonly ResourceRow[], known: Map<string, store.EntryDigest>): Promise<void> {
        for (const row of rows) {
          const stored = known.get(row.url);
          const changed = row.json === undefined ? stored !== undefined && !stored.retired : !stored || stored.retired || stored.digest !== row.digest;
          if (!changed) continue;
          pending.push(row);
          if (row.resourceType === 'PractitionerRole') pendingRoles += 1;
          if (pendingRoles >= limit || pending.length >= limit * 3) await emit();
        }
      },
      async finish(): Promise<void> {
        if (pending.length > 0) await emit();
        if (version !== undefined) await store.setDirectoryVersion(context.tx, version);
      },
    };
  }

  // --- routing --------------------------------------------------------------------------------------------------------

  async function routeConsult(context: ProcessContext, message: UplinkMessage, metadata: MessageMetadata): Promise<void> {
    const props = metadata.properties as Extract<ApplicationProperties, { rtsCase: string }>;
    const to = await roleOf(context, props.rtsToPractitioner);
    if (!to) reject(REASON_CODES.unknownRecipient, `${props.rtsToPractitioner} is not in the directory`);
    if (to!.retired) reject(REASON_CODES.retiredExpert, `${props.rtsToPractitioner} has been retired from the directory`);
    const from = await roleOf(context, props.rtsFromPractitioner);
    if (!from || from.retired || !(from.endpoints.includes(props.rtsSender) || from.publisher === props.rtsSender)) {
      reject(REASON_CODES.notAuthorized, `${props.rtsFromPractitioner} is not a practitioner reached at ${props.rtsSender}`);
    }
    // Only endpoints the expert's own clinic operates: a directory entry cannot divert consults elsewhere.
    const destinations: string[] = [];
    for (const id of to!.endpoints) {
      const endpoint = await endpointOf(context, id);
      if (endpoint && endpoint.operator === to!.publisher) destinations.push(id);
    }
    if (destinations.length === 0) reject(REASON_CODES.unknownRecipient, `no registered endpoint of ${props.rtsToPractitioner}`);
    await queue(context, destinations, forwarded(message.stored));
    context.pending.routes.push({ messageId: metadata.messageId, sender: props.rtsSender, recipients: destinations });
    await sendReceipt(context, props.rtsSender, metadata.messageId, 'delivered');
  }

  /** Only about a message the hub routed from the addressee to the receipt's sender: no endpoint can write to any other. */
  async function forwardReceipt(context: ProcessContext, message: UplinkMessage, metadata: MessageMetadata): Promise<void> {
    const props = metadata.properties as Extract<ApplicationProperties, { rtsType: 'receipt' }>;
    const to = props.rtsToEndpoint;
    if (!(await endpointOf(context, to))) reject(REASON_CODES.unknownRecipient, `${to} is not a registered endpoint`);
    const about = metadata.correlationId;
    if (!about) return reject(REASON_CODES.missingProperty, 'correlation_id: a receipt names the message it is about');
    if (!(await store.wasRouted(context.tx, { messageId: about, sender: to, recipient: props.rtsSender }))) {
      reject(REASON_CODES.notAuthorized, `${about} is no message the hub routed from ${to} to ${props.rtsSender}`);
    }
    await queue(context, [to], forwarded(message.stored));
  }

  /** The same message on the next hop: same id, properties and body; only user_id is the hub's (the broker checks it). */
  function forwarded(message: StoredMessage): StoredMessage {
    return { properties: { ...message.properties, user_id: identity.brokerUser }, body: message.body };
  }

  // --- one message ----------------------------------------------------------------------------------------------------

  type Admission =
    | { ok: true; metadata: MessageMetadata; body: Uint8Array; messageId: string; sender: string; type: MessageType }
    | { ok: false; reason: ReasonCode; detail: string; metadata?: MessageMetadata };

  /** Worked out once per message: `claimAll` and `process` both need it, and decoding is on the hot path. */
  const admissions = new WeakMap<UplinkMessage, Admission>();

  function admit(message: UplinkMessage): Admission {
    let admission = admissions.get(message);
    if (!admission) {
      admission = readAdmission(message);
      admissions.set(message, admission);
    }
    return admission;
  }

  /** Properties, then the sender: the broker-verified user_id and the uplink routing key must both be rtsSender. */
  function readAdmission(message: UplinkMessage): Admission {
    const decoded = decodeMessage(message.fields, { now: now() });
    if (!decoded.ok) return { ok: false, reason: decoded.error.code, detail: decoded.error.detail };
    const { metadata, body } = decoded.value;
    // Before anything is parsed or verified: a registration or a receipt of megabytes is refused at once.
    const limit = bodyLimitOf(metadata.properties.rtsType);
    if (body.byteLength > limit) return { ok: false, reason: REASON_CODES.tooLarge, detail: `body: ${body.byteLength} bytes, limit ${limit} for ${metadata.properties.rtsType}`, metadata };
    const sender = metadata.properties.rtsSender;
    const userId = message.stored.properties.user_id;
    const forged = (detail: string): Admission => ({ ok: false, reason: REASON_CODES.forgedSender, detail, metadata });
    if (!userId) return forged('user_id: missing, so the broker did not vouch for the sender');
    if (userId !== sender) return forged(`rtsSender ${sender} differs from the broker-verified user_id ${userId}`);
    if (message.routingKey !== undefined && message.routingKey !== sender) return forged(`rtsSender ${sender} differs from the uplink routing key ${message.routingKey}`);
    return { ok: true, metadata, body, messageId: metadata.messageId, sender, type: metadata.properties.rtsType };
  }

  const firstOutcome = (type: MessageType): store.ProcessedOutcome => (MESSAGE_TYPE_SPECS[type].caseScoped ? 'delivered' : 'processed');

  async function claimAll(context: ProcessContext, messages: readonly UplinkMessage[]): Promise<void> {
    const admitted = new Map<string, { messageId: string; sender: string; type: string; outcome: store.ProcessedOutcome }>();
    for (const message of messages) {
      const admission = admit(message);
      if (admission.ok && !admitted.has(admission.messageId)) {
        admitted.set(admission.messageId, { messageId: admission.messageId, sender: admission.sender, type: admission.type, outcome: firstOutcome(admission.type) });
      }
    }
    const won = await store.claimMessages(context.tx, [...admitted.values()], now());
    for (const id of admitted.keys()) context.claims.tried.add(id);
    for (const id of won) context.claims.won.add(id);
  }

  async function process(context: ProcessContext, message: UplinkMessage): Promise<ProcessOutcome> {
    const admission = admit(message);
    const userId = message.stored.properties.user_id;
    const type = admission.metadata?.properties.rtsType ?? String(message.stored.properties.application_properties.rtsType ?? '');
    const messageId = message.stored.properties.message_id;
    // Every permanent failure is answered, those of the AMQP properties too, as long as the receipt can name the
    // message: its correlation_id must be the message's id, which then has to be a UUID string (protocol §6.1).
    const answerable = typeof message.fields.message_id === 'string' && UUID_PATTERN.test(message.fields.message_id);

    const deadLetter = async (reason: ReasonCode, detail: string, recorded: boolean): Promise<ProcessOutcome> => {
      const deadLetterId = await store.addDeadLetter(context.tx, {
        messageId, source: context.source, sender: userId, type, reason, detail, message: message.stored, at: now(),
      });
      if (recorded) await store.setMessageOutcome(context.tx, messageId, 'rejected', reason);
      // Receipts are never answered by receipts; the receipt goes to who really sent it (user_id), not who it claims,
      // and only if that is a registered endpoint (sendReceipt: it has a downlink).
      if (type !== T.receipt && userId && answerable) await sendReceipt(context, userId, messageId, 'rejected', { code: reason, detail });
      return { outcome: 'rejected', reason, detail, deadLetterId };
    };

    if (!admission.ok) return deadLetter(admission.reason, admission.detail, false);
    const { metadata, body, sender } = admission;

    let claimed: boolean;
    if (context.claims.tried.delete(messageId)) claimed = context.claims.won.delete(messageId);
    else claimed = await store.claimMessage(context.tx, { messageId, sender, type, outcome: firstOutcome(admission.type), at: now() });
    if (!claimed) {
      const earlier = await store.getProcessed(context.tx, messageId);
      if (earlier && earlier.outcome !== 'processed' && type !== T.receipt) {
        const reason = earlier.reason as ReasonCode | null;
        await sendReceipt(context, sender, messageId, earlier.outcome, reason ? { code: reason, detail: 'this message was received before' } : undefined);
      }
      return { outcome: 'duplicate' };
    }

    // A rejection undoes whatever the type's work wrote, keeping only the de-duplication record and the dead letter.
    // Routing writes nothing before it can be rejected (its messages wait in `pending`), so it needs no savepoint.
    const writes = HUB_BOUND_TYPES.has(admission.type);
    if (writes) await context.tx.query('savepoint hub_work');
    const queuedBefore = { pending: context.pending.messages.length, rows: context.outgoing.rows.length };
    try {
      if (MESSAGE_TYPE_SPECS[metadata.properties.rtsType].from === 'hub') reject(REASON_CODES.notAuthorized, `only the hub sends ${metadata.properties.rtsType}`);
      switch (metadata.properties.rtsType) {
        case T.endpointRegister:
          await register(context, metadata, body);
          return { outcome: 'processed' };
        case T.directorySnapshotRequest:
          await snapshotRequest(context, metadata, body);
          return { outcome: 'processed' };
        case T.directoryPublish:
          await publish(context, message, metadata);
          await sendReceipt(context, sender, messageId, 'processed');
          return { outcome: 'processed' };
        case T.consultRequest:
        case T.consultStatus:
        case T.consultReport:
          await routeConsult(context, message, metadata);
          return { outcome: 'delivered' };
        case T.receipt:
          await forwardReceipt(context, message, metadata);
          return { outcome: 'processed' };
        default:
          return reject(REASON_CODES.unknownType, `${metadata.properties.rtsType} is not handled by the hub`);
      }
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      if (writes) await context.tx.query('rollback to savepoint hub_work');
      context.pending.messages.splice(queuedBefore.pending);
      context.outgoing.rows.splice(queuedBefore.rows);
      const props = metadata.properties;
      if (props.rtsType === T.directoryPublish && props.rtsDirectoryMode === 'full') {
        await store.rejectPublishSet(context.tx, { batchId: props.rtsBatchId, publisher: sender, batchCount: props.rtsBatchCount, reason: error.reason, at: now() });
      }
      return deadLetter(error.reason, error.message, true);
    }
  }

  function useTrust(next: TrustConfig): void {
    trust = next;
    options.certificates.useTrust(next);
  }

  return { process, claimAll, flush, snapshot, serveDueSnapshots, useTrust, distributeCrl };
}
