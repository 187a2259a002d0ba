import { hostname } from 'node:os';
import { createSettlingSender, type BrokerConnection } from '../transport/index.ts';
import { createDownlinkSender } from './downlink-sender.ts';
import { createForwarder } from './forwarder.ts';
import { createCrlLog, startCrlReloads } from './hub-crl-distribution.ts';
import { startHubConsumers } from './hub-consumers.ts';
import type { LoadedHubConfig } from './hub-config.ts';
import { startHousekeeping } from './hub-housekeeping.ts';
import {
  createHubConnection,
  createProcessor,
  createProvisioner,
  hubLogger,
  loadHubIdentity,
  openHubDatabase,
} from './hub-setup.ts';
import { createHubTransactions } from './hub-transactions.ts';
import {
  createPayloadValidationPool,
  nodeCryptoAccelerator,
  type PayloadValidationPool,
} from '../shared-node/index.ts';
import { useCryptoAccelerator } from '../shared/cms/index.ts';
import { startOperatorApi } from './operator-api.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import {
  createTrustReloader,
  DEFAULT_CRL_RELOAD_SECONDS,
  DEFAULT_CRL_WARNING_HOURS,
  type ReloadReport,
  type TrustStatus,
} from './trust-reloader.ts';

/**
 * One hub instance: consumes the uplink (and the broker's dead letters), processes each message in a database
 * transaction with its effects, forwards consults before the commit (by reference: the uplink delivery is their durable
 * copy until accepted), accepts it after the commit, and sends what the commit queued. Any number of
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

export async function startHub(options: HubServiceOptions): Promise<HubService> {
  // A receipt for every consult: its digest and signature by OpenSSL at once, not as Web Crypto jobs (webcrypto.ts).
  useCryptoAccelerator(nodeCryptoAccelerator);
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
  const crlLog = createCrlLog(trustReloader, log);
  // Never behind the region: a CRL another instance (or this one, before a restart) already sent to the endpoints is
  // taken over an older file, which is reported as refused.
  crlLog.reload(await trustReloader.reload(startedAt, await store.newestDistributedCrls(sql)));
  const trust = trustReloader.current();
  // The workers check a publish's certificates too, at the time the processor would (docs/performance.md, P1).
  const validations = createPayloadValidationPool(trust, {
    checkCertificatesAt: () => new Date(),
    // Nothing is lost: publishes are then validated on the main thread, and a large list takes longer to apply.
    onWorkerError: (error) => log({ event: 'validation-worker-failed', error: error.message }),
  });
  // One provisioner for registrations and the operator's disconnect, as the region's administrator user.
  const provisioner = createProvisioner(options.config);
  const processor = createProcessor(provisioner, identity, trust, validations, options.snapshotIntervalMs);

  const connection = createHubConnection(options.config, instanceId, log);
  // The outbox and the forwards each have their own sender and bounds: a large directory fan-out from the outbox must
  // not take every slot while a consult batch waits (uncommitted) for its forwards to be settled.
  const senderFor = () =>
    createSettlingSender({ connection, maxInFlight: 500, maxInFlightBytes: 64 * 1024 * 1024, logger: hubLogger(log) });
  const settling = senderFor();
  const forwarding = senderFor();
  const sender = createDownlinkSender({
    connection,
    sender: settling,
    sql,
    instanceId,
    claimMs: config.claimMs,
    onError: (error) => log({ event: 'outbox-error', error: (error as Error).message }),
  });
  const transactions = createHubTransactions({
    sql,
    adapter: connection.adapter,
    processor,
    sender,
    forward: createForwarder({ connection, sender: forwarding }),
    instanceId,
    claimMs: config.claimMs,
    log,
  });
  const consumers = await startHubConsumers({
    connection,
    sql,
    processor,
    validations,
    transactions,
    credit: config.broker.credit,
    log,
  });
  const housekeeping = await startHousekeeping({
    sql,
    connection,
    processor,
    transactions,
    instanceId,
    version: options.version,
    startedAt,
    ...(options.snapshotIntervalMs !== undefined && { snapshotIntervalMs: options.snapshotIntervalMs }),
    log,
  });
  const crls = await startCrlReloads({
    trustReloader,
    crlLog,
    sql,
    processor,
    validations,
    transactions,
    instanceId,
    reloadSeconds: config.trust.crlReloadSeconds ?? DEFAULT_CRL_RELOAD_SECONDS,
    log,
  });

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
      trust: { status: () => trustReloader.status(new Date()), reload: crls.reload },
      disconnect: (endpointId) => provisioner.disconnect(endpointId),
      send: (outgoing) => sender.enqueue(outgoing.rows, outgoing.bodies),
    }));
  log({ event: 'started', instanceId, database: sql.engine, directoryVersion: await store.directoryVersion(sql) });

  return {
    instanceId,
    sql,
    connection,
    ...(operator && { operatorPort: operator.port }),
    payloadValidation: validations,
    reloadTrust: crls.reload,
    trustStatus: () => trustReloader.status(new Date()),
    async stop() {
      await crls.stop();
      await housekeeping.stop();
      await operator?.close();
      await consumers.stop();
      await sender.stop();
      settling.close();
      forwarding.close();
      await connection.stop();
      await validations.close();
      await housekeeping.markStopped();
      await sql.close();
      log({ event: 'stopped', instanceId });
    },
  };
}
