import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { checkTrustRevocation, importSigningKey, isCmsError, type TrustConfig } from '../shared/cms/index.ts';
import { PEM_LABELS, pemToDer, pemToDerAll } from '../shared/pki/index.ts';
import { MESSAGE_TYPES as T, REASON_CODES } from '../shared/protocol/index.ts';
import { createBrokerConnection, type BrokerConnection } from '../transport/index.ts';
import { createRabbitmqProvisioner } from './broker/rabbitmq-provisioner.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { createDownlinkSender, type DownlinkSender } from './downlink-sender.ts';
import { createPayloadValidationPool, type PayloadValidationPool } from './payload-validation-pool.ts';
import { HubConfigError, type LoadedHubConfig } from './hub-config.ts';
import { startOperatorApi } from './operator-api.ts';
import { amqpFields, createQueueConsumer, uplinkMessage, type Arrival } from './queue-consumer.ts';
import * as store from './store/hub-store.ts';
import { migrateHubSchema } from './store/hub-schema.ts';
import { openPglite, openPostgres, type SqlClient } from './store/sql-client.ts';
import {
  createTrustReloader,
  DEFAULT_CRL_RELOAD_SECONDS,
  DEFAULT_CRL_WARNING_HOURS,
  type ReloadReport,
  type TrustStatus,
} from './trust-reloader.ts';
import {
  createProcessContext,
  createUplinkProcessor,
  type HubIdentity,
  type Outgoing,
  type ProcessOutcome,
  type UplinkMessage,
  type UplinkProcessor,
} from './uplink-processor.ts';
import { loadFhirDefinitions } from '../shared-node/index.ts';

/**
 * One hub instance: consumes the uplink (and the broker's dead letters), processes each message in a database
 * transaction with its effects, accepts it after the commit, and sends what the commit queued. Any number of
 * instances may run against one broker and one PostgreSQL database: the broker shares the uplink between them, the
 * database de-duplicates and serializes directory changes, and outbox rows of a dead instance are taken over.
 */
export interface HubLogEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface HubServiceOptions {
  readonly config: LoadedHubConfig;
  readonly version: string;
  /** Structured log lines; never message bodies (the hub holds no patient data, and logs none of anyone's). */
  readonly log?: (event: HubLogEvent) => void;
  /** At most one full snapshot per endpoint per this time (default uplink-limits.ts); tests shorten it. */
  readonly snapshotIntervalMs?: number;
}

export interface HubService {
  readonly instanceId: string;
  readonly sql: SqlClient;
  readonly connection: BrokerConnection;
  /** Port of the operator API, when configured. */
  readonly operatorPort?: number;
  /** What the payload validation pool holds now (it is bounded, and freed as messages are done). */
  readonly payloadValidation: Pick<PayloadValidationPool, 'held'>;
  /** Reads the CRL files again now, as the timer does (the operator API's POST /trust/reload). */
  reloadTrust(): Promise<ReloadReport>;
  trustStatus(): TrustStatus;
  stop(): Promise<void>;
}

/** Bodies of one transaction kept in memory from commit to send, in all; the rest are read back from the store. */
const KEEP_BODY_BYTES = 256 * 1024 * 1024;
/** Messages whose work is heavy (directory) run in a transaction of their own; light ones are committed together. */
const HEAVY_TYPES: ReadonlySet<string> = new Set([T.endpointRegister, T.directoryPublish, T.directorySnapshotRequest]);

export async function openHubDatabase(loaded: LoadedHubConfig): Promise<SqlClient> {
  const { database } = loaded.config;
  const sql =
    database.kind === 'embedded'
      ? await openPglite(loaded.path(database.path))
      : await openPostgres(
          loaded.secret(database.url),
          database.maxConnections ? { maxConnections: database.maxConnections } : {},
        );
  await migrateHubSchema(sql);
  return sql;
}

