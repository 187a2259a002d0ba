import { EVENTS, API_ERROR_CODES, type ApiError, type ConnectionState } from '../../../shared/api/index.ts';
import {
  createDisposableStore,
  toDisposable,
  NO_LOGGER,
  type DisposableStore,
  type Logger,
} from '../../../shared/index.ts';
import type {
  BrokerConnection,
  InboxReceiver,
  OutboxSender,
  SqliteDatabase,
  TransportStore,
} from '../../../transport/index.ts';
import type { BaseFhirValidator } from '../../../shared-node/index.ts';
import { createAppLock, type AppLock } from '../app-lock.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { CaseStore } from '../consult/case-store.ts';
import type { ConsultService, LocalPractitioners } from '../consult/consult-service.ts';
import type { DraftStore } from '../consult/draft-store.ts';
import { CoreError } from '../core-error.ts';
import { createCoreEvents, type CoreEventListener, type CoreEvents } from '../core-events.ts';
import type { SaveDialog } from '../files/save-file.ts';
import type { CertificateChecks } from '../directory/certificate-checks.ts';
import type { DirectoryMirror, SnapshotProgress } from '../directory/directory-mirror.ts';
import type { RefusedEntry } from '../directory/directory-sync.ts';
import type { PractitionerIdentity } from '../identity/practitioner-identity.ts';
import type { Registration } from '../messaging/registration.ts';
import {
  openWorkstationSettings,
  type ConnectionProfile,
  type LockPolicy,
  type WorkstationSettings,
} from '../settings/workstation-settings.ts';
import type { SecretVault } from '../vault/secret-vault.ts';

export interface WorkstationCoreOptions {
  readonly productName: string;
  readonly version: string;
  readonly vault: SecretVault;
  /** Settings and the encrypted store live here (Electron: app.getPath('userData')). */
  readonly dataDir: string;
  /** A connection profile to write to the settings at start (administrator provisioning, tests). */
  readonly broker?: ConnectionProfile;
  /** The organisation named in this workstation's registration. */
  readonly organization?: string;
  readonly reconnectDelayMs?: { readonly initial: number; readonly max: number };
  /** Event codes and ids of the core and its link (shared/logger.ts); given to the transport it creates. None: silent. */
  readonly logger?: Logger;
  /** Asks the user where to save a case's file (Electron: the system's save dialog). None: files cannot be saved. */
  readonly saveDialog?: SaveDialog;
  /** The time in ms since the epoch that escalation is judged by; `Date.now` if none. Tests move it on. */
  readonly now?: () => number;
  /**
   * The script of the worker that validates payloads against base FHIR R4 off the main thread, where the code is
   * bundled (Electron: dist/main/base-fhir-worker.cjs). None: shared-node's source.
   */
  readonly fhirWorker?: string;
}

/** Everything that lives in the encrypted store, opened together once the store key is available. */
export interface Parts {
  readonly db: SqliteDatabase;
  readonly identity: PractitionerIdentity;
  readonly mirror: DirectoryMirror;
  /** The background check of the experts' certificates, told of every directory change. */
  readonly certificateChecks: CertificateChecks;
  readonly audit: AuditLog;
  readonly transport: TransportStore;
  readonly cases: CaseStore;
  readonly registration: Registration;
  readonly consult: ConsultService;
  readonly drafts: DraftStore;
  readonly local: LocalPractitioners;
}

export interface Link {
  readonly connection: BrokerConnection;
  readonly outbox: OutboxSender;
  receiver?: InboxReceiver;
  /** Validates the received payloads against base FHIR R4 on a worker thread, while the receiver runs. */
  baseFhir?: BaseFhirValidator;
  /** Tells now what the receiver's last commits changed (otherwise told on the next turn of the event loop). */
  flushCommitted?: () => void;
}

/**
 * What the core's modules share: its options, settings, lock and events, and the state that changes while it runs
 * (the store's parts once open, the link while connected, the directory's progress as the downlink reports it).
 */
