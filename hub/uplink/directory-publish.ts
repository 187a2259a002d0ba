import pLimit from 'p-limit';
import {
  certificatesOf,
  roleReferenceProblem,
  buildDirectoryUpdate,
  type DirectoryChange,
  type DirectoryResource,
} from '../../shared/protocol/fhir/index.ts';
import {
  HUB_SENDER,
  PROTOCOL_LIMITS,
  reasonForCmsError,
  MESSAGE_TYPES as T,
  PROTOCOL_VERSION,
  REASON_CODES,
  type ApplicationProperties,
  type MessageMetadata,
  type ReasonCode,
} from '../../shared/protocol/index.ts';
import { certificateBindingProblem } from '../../shared-node/index.ts';
import {
  chunkDirectoryRows,
  publisherOf,
  resourceRows,
  type DirectoryResourceType,
  type DirectoryRow,
} from '../directory/directory-chunks.ts';
import * as store from '../store/hub-store.ts';
import { entryResource, openSigned } from './admission.ts';
import { reject, type Hub, type ProcessContext, type UplinkMessage } from './context.ts';
import { queue, sealFromHub } from './outgoing.ts';

/** A clinic system's directory publish: a delta, or one batch of a full list; applied as new directory versions. */

/** A directory change: a resource to store (json) or, without json, an entry to retire. */
interface ResourceRow extends DirectoryRow {
  readonly json?: string;
  readonly endpoints?: readonly string[];
  readonly digest: string;
}

export async function publish(
  hub: Hub,
  context: ProcessContext,
  message: UplinkMessage,
  metadata: MessageMetadata,
): Promise<void> {
  const props = metadata.properties as Extract<ApplicationProperties, { rtsType: 'directory.publish' }>;
  const sender = props.rtsSender;
  const clinic = await store.getEndpoint(context.tx, sender);
  if (!clinic || clinic.kind !== 'clinic-system' || !clinic.certificate)
    reject(REASON_CODES.notAuthorized, `${sender} is not a registered clinic system`);
  // Instances take directory work one at a time: batches of one set, and versions, never interleave.
  await store.lockDirectory(context.tx);

  const set = props.rtsDirectoryMode === 'full' ? await store.getPublishSet(context.tx, props.rtsBatchId) : undefined;
  if (set && set.publisher !== sender)
    reject(REASON_CODES.notAuthorized, `batch set ${props.rtsBatchId} belongs to ${set.publisher}`);
  if (set?.state === 'rejected')
    reject(
      (set.reason ?? REASON_CODES.schemaInvalid) as ReasonCode,
      `an earlier batch of set ${props.rtsBatchId} was rejected; publish the list again`,
    );
  // A batch of a set that is done, or a batch index that came already (its message id is new: the same message again
  // would have been a duplicate), changes nothing: its entries were applied or refused, and the set's listing stands.
  if (set?.state === 'applied')
    reject(
      REASON_CODES.malformedProperties,
      `set ${props.rtsBatchId} is complete and applied; publish a new list under a new rtsBatchId`,
    );
  if (set && (await store.publishBatch(context.tx, props.rtsBatchId, props.rtsBatchIndex)))
    reject(
      REASON_CODES.malformedProperties,
      `batch ${props.rtsBatchIndex} of set ${props.rtsBatchId} came already; publish the list again under a new rtsBatchId`,
    );

  const { payload } = await openSigned(hub, message, [clinic!.certificate!]);
  const inner = entryResource<{
    type: string;
    entry: { resource?: Record<string, unknown>; request?: { method: string; url: string } }[];
  }>(payload, 1);
  const full = props.rtsDirectoryMode === 'full';
  if (full !== (inner.type === 'collection'))
    reject(
      REASON_CODES.schemaInvalid,
      `rtsDirectoryMode ${props.rtsDirectoryMode} needs a ${full ? 'collection' : 'transaction'} Bundle`,
    );
  if (!full && (props.rtsBatchIndex !== 1 || props.rtsBatchCount !== 1))
    reject(REASON_CODES.malformedProperties, 'a delta is batch 1 of 1');
  if (props.rtsBatchIndex > props.rtsBatchCount)
    reject(REASON_CODES.malformedProperties, 'rtsBatchIndex exceeds rtsBatchCount');
  if (props.rtsBatchCount > PROTOCOL_LIMITS.maxBatchesPerSet)
    reject(REASON_CODES.tooLarge, `rtsBatchCount: limit ${PROTOCOL_LIMITS.maxBatchesPerSet}`);
  if (set && set.batchCount !== props.rtsBatchCount)
    reject(REASON_CODES.malformedProperties, `rtsBatchCount differs from earlier batches of set ${props.rtsBatchId}`);

  // The Practitioners' certificates are checked together (the native validator verifies on the thread pool: 0.16 ms a
  // certificate together, 0.26 ms one at a time), a bounded number at once, so that a 1,000-expert batch does not queue
  // 2,000 verifications ahead of every other message's crypto; the answer is still the first problem in entry order.
  const certificateChecks: Promise<void>[] = [];
  /** The first check in entry order that refused (or failed): settled all, so that a later one cannot overtake it. */
  const firstCertificateProblem = async (): Promise<Error | undefined> =>
    (await Promise.allSettled(certificateChecks)).find((check) => check.status === 'rejected')?.reason as
      Error | undefined;
  let roles = 0;
  try {
    for (const entry of inner.entry) {
      const url = entry.request?.url ?? `${String(entry.resource?.resourceType)}/${String(entry.resource?.id)}`;
      const id = url.slice(url.indexOf('/') + 1);
      if (publisherOf(id) !== sender)
        reject(
          REASON_CODES.notAuthorized,
          `${url}: ${sender} may publish only directory ids starting with "${sender}."`,
        );
      if (
        entry.request?.method === 'PUT' &&
        url !== `${String(entry.resource?.resourceType)}/${String(entry.resource?.id)}`
      )
        reject(REASON_CODES.schemaInvalid, `${url}: request.url differs from the resource`);
      if (entry.resource?.resourceType === 'PractitionerRole') {
        roles += 1;
        const outside = roleReferenceProblem(entry.resource);
        if (outside) reject(REASON_CODES.notAuthorized, outside);
      }
      if (entry.resource?.resourceType === 'Practitioner')
        certificateChecks.push(certificateSlots(() => checkPractitionerCertificates(hub, entry.resource!)));
    }
  } catch (error) {
    throw (await firstCertificateProblem()) ?? error;
  }
  const certificateProblem = await firstCertificateProblem();
  if (certificateProblem !== undefined) throw certificateProblem;
  if (roles > PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch)
    reject(
      REASON_CODES.tooLarge,
      `${roles} PractitionerRoles in one batch, limit ${PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch}`,
    );

  if (!full) {
    const resources = inner.entry.filter((e) => e.resource).map((e) => e.resource!);
    const retired = inner.entry.filter((e) => e.request?.method === 'DELETE').map((e) => e.request!.url);
    const rows = resourceRows(resources);
    await applyChanges(hub, context, sender, metadata.messageId, [...rows, ...retired.map(retirementRow)]);
    return;
  }
  if (!set)
    await store.createPublishSet(context.tx, {
      batchId: props.rtsBatchId,
      publisher: sender,
      batchCount: props.rtsBatchCount,
      at: hub.now(),
    });
  // §5.1: each batch of a full list is applied as it arrives; only the retirements wait for the last one.
  const rows = resourceRows(inner.entry.map((e) => e.resource).filter((r) => r !== undefined));
  await applyChanges(hub, context, sender, metadata.messageId, rows);
  const received = await store.addPublishBatch(context.tx, {
    batchId: props.rtsBatchId,
    index: props.rtsBatchIndex,
    messageId: metadata.messageId,
    listedJson: JSON.stringify(rows.map((row) => row.url)),
  });
  if (received === props.rtsBatchCount)
    await completeFullList(hub, context, sender, props.rtsBatchId, props.rtsBatchCount, metadata.messageId);
}