export async function loadHubIdentity(loaded: LoadedHubConfig): Promise<{ identity: HubIdentity; trust: TrustConfig }> {
  const read = (file: string) => readFileSync(loaded.path(file), 'utf8');
  const certificate = pemToDer(read(loaded.config.identity.certificateFile));
  const privateKey = await importSigningKey(pemToDer(read(loaded.config.identity.privateKeyFile)), certificate);
  const trust: TrustConfig = {
    anchors: loaded.config.trust.anchorFiles.flatMap((f) => pemToDerAll(read(f), PEM_LABELS.certificate)),
    crls: loaded.config.trust.crlFiles.flatMap((f) => pemToDerAll(read(f), PEM_LABELS.crl)),
  };
  // Without a current CRL of every anchor no certificate could be checked: refuse to start rather than refuse every message.
  try {
    await checkTrustRevocation(trust, new Date());
  } catch (error) {
    if (!isCmsError(error)) throw error;
    throw new HubConfigError(
      `hub configuration trust: ${error.message} (a PEM file in trust.crlFiles), then start the hub again`,
    );
  }
  return { identity: { signer: { certificate, privateKey }, brokerUser: loaded.config.broker.username }, trust };
}

export function createProcessor(
  loaded: LoadedHubConfig,
  identity: HubIdentity,
  trust: TrustConfig,
  validations?: PayloadValidationPool,
  snapshotIntervalMs?: number,
): UplinkProcessor {
  // Base FHIR R4 validation of what the hub reads (registrations, directory publishes) needs the HL7 definitions.
  loadFhirDefinitions();
  const management = loaded.config.broker.management;
  return createUplinkProcessor({
    identity,
    trust,
    certificates: createCertificateCache(trust),
    ...(validations && { validateFor: (body) => (content, metadata) => validations.validate(body, content, metadata) }),
    ...(snapshotIntervalMs !== undefined && { snapshotIntervalMs }),
    provisioner: createRabbitmqProvisioner({
      url: management.url,
      username: management.username,
      password: loaded.secret(management.password),
      ...(management.deliveryLimit && { deliveryLimit: management.deliveryLimit }),
    }),
  });
}