export interface CoreContext {
  /** The keychain in `options.vault` goes through the lock. */
  readonly options: WorkstationCoreOptions;
  readonly settings: WorkstationSettings;
  readonly lock: AppLock;
  readonly events: CoreEvents;
  readonly emit: CoreEventListener;
  /** options.logger, or one that logs nothing. */
  readonly logger: Logger;
  /** Everything that could call back later (the emitter, timers, subscriptions); stop() disposes it. */
  readonly disposables: DisposableStore;
  parts: Parts | undefined;
  storeProblem: ApiError | undefined;
  lockPolicy: LockPolicy | undefined;
  link: Link | undefined;
  /** The connection state while no link is up (and the last one a closed link had). */
  standaloneState: ConnectionState;
  /**
   * When the region was last left (ISO), undefined while online: a broker that does not answer changes the
   * connection's status, and its `since`, at every attempt, so this is what the directory is as of meanwhile.
   */
  unreachableSince: string | undefined;
  snapshot: SnapshotProgress | undefined;
  behind: boolean;
  refused: readonly RefusedEntry[];
  connectionState(): ConnectionState;
  setStandaloneState(status: ConnectionState['status'], reason: string, problem?: ConnectionState['problem']): void;
  /** The store's parts, or a refusal saying why they are not open. */
  need(): Parts;
  /** The parts, for a command that reads or changes data: refused while locked or while the lock policy is unmet. */
  unlocked(): Parts;
  /** This workstation's practitioner and endpoint, or a refusal while either is not set up. */
  me(): { practitionerId: string; endpointId: string };
}

export function createCoreContext(given: WorkstationCoreOptions): CoreContext {
  const disposables = createDisposableStore();
  const events = disposables.add(createCoreEvents());
  const { emit } = events;
  // First of all: the lock reads its own file (no keychain), so a workstation with a passphrase opens locked.
  const lock: AppLock = createAppLock({ vault: given.vault, dataDir: given.dataDir });
  disposables.add(toDisposable(lock.onChanged((locked) => emit(EVENTS.lockChanged, { locked }))));
  // Every other use of the keychain goes through the lock: any keychain failure locks the app (fail closed).
  const options: WorkstationCoreOptions = { ...given, vault: lock.guard(given.vault) };
  // Opened at once (a small JSON file), so that the renderer can ask for the set-up before the store is open.
  const settings = openWorkstationSettings(options.dataDir);

  const ctx: CoreContext = {
    options,
    settings,
    lock,
    events,
    emit,
    disposables,
    logger: given.logger ?? NO_LOGGER,
    parts: undefined,
    storeProblem: undefined,
    lockPolicy: settings.read().lockPolicy,
    link: undefined,
    standaloneState: {
      status: 'not-configured',
      since: new Date().toISOString(),
      reason: 'No region is configured yet.',
      problem: { code: 'not-configured', reason: 'no-region-configured' },
    },
    unreachableSince: undefined,
    snapshot: undefined,
    behind: false,
    refused: [],
    connectionState: () => {
      const state = ctx.link?.connection.state ?? ctx.standaloneState;
      return ctx.link && ctx.unreachableSince ? { ...state, unreachableSince: ctx.unreachableSince } : state;
    },
    setStandaloneState(status, reason, problem) {
      ctx.standaloneState = { status, since: new Date().toISOString(), reason, ...(problem && { problem }) };
      emit(EVENTS.connectionStateChanged, ctx.standaloneState);
    },
    need() {
      if (!ctx.parts)
        throw new CoreError(
          API_ERROR_CODES.notConfigured,
          ctx.storeProblem?.reason ?? 'workstation-not-started',
          ctx.storeProblem?.message ?? 'The workstation has not started.',
        );
      return ctx.parts;
    },
    unlocked() {
      if (lock.locked)
        throw new CoreError(
          API_ERROR_CODES.locked,
          'workstation-locked',
          'The workstation is locked. Enter the passphrase to continue.',
        );
      if (ctx.lockPolicy === 'required' && !lock.hasPassphrase())
        throw new CoreError(
          API_ERROR_CODES.notConfigured,
          'lock-policy-needs-passphrase',
          "This workstation's lock policy requires a lock passphrase: set one first.",
        );
      return ctx.need();
    },
    me() {
      const practitionerId = ctx.parts?.identity.practitionerId();
      const endpointId = settings.read().profile?.endpointId;
      if (!practitionerId || !endpointId)
        throw new CoreError(
          API_ERROR_CODES.notConfigured,
          'practitioner-not-set-up',
          "Set up the region and import the practitioner's certificates first.",
        );
      return { practitionerId, endpointId };
    },
  };
  return ctx;
}
