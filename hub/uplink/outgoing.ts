import { createHash } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { readCrl } from '../../shared/pki/index.ts';
import {
  HUB_SENDER,
  sealMessage,
  MESSAGE_TYPES as T,
  PROTOCOL_VERSION,
  REASON_DESCRIPTIONS,
  type ApplicationProperties,
  type ReasonCode,
} from '../../shared/protocol/index.ts';
import { buildHubNotice, buildReceipt } from '../../shared/protocol/fhir/index.ts';
import { newMessageId, type StoredMessage } from '../../transport/index.ts';
import * as store from '../store/hub-store.ts';
import { endpointOf, type Hub, type Outbound, type ProcessContext } from './context.ts';

/**
 * The hub's outgoing path: messages it seals are queued in the context and written to the outbox table (the hub makes
 * them durable); messages it forwards are only put in the context's forwards, sent before the commit by the caller.
 */

/** Pending bytes past which queued messages are written at once (a directory change can queue hundreds of megabytes). */
const FLUSH_BYTES = 8 * 1024 * 1024;

export async function queue(
  hub: Hub,
  context: ProcessContext,
  endpoints: readonly string[],
  message: StoredMessage,
): Promise<void> {
  if (endpoints.length === 0) return;
  context.pending.messages.push(Promise.resolve({ endpoints, message }));
  context.pending.bytes += message.body.byteLength;
  if (context.pending.bytes >= FLUSH_BYTES) await flush(hub, context);
}

/** A message of the hub's own being sealed: its place in the queue is taken now; whoever sends or writes it awaits it. */
function sealed(endpoints: readonly string[], sealing: Promise<StoredMessage>): Promise<Outbound> {
  const outbound = sealing.then((message) => ({ endpoints, message }));
  // A message refused meanwhile drops it from its queue unawaited, and its failure with it.
  outbound.catch(() => undefined);
  return outbound;
}

/** A consult message or receipt to the downlinks of `endpoints`, by reference: the caller sends it before the commit. */
export function forward(context: ProcessContext, endpoints: readonly string[], message: StoredMessage): void {
  if (endpoints.length > 0) context.forwards.push({ endpoints, message });
}

/**
 * Each body once, however many endpoints it goes to; then the rows, in queue order. With `forwards`, the forwards are
 * written too (an operator's replay: the message is in no queue any more, so the outbox must keep it).
 */
export async function flush(hub: Hub, context: ProcessContext, options: { forwards?: boolean } = {}): Promise<void> {
  await store.recordRoutes(context.tx, context.pending.routes.splice(0), hub.now());
  if (options.forwards) {
    context.pending.messages.push(
      ...context.forwards.splice(0).map((outbound) => Promise.resolve(outbound)),
      ...context.delivered.splice(0),
    );
  }
  const messages = await Promise.all(context.pending.messages.splice(0));
  context.pending.bytes = 0;
  if (messages.length === 0) return;
  const bodyIds = await store.insertBodies(
    context.tx,
    messages.map((m) => m.message.body),
  );
  messages.forEach((m, i) => context.outgoing.bodies.set(bodyIds[i]!, m.message.body));
  const rows = await store.insertOutbox(
    context.tx,
    messages.flatMap((m, i) =>
      m.endpoints.map((endpoint) => ({
        endpoint,
        messageId: m.message.properties.message_id,
        properties: m.message.properties,
        bodyId: bodyIds[i]!,
      })),
    ),
    context.claim,
  );
  context.outgoing.rows.push(...rows);
}

export async function sealFromHub(
  hub: Hub,
  properties: ApplicationProperties,
  payload: (messageId: string, timestamp: Date) => Bundle,
  correlationId?: string,
  messageId: string = newMessageId(),
): Promise<StoredMessage> {
  const { identity } = hub;
  const creationTime = hub.now();
  const fields = await sealMessage({
    messageId,
    creationTime,
    userId: identity.brokerUser,
    properties,
    payload: payload(messageId, creationTime),
    signer: identity.signer,
    ...(correlationId && { correlationId }),
  });
  return {
    properties: {
      message_id: messageId,
      user_id: identity.brokerUser,
      creation_time: creationTime.getTime(),
      content_type: String(fields.content_type),
      application_properties: fields.application_properties,
      ...(correlationId && { correlation_id: correlationId }),
    },
    body: fields.body,
  };
}

/** The same message on the next hop: same id, properties and body; only user_id is the hub's (the broker checks it). */
export function forwarded(hub: Hub, message: StoredMessage): StoredMessage {
  return { properties: { ...message.properties, user_id: hub.identity.brokerUser }, body: message.body };
}