/** Practitioners whose certificates are being checked at once, across all publishes of this process. */
const certificateSlots = pLimit(16);

/**
 * Checks the certificates a Practitioner carries: both uses present, each valid now under the regional CA, and each
 * bound to the entry (docs/protocol.md §5.1): subject CN = the directory id, the profile's usage for its use. A
 * clinic cannot publish its own entry with another clinic's expert's certificate, nor give an expert an encryption
 * certificate issued to someone else. The payload profile has already refused an extension without use or certificate.
 */
async function checkPractitionerCertificates(hub: Hub, resource: Record<string, unknown>): Promise<void> {
  const id = String(resource.id);
  const certificates = certificatesOf(resource);
  for (const use of ['signing', 'encryption'] as const) {
    for (const base64 of certificates[use]) {
      const der = Buffer.from(base64, 'base64');
      const failure = await hub.certificates.check(der, use, hub.now());
      if (failure)
        reject(
          failure.code === 'cms-malformed' ? REASON_CODES.schemaInvalid : reasonForCmsError(failure.code),
          `Practitioner/${id}: ${failure.message}`,
        );
      const unbound = certificateBindingProblem(der, use, id);
      if (unbound)
        reject(
          unbound.kind === 'usage' ? REASON_CODES.wrongKeyUsage : REASON_CODES.notAuthorized,
          `Practitioner/${id}: ${unbound.detail}`,
        );
    }
  }
  if (certificates.signing.length === 0 || certificates.encryption.length === 0)
    reject(REASON_CODES.schemaInvalid, `Practitioner/${id}: needs a signing and an encryption certificate`);
}

