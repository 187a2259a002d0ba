import { hostname } from 'node:os';
import type { BrokerConnection } from '../transport/index.ts';
import type { HubLogEvent } from './hub-service.ts';
import type { HubTransactions } from './hub-transactions.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import type { UplinkProcessor } from './uplink-processor.ts';

/**
 * A hub instance's timers: its heartbeat row (what `rts hub status` shows of each instance, and how a dead one is
 * told apart), the pruning of old de-duplication and routing rows and of directory lists left unfinished, and the
 * deferred snapshots sent when due.
 */
export interface HousekeepingOptions {
  readonly sql: SqlClient;
  readonly connection: BrokerConnection;
  readonly processor: UplinkProcessor;
  readonly transactions: HubTransactions;
  readonly instanceId: string;
  readonly version: string;
  readonly startedAt: Date;
  /** The snapshot interval the processor keeps (default 20 s here): due snapshots are looked for four times in it. */
  readonly snapshotIntervalMs?: number;
  readonly log: (event: HubLogEvent) => void;
}

export interface Housekeeping {
  /** The timers stop; resolves when a snapshot sweep under way is done. */
  stop(): Promise<void>;
  /** The heartbeat row says stopped (best effort: the database may be gone). */
  markStopped(): Promise<void>;
}

export async function startHousekeeping(options: HousekeepingOptions): Promise<Housekeeping> {
  const { sql, connection, processor, instanceId, log } = options;
  const beat = async (stopped = false) => {
    const state = connection.state;
    await store.heartbeat(
      sql,
      {
        id: instanceId,
        host: hostname(),
        pid: process.pid,
        version: options.version,
        startedAt: options.startedAt,
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
    // Under the directory lock: a batch of such a list may be arriving at another instance.
    void sql
      .transaction(async (tx) => {
        await store.lockDirectory(tx);
        return store.closeStalePublishSets(tx, before);
      })
      .then((closed) => closed > 0 && log({ event: 'stale-publish-sets-closed', closed }))
      .catch(() => undefined);
  }, 3_600_000);
  prune.unref();

  // Snapshots that requests made too soon after the last one wait for, sent when their interval is over.
  let sweeping = false;
  const serveSnapshots = async () => {
    if (sweeping || connection.state.status !== 'online') return;
    sweeping = true;
    try {
      const served = await options.transactions.runOwn('snapshot', (context) =>
        processor.serveDueSnapshots(context, 10),
      );
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

  return {
    async stop() {
      clearInterval(heartbeat);
      clearInterval(prune);
      clearInterval(snapshotSweep);
      await sweep;
    },
    markStopped: () => beat(true).catch(() => undefined),
  };
}
