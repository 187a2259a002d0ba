import { createHash } from 'node:crypto';
import type { HubLogEvent } from './hub-service.ts';
import type { HubTransactions } from './hub-transactions.ts';
import type { PayloadValidationPool } from '../shared-node/index.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import type { ReloadReport, TrustReloader } from './trust-reloader.ts';
import type { UplinkProcessor } from './uplink-processor.ts';

/**
 * Revocation lists while a hub instance runs: taken without a restart (on a timer and on the operator's request),
 * used at once by the processor and the validation pool, fanned out to every endpoint once per region, and watched
 * for their nextUpdate, each change logged.
 */
export interface CrlLog {
  /** Log lines of a reload: each CRL taken, and what it refused (said once, not on every reload, until it changes). */
  reload(reloaded: { report: ReloadReport }): void;
  /** One line per CRL whose state (current, expiring, stale) changed since the last: a warning unless current. */
  stateChanges(): void;
}

export function createCrlLog(trustReloader: TrustReloader, log: (event: HubLogEvent) => void): CrlLog {
  /** The refusals of the last reload, as logged: a file refused is said once, not on every reload. */
  let lastRefusals = '';
  return {
    reload({ report }) {
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
    },
    stateChanges() {
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
    },
  };
}

export interface CrlReloadsOptions {
  readonly trustReloader: TrustReloader;
  readonly crlLog: CrlLog;
  readonly sql: SqlClient;
  readonly processor: UplinkProcessor;
  readonly validations: PayloadValidationPool;
  readonly transactions: HubTransactions;
  readonly instanceId: string;
  readonly reloadSeconds: number;
  readonly log: (event: HubLogEvent) => void;
}

export interface CrlReloads {
  /** Reads the CRL files again now, as the timer does (the operator API's POST /trust/reload). */
  readonly reload: () => Promise<ReloadReport>;
  /** The timer stops; resolves when a reload or distribution under way is done. */
  stop(): Promise<void>;
}

/** Logs the state of the CRLs taken at start, distributes those the region has not had yet, then reloads on a timer. */
export async function startCrlReloads(options: CrlReloadsOptions): Promise<CrlReloads> {
  const { trustReloader, crlLog, sql, processor, validations, instanceId, log } = options;
  let distributing: Promise<void> = Promise.resolve();
  /**
   * Offers every CRL in use for distribution: one the region has not recorded yet (taken just now, loaded at start, or
   * taken before a crash that lost its distribution) is fanned out and recorded; the others cost one lookup each.
   */
  const offerCrls = async () => {
    for (const crl of trustReloader.current().crls ?? []) {
      if (await store.isCrlDistributed(sql, createHash('sha256').update(crl).digest('hex'))) continue;
      const endpoints = await options.transactions.runOwn('trust', (context) =>
        processor.distributeCrl(context, crl, instanceId),
      );
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
  const reload = async (): Promise<ReloadReport> => {
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
    crlLog.reload(reloaded);
    crlLog.stateChanges();
    await distributeCrls();
    return reloaded.report;
  };

  crlLog.stateChanges();
  await distributeCrls();
  let trustReload: Promise<unknown> = Promise.resolve();
  const trustTimer = setInterval(() => {
    trustReload = reload().catch((error) => log({ event: 'crl-reload-error', error: (error as Error).message }));
  }, options.reloadSeconds * 1000);
  trustTimer.unref();

  return {
    reload,
    async stop() {
      clearInterval(trustTimer);
      await trustReload;
      await distributing;
    },
  };
}
