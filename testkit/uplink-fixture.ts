import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import type { Message } from 'rhea';
import type { CmsSigner, TrustConfig } from '../shared/cms/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import {
  CONTENT_TYPES,
  encodeMessage,
  sealMessage,
  MESSAGE_TYPE_SPECS,
  PROTOCOL_VERSION,
  type ApplicationProperties,
} from '../shared/protocol/index.ts';
import {
  buildDirectoryPublish,
  buildEndpointRegister,
  type DirectoryChange,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { createCertificateCache, loadFhirDefinitions } from '../shared-node/index.ts';
import { rabbitmq3Adapter } from '../transport/index.ts';
import {
  uplinkMessage,
  migrateHubSchema,
  openPglite,
  createProcessContext,
  createUplinkProcessor,
  type EndpointProvisioner,
  type OutboxRow,
  type SqlClient,
  type HubIdentity,
  type Outbound,
  type ProcessOutcome,
  type UplinkMessage,
  type UplinkProcessor,
} from '../hub/index.ts';
import { createTestRegion, type TestRegion } from './test-region.ts';

/**
 * The hub's uplink processing without a broker, for unit tests of hub/uplink/: an in-memory PGlite database with the
 * hub's schema and migrations, a throw-away region (the hub's identity and trust are real certificates), a fake
 * provisioner in place of the broker's management API, and messages sealed as endpoints seal them. Each message runs
 * in a transaction of its own, as the hub service runs a heavy one.
 */
export const HUB_BROKER_USER = 'rts-hub';

/** Records each endpoint it is asked to provision; `fail` makes the next calls throw it (a broker refusing, or away). */
export interface FakeProvisioner extends Pick<EndpointProvisioner, 'provision'> {
  readonly provisioned: string[];
  fail: Error | undefined;
}

export interface Processed {
  readonly outcome: ProcessOutcome;
  /** Outbox rows the message's transaction wrote: the hub's own receipts, notices and directory messages. */
  readonly sent: OutboxRow[];
  /** What it forwards by reference (consult messages, receipts, `delivered`): sent by the hub service before the commit. */
  readonly forwards: Outbound[];
}

export interface UplinkFixture {
  readonly sql: SqlClient;
  readonly region: TestRegion;
  readonly identity: HubIdentity;
  readonly trust: TrustConfig;
  readonly provisioner: FakeProvisioner;
  readonly processor: UplinkProcessor;
  /** Runs one message as the hub service does: one transaction, flushed before it commits. */
  process(message: UplinkMessage): Promise<Processed>;
  /** A message sealed (signed) by `signer` as `from`; user_id is `from` unless told otherwise. */
  sealed(
    from: string,
    properties: ApplicationProperties,
    payload: (messageId: string, timestamp: Date) => Bundle,
    signer: CmsSigner,
    options?: { userId?: string; routingKey?: string },
  ): Promise<UplinkMessage>;
  /** A message with these properties and an opaque body: consults (the hub never decrypts them) and receipts (it never reads them). */
  opaque(
    from: string,
    properties: ApplicationProperties,
    options?: { correlationId?: string; bytes?: number; userId?: string },
  ): UplinkMessage;
  registration(id: string, kind: 'clinic-system' | 'workstation', signer: CmsSigner): Promise<UplinkMessage>;
  publish(
    clinic: string,
    input: { full: readonly DirectoryResource[] } | { delta: readonly DirectoryChange[] },
    signer: CmsSigner,
    batch?: { id: string; index: number; count: number },
  ): Promise<UplinkMessage>;
  /** The dead letter of a message, if it was refused. */
  deadLetterOf(messageId: string): Promise<{ reason: string; detail: string } | undefined>;
  close(): Promise<void>;
}

/** What the rows of a message say, by endpoint: `receipt:processed`, `receipt:rejected:signer-mismatch`, `hub.notice:crl-updated`, … */
export function describeSent(rows: readonly OutboxRow[]): string[] {
  return rows.map((row) => {
    const p = row.properties.application_properties;
    const what = [p.rtsType, p.rtsReceipt ?? p.rtsNotice, p.rtsReason].filter((part) => part !== undefined).join(':');
    return `${row.endpoint} ${what}`;
  });
}

/** What a message forwards, by endpoint: `clinic-a consult.request`, `clinic-b receipt:processed`, … */
export function describeForwards(forwards: readonly Outbound[]): string[] {
  return forwards.flatMap(({ endpoints, message }) => {
    const p = message.properties.application_properties;
    const what = [p.rtsType, p.rtsReceipt].filter((part) => part !== undefined).join(':');
    return endpoints.map((endpoint) => `${endpoint} ${what}`);
  });
}

export async function createUplinkFixture(): Promise<UplinkFixture> {
  loadFhirDefinitions();
  const dir = mkdtempSync(join(tmpdir(), 'rts-hub-uplink-'));
  const region = await createTestRegion(join(dir, 'pki'));
  const trust: TrustConfig = {
    anchors: [region.ca.certificate],
    crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl),
  };
  const identity: HubIdentity = { signer: region.hub, brokerUser: HUB_BROKER_USER };
  const sql = await openPglite('memory://');
  await migrateHubSchema(sql);
  const provisioner: FakeProvisioner = {
    provisioned: [],
    fail: undefined,
    provision: (endpointId) => {
      if (provisioner.fail) return Promise.reject(provisioner.fail);
      provisioner.provisioned.push(endpointId);
      return Promise.resolve();
    },
  };
  const processor = createUplinkProcessor({
    identity,
    trust,
    certificates: createCertificateCache(trust),
    provisioner,
  });

  const asUplink = (fields: ReturnType<typeof encodeMessage>, routingKey?: string): UplinkMessage => {
    const message = uplinkMessage(fields as unknown as Message, rabbitmq3Adapter);
    return routingKey === undefined ? message : { ...message, routingKey };
  };
  const sealed: UplinkFixture['sealed'] = async (from, properties, payload, signer, options = {}) => {
    const messageId = randomUUID();
    const creationTime = new Date();
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: options.userId ?? from,
      properties,
      payload: payload(messageId, creationTime),
      signer,
    });
    return asUplink(fields, options.routingKey);
  };

  return {
    sql,
    region,
    identity,
    trust,
    provisioner,
    processor,
    process: (message) =>
      sql.transaction(async (tx) => {
        const context = createProcessContext(tx, { by: 'test', until: new Date(Date.now() + 30_000) }, 'uplink');
        const outcome = await processor.process(context, message);
        await processor.flush(context);
        const delivered = await Promise.all(context.delivered);
        return { outcome, sent: context.outgoing.rows, forwards: [...context.forwards, ...delivered] };
      }),
    sealed,
    opaque: (from, properties, options = {}) =>
      asUplink(
        encodeMessage({
          messageId: randomUUID(),
          creationTime: new Date(),
          userId: options.userId ?? from,
          contentType:
            MESSAGE_TYPE_SPECS[properties.rtsType].envelope === 'signed-encrypted'
              ? CONTENT_TYPES.authEnveloped
              : CONTENT_TYPES.signed,
          properties,
          body: randomBytes(options.bytes ?? 256),
          ...(options.correlationId !== undefined && { correlationId: options.correlationId }),
        }),
      ),
    registration: (id, kind, signer) =>
      sealed(
        id,
        { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: id },
        (messageId, timestamp) =>
          buildEndpointRegister(
            { messageId, timestamp, sender: id },
            { kind, name: `${id} system`, organization: `${id} Health` },
          ),
        signer,
      ),
    publish: (clinic, input, signer, batch = { id: randomUUID(), index: 1, count: 1 }) =>
      sealed(
        clinic,
        {
          rtsType: 'directory.publish',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: clinic,
          rtsDirectoryMode: 'full' in input ? 'full' : 'delta',
          rtsBatchId: batch.id,
          rtsBatchIndex: batch.index,
          rtsBatchCount: batch.count,
        },
        (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: clinic }, input),
        signer,
      ),
    deadLetterOf: async (messageId) =>
      (
        await sql.query<{ reason: string; detail: string }>(
          'select reason, detail from dead_letters where message_id = $1',
          [messageId],
        )
      )[0],
    async close() {
      await sql.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
