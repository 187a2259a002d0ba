import { EVENTS, API_ERROR_CODES, apiError } from '../../shared/api/index.ts';
import { assertEndpointId } from '../../shared/protocol/index.ts';
import {
  createCachedCertificateValidator,
  loadFhirDefinitions,
  nodeCryptoAccelerator,
} from '../../shared-node/index.ts';
import { useCryptoAccelerator } from '../../shared/cms/index.ts';
import { createSqliteTransportStore, type SqliteDatabase } from '../../transport/index.ts';
import { createCommandDispatcher, type CommandDispatcher } from './api/command-dispatcher.ts';
import { auditSealFromVault, openAuditLog } from './audit/audit-log.ts';
import { openCaseStore } from './consult/case-store.ts';
import { createConsultService, type LocalPractitioners } from './consult/consult-service.ts';
import { openDraftStore } from './consult/draft-store.ts';
import { startCaseUpkeep } from './core/case-upkeep.ts';
import { consultCommands } from './core/commands-consults.ts';
import { directoryCommands } from './core/commands-directory.ts';
import { lockCommands } from './core/commands-lock.ts';
import { recordCommands } from './core/commands-records.ts';
import { setupCommands } from './core/commands-setup.ts';
import { createCoreContext, type WorkstationCoreOptions } from './core/core-context.ts';
import { createCoreLink } from './core/link.ts';
import { createOutgoing } from './core/outgoing.ts';
import { createStateViews } from './core/state-views.ts';
import type { CoreEventListener } from './core-events.ts';
import { createCertificateChecks, type CertificateChecks } from './directory/certificate-checks.ts';
import { openDirectoryMirror } from './directory/directory-mirror.ts';
import { openPractitionerIdentity } from './identity/practitioner-identity.ts';
import { openRegistration } from './messaging/registration.ts';
import { KeychainChangedError, openWorkstationStore } from './store/workstation-store.ts';
import { VaultUnavailableError } from './vault/secret-vault.ts';

export type { WorkstationCoreOptions } from './core/core-context.ts';
export type { CoreEventListener } from './core-events.ts';

/**
 * The main process's logic, in plain Node: what the Electron shell wires to windows and IPC, and what browser tests
 * drive directly.
 */
export interface WorkstationCore {
  readonly dispatch: CommandDispatcher;
  /** Every event the renderer may subscribe to, for the shell (or test harness) to forward. */
  onEvent(listener: CoreEventListener): () => void;
  start(): Promise<void>;
  /** Closes the link and the store. Final: no event is emitted after it, and the core does not start again. */
  stop(): Promise<void>;
}

/**
 * The composition root: the shared context (settings, lock, events, the state that changes while running), the state
 * views, the outgoing path and the broker link (core/), the command handlers per area, and the store opened at start.
 */