function retirementRow(url: string): ResourceRow {
  const slash = url.indexOf('/');
  return {
    url,
    entryId: url.slice(slash + 1),
    resourceType: url.slice(0, slash) as DirectoryResourceType,
    digest: 'retired',
  };
}

/**
 * The last batch of a full list is in: what the clinic no longer lists is retired — unless a batch was refused, whose
 * entries are unknown; then nothing is. Batches collected by a hub before it applied them one by one (their
 * resources stored, not their URLs) are applied now.
 */
export async function completeFullList(
  hub: Hub,
  context: ProcessContext,
  publisher: string,
  batchId: string,
  batchCount: number,
  messageId: string,
): Promise<void> {
  const writer = changeWriter(hub, context, publisher, messageId);
  let refused: string | undefined;
  // One stored batch at a time, so that a 100,000-expert list never sits in memory whole.
  for (let index = 1; index <= batchCount; index++) {
    const batch = await store.publishBatch(context.tx, batchId, index);
    if (!batch) throw new Error(`set ${batchId} counts ${batchCount} batches but has no batch ${index}`);
    if (batch.rejectedReason !== null) refused ??= `batch ${index} was refused (${batch.rejectedReason})`;
    const stored = JSON.parse(batch.entries) as (string | Record<string, unknown>)[];
    const collected = resourceRows(stored.filter((e): e is Record<string, unknown> => typeof e !== 'string'));
    if (collected.length > 0)
      await writer.add(
        collected,
        await store.entryDigests(
          context.tx,
          collected.map((r) => r.url),
        ),
      );
  }
  if (refused === undefined) {
    const unlisted = await store.unlistedEntries(context.tx, publisher, batchId);
    await writer.add([...unlisted.keys()].map(retirementRow), unlisted);
  }
  await writer.finish();
  await store.closePublishSet(
    context.tx,
    batchId,
    'applied',
    refused && `${refused}: nothing retired; publish the list again to retire what it leaves out`,
  );
}

async function applyChanges(
  hub: Hub,
  context: ProcessContext,
  publisher: string,
  messageId: string,
  rows: readonly ResourceRow[],
): Promise<void> {
  const writer = changeWriter(hub, context, publisher, messageId);
  await writer.add(
    rows,
    await store.entryDigests(
      context.tx,
      rows.map((r) => r.url),
    ),
  );
  await writer.finish();
}

/**
 * Applies the changes that differ from what is stored as consecutive directory versions of at most one batch each
 * (docs/protocol.md §5.1), and fans each version out to every registered endpoint — the publisher too, so that its
 * mirror follows the region's version sequence.
 */
function changeWriter(hub: Hub, context: ProcessContext, publisher: string, messageId: string) {
  let pending: ResourceRow[] = [];
  /** Where a URL waits in `pending`: the same entry twice before a write (a hospital every batch names) is one row. */
  let pendingAt = new Map<string, number>();
  let pendingRoles = 0;
  let version: number | undefined;
  let endpoints: string[] = [];
  const limit = PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch;

  async function emit(): Promise<void> {
    const chunk = pending;
    pending = [];
    pendingAt = new Map();
    pendingRoles = 0;
    if (version === undefined) {
      version = await store.lockDirectory(context.tx);
      endpoints = await store.endpointIds(context.tx);
    }
    const base = version;
    version += 1;
    await store.writeEntries(
      context.tx,
      chunk.map((row) => ({ ...row, publisher })),
      version,
    );
    const retirements = chunk.filter((row) => row.json === undefined).length;
    await store.recordDirectoryChange(context.tx, {
      version,
      publisher,
      messageId,
      upserts: chunk.length - retirements,
      retirements,
      at: hub.now(),
    });
    const changes: DirectoryChange[] = chunkDirectoryRows(chunk)
      .flat()
      .map((row) =>
        row.json === undefined ? { retire: row.url } : { upsert: JSON.parse(row.json) as DirectoryResource },
      );
    const update = await sealFromHub(
      hub,
      {
        rtsType: T.directoryUpdate,
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: HUB_SENDER,
        rtsDirectoryBaseVersion: base,
        rtsDirectoryVersion: version,
      },
      (id, timestamp) => buildDirectoryUpdate({ messageId: id, timestamp, sender: HUB_SENDER }, changes),
    );
    await queue(hub, context, endpoints, update);
  }

  return {
    async add(rows: readonly ResourceRow[], known: Map<string, store.EntryDigest>): Promise<void> {
      for (const row of rows) {
        const stored = known.get(row.url);
        const changed =
          row.json === undefined
            ? stored !== undefined && !stored.retired
            : !stored || stored.retired || stored.digest !== row.digest;
        if (!changed) continue;
        const waiting = pendingAt.get(row.url);
        if (waiting !== undefined) {
          pending[waiting] = row;
          continue;
        }
        pendingAt.set(row.url, pending.push(row) - 1);
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