export async function startHub(options: HubServiceOptions): Promise<HubService> {
  const { config } = options.config;
  const log = options.log ?? (() => undefined);
  const instanceId = config.instanceId ?? `${hostname()}-${process.pid}`;
  const startedAt = new Date();
  // The trust first: a configuration it refuses (no current CRL) leaves nothing open behind it.
  const loaded = await loadHubIdentity(options.config);
  const { identity } = loaded;
  const trustReloader = await createTrustReloader({
    initial: loaded.trust,
    crlFiles: config.trust.crlFiles.map((file) => options.config.path(file)),
    warningMs: (config.trust.crlWarningHours ?? DEFAULT_CRL_WARNING_HOURS) * 3_600_000,
  });
  const sql = await openHubDatabase(options.config);
  /** The refusals of the last reload, as logged: a file refused is said once, not on every reload. */
  let lastRefusals = '';
  // Never behind the region: a CRL another instance (or this one, before a restart) already sent to the endpoints is
  // taken over an older file, which is reported as refused.
  logReload(await trustReloader.reload(startedAt, await store.newestDistributedCrls(sql)));
  const trust = trustReloader.current();
  const validations = createPayloadValidationPool(trust);
  const processor = createProcessor(options.config, identity, trust, validations, options.snapshotIntervalMs);
  // Publishes are validated ahead only for registered clinic systems, the only senders whose publishes can apply.
  let clinicSystems = new Set(await store.clinicSystemIds(sql));
  const refreshClinicSystems = () =>
    void store
      .clinicSystemIds(sql)
      .then((ids) => {
        clinicSystems = new Set(ids);
      })
      .catch(() => undefined);

  const connection = createBrokerConnection({
    hosts: config.broker.hosts,
    vhost: config.broker.vhost,
    username: config.broker.username,
    password: async () => options.config.secret(config.broker.password),
    containerId: `rts-hub-${instanceId}`,
    ...(config.broker.tls && {
      tls: {
        ca: readFileSync(options.config.path(config.broker.tls.caFile), 'utf8'),
        ...(config.broker.tls.servername && { servername: config.broker.tls.servername }),
      },
    }),
  });
  connection.onStateChanged((state) =>
    log({
      event: 'broker',
      status: state.status,
      ...(state.host && { host: state.host }),
      ...(state.reason && { reason: state.reason }),
    }),
  );
  const sender: DownlinkSender = createDownlinkSender({
    connection,
    sql,
    instanceId,
    claimMs: config.claimMs,
    onError: (error) => log({ event: 'outbox-error', error: (error as Error).message }),
  });

  /** Runs messages in one transaction; on failure, each alone; a message that fails alone is released (transient). */
  async function runGroup(
    items: readonly Arrival[],
    work: (context: Parameters<UplinkProcessor['process']>[0], message: UplinkMessage) => Promise<ProcessOutcome>,
    source: string,
  ): Promise<void> {
    let outgoing: Outgoing = { rows: [], bodies: new Map() };
    let outcomes: ProcessOutcome[];
    try {
      outcomes = await sql.transaction(async (tx) => {
        const started = Date.now();
        const context = createProcessContext(tx, { by: instanceId, until: new Date(started + config.claimMs) }, source);
        const messages = items.map((item) => uplinkMessage(item.message));
        if (messages.length > 1) await processor.claimAll(context, messages);
        const results: ProcessOutcome[] = [];
        for (const message of messages) results.push(await work(context, message));
        await processor.flush(context);
        // A long transaction (a large directory change) would commit rows whose claim has already lapsed.
        if (Date.now() - started > config.claimMs / 4 && context.outgoing.rows.length > 0) {
          await store.renewClaims(
            tx,
            instanceId,
            context.outgoing.rows.map((r) => r.id),
            new Date(Date.now() + config.claimMs),
          );
        }
        outgoing = context.outgoing;
        return results;
      });
    } catch (error) {
      if (items.length > 1) {
        for (const item of items) await runGroup([item], work, source);
        return;
      }
      log({
        event: 'transient-failure',
        source,
        messageId: String(items[0]!.message.message_id ?? ''),
        error: (error as Error).message,
      });
      items[0]!.delivery.release();
      return;
    }
    for (const item of items) item.delivery.accept();
    let kept = 0;
    for (const [id, body] of outgoing.bodies) {
      kept += body.byteLength;
      if (kept > KEEP_BODY_BYTES) outgoing.bodies.delete(id);
    }
    sender.enqueue(outgoing.rows, outgoing.bodies);
    items.forEach((item, i) => {
      const outcome = outcomes[i]!;
      const messageId = String(item.message.message_id ?? '');
      const rtsType: unknown = (item.message.application_properties as Record<string, unknown> | undefined)?.rtsType;
      const type = typeof rtsType === 'string' ? rtsType : '';
      log({
        event: 'message',
        source,
        messageId,
        type,
        outcome: outcome.outcome,
        ...(outcome.outcome === 'rejected' && { reason: outcome.reason, detail: outcome.detail }),
      });
    });
  }

  const processUplink = (context: Parameters<UplinkProcessor['process']>[0], message: UplinkMessage) =>
    processor.process(context, message);
  const uplink = createQueueConsumer({
    connection,
    address: connection.adapter.uplinkSource(),
    credit: config.broker.credit,
    log,
    handle: async (batch) => {
      // In arrival order: runs of light messages share a transaction; a heavy one has its own.
      let run: Arrival[] = [];
      for (const item of batch) {
        const type = (item.message.application_properties as Record<string, unknown> | undefined)?.rtsType;
        if (typeof type === 'string' && HEAVY_TYPES.has(type)) {
          if (run.length > 0) await runGroup(run, processUplink, 'uplink');
          run = [];
          await runGroup([item], processUplink, 'uplink');
          // Done, whatever the outcome (processed, refused, or released for redelivery): its prefetched verdict goes.
          if (type === T.directoryPublish) validations.release(amqpFields(item.message));
          if (type === T.endpointRegister) refreshClinicSystems();
        } else run.push(item);
      }
      if (run.length > 0) await runGroup(run, processUplink, 'uplink');
    },
    onArrival: (message) => {
      // Directory publishes are validated ahead, on a worker, while earlier messages are being stored: only those of a
      // sender the broker vouches for (user_id = rtsSender) that is a registered clinic system.
      const properties = message.application_properties as Record<string, unknown> | undefined;
      if (
        properties?.rtsType !== T.directoryPublish ||
        typeof properties.rtsSender !== 'string' ||
        !clinicSystems.has(properties.rtsSender)
      )
        return;
      const userId: unknown = message.user_id;
      if ((userId instanceof Uint8Array ? Buffer.from(userId).toString('utf8') : userId) === properties.rtsSender)
        validations.prefetch(amqpFields(message));
    },
  });

  // The broker's own dead letters (delivery limit exceeded) are kept with the reason it cannot tell AMQP 1.0 readers.
  const brokerDeadLetters = createQueueConsumer({
    connection,
    address: connection.adapter.deadLetterSource(),
    credit: 20,
    log,
    handle: async (batch) => {
      await runGroup(
        batch,
        async (context, message) => {
          const deadLetterId = await store.addDeadLetter(context.tx, {
            messageId: message.stored.properties.message_id,
            source: 'broker-delivery-limit',
            sender: String(
              message.stored.properties.application_properties.rtsSender ?? message.stored.properties.user_id,
            ),
            type: String(message.stored.properties.application_properties.rtsType ?? ''),
            reason: REASON_CODES.deliveryLimit,
            detail: 'processing failed more often than the delivery limit',
            message: message.stored,
            at: new Date(),
          });
          return { outcome: 'rejected', reason: REASON_CODES.deliveryLimit, detail: 'delivery limit', deadLetterId };
        },
        'broker-deadletter',
      );
    },
  });

  const beat = async (stopped = false) => {
    const state = connection.state;
    await store.heartbeat(
      sql,
      {
        id: instanceId,
        host: hostname(),
        pid: process.pid,
        version: options.version,
        startedAt,
        broker: `${state.status}${state.host ? ` ${state.host}` : ''}${state.reason ? ` (${state.reason})` : ''}`,
        stopped,
      },
      new Date(),
    );
  };
  await beat();
  const heartbeat = setInterval(
    () => void beat().catch((error) => log({ event: 'heartbeat-error', error: (error as Error).message })),
    5_000,
  );
  heartbeat.unref();
  const prune = setInterval(() => {
    const before = new Date(Date.now() - 31 * 86_400_000);
    void store.pruneProcessed(sql, before).catch(() => undefined);
    void store.pruneRouted(sql, before).catch(() => undefined);
  }, 3_600_000);
  prune.unref();
  const clinicRefresh = setInterval(refreshClinicSystems, 10_000);
  clinicRefresh.unref();

  // Snapshots that requests made too soon after the last one wait for, sent when their interval is over.
  let sweeping = false;
  const serveSnapshots = async () => {
    if (sweeping || connection.state.status !== 'online') return;
    sweeping = true;
    try {
      let outgoing: Outgoing = { rows: [], bodies: new Map() };
      const served = await sql.transaction(async (tx) => {
        const context = createProcessContext(
          tx,
          { by: instanceId, until: new Date(Date.now() + config.claimMs) },
          'snapshot',
        );
        const count = await processor.serveDueSnapshots(context, 10);
        await processor.flush(context);
        outgoing = context.outgoing;
        return count;
      });
      sender.enqueue(outgoing.rows, outgoing.bodies);
      if (served > 0) log({ event: 'deferred-snapshots', served });
    } catch (error) {
      log({ event: 'snapshot-error', error: (error as Error).message });
    } finally {
      sweeping = false;
    }
  };
  let sweep: Promise<void> = Promise.resolve();
  const snapshotSweep = setInterval(
    () => {
      sweep = serveSnapshots();
    },
    Math.min(5_000, Math.max(250, Math.floor((options.snapshotIntervalMs ?? 20_000) / 4))),
  );
  snapshotSweep.unref();

  // --- revocation lists: taken without a restart, fanned out to every endpoint, watched for their nextUpdate ---------

  let distributing: Promise<void> = Promise.resolve();
  /**
   * Offers every CRL in use for distribution: one the region has not recorded yet (taken just now, loaded at start, or
   * taken before a crash that lost its distribution) is fanned out and recorded; the others cost one lookup each.
   */
  const offerCrls = async () => {
    for (const crl of trustReloader.current().crls ?? []) {
      if (await store.isCrlDistributed(sql, createHash('sha256').update(crl).digest('hex'))) continue;
      let outgoing: Outgoing = { rows: [], bodies: new Map() };
      const endpoints = await sql.transaction(async (tx) => {
        const context = createProcessContext(
          tx,
          { by: instanceId, until: new Date(Date.now() + config.claimMs) },
          'trust',
        );
        const count = await processor.distributeCrl(context, crl, instanceId);
        await processor.flush(context);
        outgoing = context.outgoing;
        return count;
      });
      sender.enqueue(outgoing.rows, outgoing.bodies);
      if (endpoints !== undefined) log({ event: 'crl-distributed', endpoints });
    }
  };
  /** One offer at a time: the timer's reload and the operator's may ask together; a failure is retried on the next reload. */
  const distributeCrls = () => {
    distributing = distributing
      .then(offerCrls)
      .catch((error) => log({ event: 'crl-distribution-error', error: (error as Error).message }));
    return distributing;
  };
  /** Log lines of a reload: each CRL taken, and what it refused (said once, not on every reload, until it changes). */
  function logReload({ report }: { report: ReloadReport }): void {
    for (const crl of report.taken)
      log({
        event: 'crl-taken',
        file: crl.file,
        issuer: crl.issuer,
        crlNumber: crl.crlNumber,
        thisUpdate: crl.thisUpdate,
      });
    const refusals = JSON.stringify(report.refused);
    if (refusals !== lastRefusals)
      for (const refused of report.refused)
        log({ event: 'crl-refused', level: 'warning', file: refused.file, detail: refused.detail });
    lastRefusals = refusals;
  }
  const reloadTrust = async (): Promise<ReloadReport> => {
    // The database may be away for a while: the files are read again all the same.
    const distributed = await store.newestDistributedCrls(sql).catch((error: unknown) => {
      log({
        event: 'crl-reload-error',
        error: `the CRLs the region distributed could not be read: ${(error as Error).message}`,
      });
      return [];
    });
    const reloaded = await trustReloader.reload(new Date(), distributed);
    if (reloaded.taken.length > 0) {
      // At once, before anything else is verified: a certificate the new CRL revokes is refused from the next message.
      processor.useTrust(trustReloader.current());
      validations.useTrust(trustReloader.current());
    }
    logReload(reloaded);
    logStateChanges();
    await distributeCrls();
    return reloaded.report;
  };
  /** One line per CRL whose state (current, expiring, stale) changed since the last: a warning unless current. */
  function logStateChanges(): void {
    for (const crl of trustReloader.stateChanges(new Date())) {
      log({
        event: 'crl-state',
        ...(crl.state !== 'current' && { level: 'warning' }),
        state: crl.state,
        issuer: crl.issuer,
        crlNumber: crl.crlNumber,
        nextUpdate: crl.nextUpdate,
      });
    }
  }
  logStateChanges();
  await distributeCrls();
  let trustReload: Promise<unknown> = Promise.resolve();
  const trustTimer = setInterval(
    () => {
      trustReload = reloadTrust().catch((error) => log({ event: 'crl-reload-error', error: (error as Error).message }));
    },
    (config.trust.crlReloadSeconds ?? DEFAULT_CRL_RELOAD_SECONDS) * 1000,
  );
  trustTimer.unref();

  await connection.start();
  const operator =
    config.operator &&
    (await startOperatorApi({
      sql,
      processor,
      instanceId,
      token: options.config.secret(config.operator.token),
      port: config.operator.port,
      claimMs: config.claimMs,
      brokerState: () => connection.state,
      trust: { status: () => trustReloader.status(new Date()), reload: reloadTrust },
      send: (outgoing) => sender.enqueue(outgoing.rows, outgoing.bodies),
    }));
  log({ event: 'started', instanceId, database: sql.engine, directoryVersion: await store.directoryVersion(sql) });

  return {
    instanceId,
    sql,
    connection,
    ...(operator && { operatorPort: operator.port }),
    payloadValidation: validations,
    reloadTrust,
    trustStatus: () => trustReloader.status(new Date()),
    async stop() {
      clearInterval(trustTimer);
      await trustReload;
      await distributing;
      clearInterval(heartbeat);
      clearInterval(prune);
      clearInterval(clinicRefresh);
      clearInterval(snapshotSweep);
      await sweep;
      await operator?.close();
      await uplink.stop();
      await brokerDeadLetters.stop();
      await sender.stop();
      await connection.stop();
      await validations.close();
      await beat(true).catch(() => undefined);
      await sql.close();
      log({ event: 'stopped', instanceId });
    },
  };
}