export function createWorkstationCore(given: WorkstationCoreOptions): WorkstationCore {
  useCryptoAccelerator(nodeCryptoAccelerator); // small digests, signatures and ECDH by OpenSSL at once (webcrypto.ts)
  const ctx = createCoreContext(given);
  const { options, settings, emit, logger } = ctx;
  const views = createStateViews(ctx);
  const outgoing = createOutgoing(ctx, views);
  const link = createCoreLink(ctx, views, outgoing);

  const dispatch = createCommandDispatcher({
    ...setupCommands(ctx, views, link),
    ...directoryCommands(ctx, views),
    ...consultCommands(ctx),
    ...recordCommands(ctx, views),
    ...lockCommands(ctx, views),
  });

  async function start(): Promise<void> {
    if (ctx.disposables.disposed)
      throw new Error('This workstation core was stopped: create a new one to start again.');
    if (ctx.parts) return;
    // Every received payload is checked against base FHIR R4 (protocol §4), which needs the HL7 definitions indexed.
    loadFhirDefinitions();
    if (options.broker)
      settings.setProfile({ ...options.broker, endpointId: assertEndpointId(options.broker.endpointId) });
    let db: SqliteDatabase;
    try {
      db = await openWorkstationStore({ dir: options.dataDir, vault: options.vault, settings });
    } catch (error) {
      if (error instanceof VaultUnavailableError) {
        ctx.storeProblem = apiError(
          API_ERROR_CODES.keychainUnavailable,
          error.reason,
          `${error.message}. ${error.hint}`,
          {
            retryable: true,
          },
        );
      } else if (error instanceof KeychainChangedError) {
        ctx.storeProblem = apiError(API_ERROR_CODES.keychainChanged, error.reason, `${error.message}. ${error.hint}`);
      } else {
        throw error;
      }
      logger.error('core.store-unavailable', { error: ctx.storeProblem.code });
      const { code, reason, params } = ctx.storeProblem;
      ctx.setStandaloneState('offline', ctx.storeProblem.message, { code, reason, ...(params && { params }) });
      await views.setupChanged();
      return;
    }
    // With the keychain answering: a passphrase an older version set (before the lock's file) locks now, before any data.
    await ctx.lock.restore();
    // The outbox sends a case's messages from the case store, which keeps their envelopes (OutboxInput.bodyHeld).
    const cases = openCaseStore(db, { logger });
    const transport = createSqliteTransportStore(db, { logger, heldBodies: { read: (id) => cases.body(id) } });
    const mirror = openDirectoryMirror(db);
    const checks: { current?: CertificateChecks } = {};
    // Signs with the certificate the directory lists for this practitioner: the one peers and the hub will accept.
    const identity = openPractitionerIdentity(db, options.vault, {
      directorySigningCertificates: (id) => mirror.certificates(id, 'signing'),
      onTrustChanged: () => checks.current?.schedule(),
    });
    // Verdicts by certificate digest, forgotten with the trust: what the background check accepted is not checked again
    // when a consult is encrypted to it, until the cache's time runs out.
    const validator = createCachedCertificateValidator(() => identity.trust());
    const certificateChecks = (checks.current = ctx.disposables.add(
      createCertificateChecks({
        mirror,
        trust: () => identity.trust(),
        validator,
        onDidCheck: views.emitDirectory,
        logger,
      }),
    ));
    const audit = openAuditLog(db, await auditSealFromVault(options.vault));
    const registration = openRegistration(db, views.emitSetup);
    const local: LocalPractitioners = {
      endpointId: () => ctx.me().endpointId,
      has: (practitionerId) => practitionerId === identity.practitionerId(),
      recipients: () => identity.recipients(),
    };
    const consult = createConsultService({
      db,
      cases,
      mirror,
      audit,
      local,
      trust: () => identity.trust(),
      validator,
      seal: outgoing.seal,
      enqueue: outgoing.enqueue,
      onCaseChanged: (summary, isNew) => emit(EVENTS.caseChanged, { summary, isNew }),
    });
    const drafts = openDraftStore(db);
    ctx.parts = {
      db,
      identity,
      mirror,
      certificateChecks,
      audit,
      transport,
      cases,
      registration,
      consult,
      local,
      drafts,
    };
    // What an older mirror holds, or what came before a restart, has no verdict yet.
    certificateChecks.schedule();
    startCaseUpkeep(ctx);
    logger.info('core.started', { version: options.version });
    if (settings.read().profile)
      ctx.setStandaloneState('offline', 'not started', { code: 'not-configured', reason: 'workstation-not-started' });
    await link.connect();
    await views.setupChanged();
  }

  async function stop(): Promise<void> {
    await link.disconnect();
    // After the link's last state change: from here on, a timer, a pending promise or the lock finds nothing to tell.
    ctx.disposables.dispose();
    // The keychain's anchor must name the newest entry before the store closes.
    await ctx.parts?.audit.flush();
    ctx.parts?.cases.close();
    ctx.parts?.transport.close();
    if (ctx.parts) logger.info('core.stopped');
    ctx.parts = undefined;
  }

  return {
    dispatch,
    onEvent: ctx.events.onEvent,
    start,
    stop,
  };
}