/** The name space of `deliveredReceiptId` (any fixed 16 bytes: the hub alone makes these ids). */
const DELIVERED_NAMESPACE = Buffer.from('5d0f3c1e8a2b4c6d9e7f1a2b3c4d5e6f', 'hex');

/**
 * The id of the hub's `delivered` receipt about a message: derived from it (a name-based UUID, RFC 9562 version 5), so
 * that the receipt sent again after a crash before the commit, or for a duplicate, is absorbed by the endpoint's inbox
 * like the forward itself.
 */
export function deliveredReceiptId(about: string): string {
  const hash = createHash('sha1').update(DELIVERED_NAMESPACE).update(`delivered:${about}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
export async function sendReceipt(
  hub: Hub,
  context: ProcessContext,
  toEndpoint: string,
  about: string,
  outcome: 'delivered' | 'processed' | 'rejected',
  reason?: { code: ReasonCode; detail: string },
): Promise<void> {
  if (!(await endpointOf(context, toEndpoint))) return; // no downlink to answer on
  const sealing = sealFromHub(
    hub,
    {
      rtsType: T.receipt,
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: HUB_SENDER,
      rtsReceipt: outcome,
      rtsToEndpoint: toEndpoint,
      ...(reason && { rtsReason: reason.code }),
    },
    (messageId, timestamp) =>
      buildReceipt(
        { messageId, timestamp, sender: HUB_SENDER },
        {
          toEndpoint,
          originalMessageId: about,
          outcome,
          ...(reason && {
            reasons: [
              { code: reason.code, text: `${REASON_DESCRIPTIONS[reason.code]} ${reason.detail}`.slice(0, 1000) },
            ],
          }),
        },
      ),
    about,
    outcome === 'delivered' ? deliveredReceiptId(about) : newMessageId(),
  );
  // `delivered` answers a consult forwarded in the same transaction: it goes with the forwards, before the commit.
  (outcome === 'delivered' ? context.delivered : context.pending.messages).push(sealed([toEndpoint], sealing));
}

/** A signed hub.notice of a kind that carries only text, to one endpoint. */
export async function sendNotice(
  hub: Hub,
  context: ProcessContext,
  toEndpoint: string,
  notice: 'registration-accepted' | 'directory-up-to-date',
  text: string,
): Promise<void> {
  const message = await sealFromHub(
    hub,
    {
      rtsType: T.hubNotice,
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: HUB_SENDER,
      rtsNotice: notice,
      rtsToEndpoint: toEndpoint,
    },
    (messageId, timestamp) =>
      buildHubNotice({ messageId, timestamp, sender: HUB_SENDER }, { notice, text, toEndpoint }),
  );
  await queue(hub, context, [toEndpoint], message);
}

/** A signed crl-updated notice carrying `crl`: to one endpoint (after its registration), or to all. */
export async function crlNotice(hub: Hub, crl: Uint8Array, toEndpoint?: string): Promise<StoredMessage> {
  const info = readCrl(crl);
  const text =
    `The revocation list of ${info.issuer}${info.crlNumber === undefined ? '' : `, number ${info.crlNumber}`}, issued ${info.thisUpdate.toISOString()}` +
    `${info.nextUpdate ? `, next update due ${info.nextUpdate.toISOString()}` : ''}: apply it if it verifies against your trust anchors and is newer than yours.`;
  return sealFromHub(
    hub,
    {
      rtsType: T.hubNotice,
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: HUB_SENDER,
      rtsNotice: 'crl-updated',
      ...(toEndpoint && { rtsToEndpoint: toEndpoint }),
    },
    (messageId, timestamp) =>
      buildHubNotice(
        { messageId, timestamp, sender: HUB_SENDER },
        { notice: 'crl-updated', text, crl, ...(toEndpoint && { toEndpoint }) },
      ),
  );
}

/** See `UplinkProcessor.distributeCrl`. */
export async function distributeCrl(
  hub: Hub,
  context: ProcessContext,
  crl: Uint8Array,
  by: string,
): Promise<number | undefined> {
  // Under the directory lock, as registrations take it: an endpoint registering meanwhile is either in the list
  // read here or registers afterwards, when it is sent the newest CRL recorded here.
  await store.lockDirectory(context.tx);
  const endpoints = await store.endpointIds(context.tx);
  const info = readCrl(crl);
  const first = await store.recordCrlDistribution(context.tx, {
    digest: createHash('sha256').update(crl).digest('hex'),
    issuer: info.issuer,
    crlNumber: info.crlNumber ?? null,
    thisUpdate: info.thisUpdate,
    crl,
    endpoints: endpoints.length,
    by,
    at: hub.now(),
  });
  if (!first) return undefined;
  await queue(hub, context, endpoints, await crlNotice(hub, crl));
  return endpoints.length;
}
