import { randomUUID } from 'node:crypto';
import { commonNameOf } from '../../shared/pki/index.ts';
import { buildDirectorySnapshot, type DirectoryResource } from '../../shared/protocol/fhir/index.ts';
import {
  HUB_SENDER,
  MESSAGE_TYPES as T,
  PROTOCOL_VERSION,
  REASON_CODES,
  type MessageMetadata,
} from '../../shared/protocol/index.ts';
import { chunkDirectoryRows } from '../directory/directory-chunks.ts';
import * as store from '../store/hub-store.ts';
import { entryResource, practitionerAt, verifySigned } from './admission.ts';
import { reject, type Hub, type ProcessContext } from './context.ts';
import { queue, sealFromHub, sendNotice, sendReceipt } from './outgoing.ts';

/** Full directory snapshots: on registration, on an endpoint's request, or at an operator's resync. */

export async function snapshot(
  hub: Hub,
  context: ProcessContext,
  endpointId: string,
): Promise<{ version: number; batches: number }> {
  // The endpoint's snapshot state first, then the directory: every path takes the two locks in this order.
  await store.lockSnapshotState(context.tx, endpointId);
  // Read under the directory lock: a snapshot is one consistent version.
  const version = await store.lockDirectory(context.tx);
  const chunks = chunkDirectoryRows(await store.liveDirectoryRows(context.tx));
  const batchId = randomUUID();
  for (const [index, chunk] of chunks.entries()) {
    const entries = (
      await store.resourcesByUrl(
        context.tx,
        chunk.map((r) => r.url),
      )
    ).map((json) => JSON.parse(json) as DirectoryResource);
    const message = await sealFromHub(
      hub,
      {
        rtsType: T.directorySnapshot,
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: HUB_SENDER,
        rtsToEndpoint: endpointId,
        rtsBatchId: batchId,
        rtsBatchIndex: index + 1,
        rtsBatchCount: chunks.length,
        rtsDirectoryVersion: version,
      },
      (messageId, timestamp) =>
        buildDirectorySnapshot({ messageId, timestamp, sender: HUB_SENDER }, { toEndpoint: endpointId, entries }),
    );
    await queue(hub, context, [endpointId], message);
  }
  await store.snapshotSent(context.tx, endpointId, version, hub.now());
  return { version, batches: chunks.length };
}

/**
 * A snapshot an endpoint asked for (or registered for): building one reads the whole directory. An endpoint that
 * holds the current version is told so instead. One that got a snapshot of the current version within the interval
 * waits for the next, which `serveDueSnapshots` sends when the interval is over, once however many came (that
 * snapshot and the updates after it are already on its queue); after a directory change it is served at once, as
 * it may have lost an update (a gap). So an endpoint gets at most one snapshot per directory version or interval.
 */
export async function requestedSnapshot(
  hub: Hub,
  context: ProcessContext,
  endpointId: string,
  knownVersion?: number,
): Promise<void> {
  const state = await store.lockSnapshotState(context.tx, endpointId);
  const current = await store.directoryVersion(context.tx);
  if (knownVersion === current) {
    await sendNotice(
      hub,
      context,
      endpointId,
      'directory-up-to-date',
      `Directory version ${current} is the current one: no snapshot follows.`,
    );
    return;
  }
  if (
    state.version === current &&
    state.sentAt &&
    hub.now().getTime() - new Date(state.sentAt).getTime() < hub.snapshotIntervalMs
  ) {
    await store.deferSnapshot(context.tx, endpointId);
    return;
  }
  await snapshot(hub, context, endpointId);
}

export async function serveDueSnapshots(hub: Hub, context: ProcessContext, limit: number): Promise<number> {
  const due = await store.dueSnapshots(context.tx, new Date(hub.now().getTime() - hub.snapshotIntervalMs), limit);
  for (const endpointId of due) await snapshot(hub, context, endpointId);
  return due.length;
}

/** The `knownVersion` parameter of a snapshot request: the directory version the endpoint holds. */
function knownVersionOf(payload: Record<string, unknown>): number | undefined {
  const parameters = entryResource<{ parameter?: { name: string; valueInteger?: number }[] }>(payload, 1);
  return parameters.parameter?.find((p) => p.name === 'knownVersion')?.valueInteger;
}

/** From the operator's clinic system or, for a workstation, a practitioner reached there whom the operator publishes. */
export async function snapshotRequest(
  hub: Hub,
  context: ProcessContext,
  metadata: MessageMetadata,
  body: Uint8Array,
): Promise<void> {
  const sender = metadata.properties.rtsSender;
  const endpoint = await store.getEndpoint(context.tx, sender);
  if (!endpoint) return reject(REASON_CODES.notAuthorized, `${sender} is not registered`);
  const { signer, payload } = await verifySigned(hub, metadata, body);
  const operator = await store.getEndpoint(context.tx, endpoint.operator);
  if (!operator?.certificate || !Buffer.from(operator.certificate).equals(signer)) {
    if (endpoint.kind !== 'workstation')
      reject(
        REASON_CODES.signerMismatch,
        `signed by ${commonNameOf(signer) ?? 'a certificate without a name'}, not with the clinic system certificate of ${sender}`,
      );
    const { practitioner, publisher } = await practitionerAt(context, sender, signer);
    if (publisher !== endpoint.operator)
      reject(
        REASON_CODES.signerMismatch,
        `${practitioner} is published by ${publisher}, not by ${endpoint.operator}, which operates ${sender}`,
      );
  }
  await sendReceipt(hub, context, sender, metadata.messageId, 'processed');
  await requestedSnapshot(hub, context, sender, knownVersionOf(payload));
}
