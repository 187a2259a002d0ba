import { COMMANDS, EVENTS } from '../../shared/api/channels.ts';
import type { ConnectionState } from '../../shared/api/connection-state.ts';
import type { DirectoryState, ExpertDetail, SetupState } from '../../shared/api/contract.ts';
import { API_ERROR_CODES } from '../../shared/api/api-error.ts';
import { downlinkReceiveAddress, uplinkSendAddress } from '../../shared/broker/rabbitmq-names.ts';
import { plainAmqpProblem } from '../../shared/broker/transport-security.ts';
import { isEnrolmentError } from '../../shared/enrolment/enrolment.ts';
import { createDisposableStore, createRunOnceScheduler, toDisposable } from '../../shared/lifecycle.ts';
import { createNativeCertificateValidator } from '../../shared-node/native-certificate-validator.ts';
import { assertEndpointId } from '../../shared/protocol/endpoint-id.ts';
import { certificatesOf, endpointsOf } from '../../shared/protocol/fhir/directory-entries.ts';
import { buildEndpointRegister } from '../../shared/protocol/fhir/message-builders.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/protocol-version.ts';
import { createBrokerConnection, type BrokerConnection } from '../../transport/broker-connection.ts';
import { createInboxReceiver, type InboxReceiver } from '../../transport/inbox-receiver.ts';
import { createOutboxSender, type OutboxSender } from '../../transport/outbox-sender.ts';
import type { SqliteDatabase } from '../../transport/sqlite-database.ts';
import { createSqliteTransportStore } from '../../transport/sqlite-transport-store.ts';
import type { StoredMessage, TransportStore } from '../../transport/transport-store.ts';
import { createCommandDispatcher, type CommandDispatcher } from './api/command-dispatcher.ts';
import { createAppLock, type AppLock } from './app-lock.ts';
import { createCoreEvents, type CoreEventListener } from './core-events.ts';
import { AUDIT_ACTIONS, auditSealFromVault, openAuditLog, type AuditLog } from './audit/audit-log.ts';
import { openCaseStore } from './consult/case-store.ts';
import { createConsultService, type ConsultService, type LocalPractitioners } from './consult/consult-service.ts';
import { CoreError } from './core-error.ts';
import { openDirectoryMirror, type DirectoryMirror, type SnapshotProgress } from './directory/directory-mirror.ts';
import { createDirectorySync, type RefusedEntry } from './directory/directory-sync.ts';
import { openPractitionerIdentity, IdentityError, type PractitionerIdentity } from './identity/practitioner-identity.ts';
import { createDownlinkHandler, HUB_SENDER } from './messaging/downlink-handler.ts';
import { openRegistration, type Registration } from './messaging/registration.ts';
import { sealForOutbox, type SealInput } from './messaging/seal-for-outbox.ts';
import { checkEnrolment, describeEnrolment, profileOfEnrolment } from './settings/enrolment-intake.ts';
import { openWorkstationSettings, type ConnectionProfile, type WorkstationSettings } from './settings/workstation-settings.ts';
import { KeychainChangedError, openWorkstationStore } from './store/workstation-store.ts';
import { VaultUnavailableError, type SecretVault } from './vault/secret-vault.ts';
import { brokerPasswordAccount } from './vault/vault-accounts.ts';
import { loadFhirDefinitions } from '../../shared-node/fhir-definitions.ts';

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
}

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

/** Everything that lives in the encrypted store, opened together once the store key is available. */
interface Parts {
  readonly db: SqliteDatabase;
  readonly identity: PractitionerIdentity;
  readonly mirror: DirectoryMirror;
  readonly audit: AuditLog;
  readonly transport: TransportStore;
  readonly registration: Registration;
  readonly consult: ConsultService;
  readonly local: LocalPractitioners;
}

interface Link {
  readonly connection: BrokerConnection;
  readonly outbox: OutboxSender;
  receiver?: InboxReceiver;
}

function plainProfileProblem(profile: ConnectionProfile): string | undefined {
  return profile.tls ? undefined : plainAmqpProblem(profile.hosts, "choose the broker's CA certificate to connect with amqps");
}

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

export function createWorkstationCore(given: WorkstationCoreOptions): WorkstationCore {
  // Everything that could call back later (the emitter, timers, subscriptions) is registered here; stop() disposes it.
  const disposables = createDisposableStore();
  const events = disposables.add(createCoreEvents());
  const { emit } = events;
  // First of all: the lock reads its own file (no keychain), so a workstation with a passphrase opens locked.
  const lock: AppLock = createAppLock({ vault: given.vault, dataDir: given.dataDir });
  disposables.add(toDisposable(lock.onChanged((locked) => emit(EVENTS.lockChanged, { locked }))));
  // Every other use of the keychain goes through the lock: any keychain failure locks the app (fail closed).
  const options: WorkstationCoreOptions = { ...given, vault: lock.guard(given.vault) };

  // Opened at once (a small JSON file), so that the renderer can ask for the set-up before the store is open.
  const settings: WorkstationSettings = openWorkstationSettings(options.dataDir);
  let lockPolicy = settings.read().lockPolicy;
  let parts: Parts | undefined;
  let storeProblem: { code: string; message: string } | undefined;
  let link: Link | undefined;
  let snapshot: SnapshotProgress | undefined;
  let behind = false;
  let refused: readonly RefusedEntry[] = [];
  let standaloneState: ConnectionState = { status: 'not-configured', since: new Date().toISOString(), reason: 'No region is configured yet.' };

  const connectionState = () => link?.connection.state ?? standaloneState;
  const setStandaloneState = (status: ConnectionState['status'], reason: string) => {
    standaloneState = { status, since: new Date().toISOString(), reason };
    emit(EVENTS.connectionStateChanged, standaloneState);
  };

  function need(): Parts {
    if (!parts) throw new CoreError(API_ERROR_CODES.notConfigured, storeProblem?.message ?? 'The workstation has not started.');
    return parts;
  }
  function unlocked(): Parts {
    if (lock.locked) throw new CoreError(API_ERROR_CODES.locked, 'The workstation is locked. Enter the passphrase to continue.');
    if (lockPolicy === 'required' && !lock.hasPassphrase()) throw new CoreError(API_ERROR_CODES.notConfigured, 'This workstation\'s lock policy requires a lock passphrase: set one first.');
    return need();
  }
  function me(): { practitionerId: string; endpointId: string } {
    const practitionerId = parts?.identity.practitionerId();
    const endpointId = settings.read().profile?.endpointId;
    if (!practitionerId || !endpointId) throw new CoreError(API_ERROR_CODES.notConfigured, 'Set up the region and import the practitioner\'s certificates first.');
    return { practitionerId, endpointId };
  }

  // --- sending -----------------------------------------------------------------------------------------------------

  /** Sealed with this workstation's one practitioner's signing key (the `signAs` of shared parts is always them). */
  async function seal(input: SealInput & { signAs?: string }): Promise<StoredMessage> {
    return sealForOutbox(me().endpointId, await need().identity.signer(), input);
  }

  function enqueue(message: StoredMessage, orderKey: string): void {
    need().transport.outbox.enqueue({ messageId: message.properties.message_id, orderKey, address: uplinkSendAddress(message.properties.user_id), message });
    // After the caller's transaction: the sender reads the outbox, which must hold the row by then.
    setImmediate(() => {
      link?.outbox.wake();
      emitOutbox();
    });
  }

  function outboxState() {
    const { transport, db } = need();
    const counts = transport.outbox.counts();
    const caseOf = db.prepare<[string], { case_id: string; type: string }>('select case_id, type from case_messages where message_id = ?');
    return {
      ...counts,
      failures: transport.outbox.failed().map((f) => {
        const known = caseOf.get(f.messageId);
        return {
          messageId: f.messageId, type: known?.type ?? String(f.message.properties.application_properties.rtsType ?? ''), ...(known && { caseId: known.case_id }),
          reason: f.failureReason ?? 'failed', at: new Date(f.createdAt).toISOString(),
        };
      }),
    };
  }
  const emitOutbox = () => {
    if (parts) emit(EVENTS.outboxChanged, outboxState());
  };
  // A draining outbox confirms in bursts: the UI hears of it at most a few times a second.
  const outboxSoon = disposables.add(createRunOnceScheduler(emitOutbox, 250));
  const emitOutboxSoon = () => outboxSoon.schedule();

  // --- state views ---------------------------------------------------------------------------------------------------

  async function setupState(): Promise<SetupState> {
    const s = settings.read();
    const profile = s.profile;
    let hasBrokerPassword = false;
    if (profile) {
      try {
        hasBrokerPassword = (await options.vault.get(brokerPasswordAccount(profile.endpointId))) !== undefined;
      } catch (error) {
        if (!(error instanceof VaultUnavailableError)) throw error;
      }
    }
    return {
      ...(storeProblem && { storeProblem }),
      ...(profile && { profile }),
      hasBrokerPassword,
      ...(parts && { identity: await parts.identity.status() }),
      registration: parts ? parts.registration.state() : { state: 'none' },
      ...(waitingForCrl() > 0 && { waitingForCrl: waitingForCrl() }),
      ui: s.ui,
      locked: lock.locked,
      hasLockPassphrase: lock.hasPassphrase(),
      ...(lockPolicy && { lockPolicy }),
    };
  }
  /** Parked on the downlink (its sourceName) until the CRL is current again. */
  const waitingForCrl = () => parts?.transport.parked.counts('downlink').messages ?? 0;
  const emitSetup = () => void setupState().then((state) => emit(EVENTS.setupChanged, state), () => undefined);
  const setupSoon = disposables.add(createRunOnceScheduler(emitSetup, 250));
  const emitSetupSoon = () => setupSoon.schedule();

  function directoryState(): DirectoryState {
    const { mirror } = need();
    const version = mirror.version();
    const appliedAt = mirror.appliedAt();
    const state = connectionState();
    return {
      ...(version !== undefined && { version }),
      experts: mirror.count(),
      ...(appliedAt !== undefined && { appliedAt: new Date(appliedAt).toISOString() }),
      ...(version !== undefined && { asOf: state.status === 'online' ? new Date().toISOString() : state.since }),
      ...(snapshot && !snapshot.complete && { snapshot: { version: snapshot.version, received: snapshot.received, count: snapshot.count } }),
      behind,
      refused: [...refused],
    };
  }
  const emitDirectory = () => emit(EVENTS.directorySyncProgress, directoryState());

  async function expertDetail(practitionerId: string): Promise<ExpertDetail> {
    const { mirror, identity } = unlocked();
    const practitioner = mirror.resource(`Practitioner/${practitionerId}`) as Record<string, never> | undefined;
    const role = mirror.resource(`PractitionerRole/${practitionerId}`) as Record<string, never> | undefined;
    if (!practitioner || !role) throw new CoreError(API_ERROR_CODES.notFound, `${practitionerId} is not in the directory.`);
    const organization = mirror.resource(String((role.organization as { reference?: string } | undefined)?.reference ?? '')) as { name?: string; address?: { city?: string }[] } | undefined;
    const names = (practitioner.name as { prefix?: string[]; given?: string[]; family?: string }[] | undefined) ?? [];
    const certificates = certificatesOf(practitioner);
    const judged = [];
    for (const use of ['signing', 'encryption'] as const) {
      for (const base64 of certificates[use]) judged.push(await identity.checkCertificate(new Uint8Array(Buffer.from(base64, 'base64')), use));
    }
    return {
      practitionerId,
      name: names.map((n) => [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ')).join(', '),
      specialties: ((role.specialty as { text?: string; coding?: { display?: string }[] }[] | undefined) ?? []).map((s) => s.text ?? s.coding?.[0]?.display ?? ''),
      ...(organization?.name && { organization: organization.name }),
      ...(organization?.address?.[0]?.city && { city: organization.address[0].city }),
      languages: ((practitioner.communication as { coding?: { code?: string }[] }[] | undefined) ?? []).flatMap((c) => (c.coding ?? []).map((x) => x.code ?? '')),
      endpoints: endpointsOf(role),
      certificates: judged,
      publisher: practitionerId.slice(0, practitionerId.indexOf('.')),
      lookAlikes: mirror.lookAlikes(practitionerId),
    };
  }

  // --- the broker link ------------------------------------------------------------------------------------------------

  async function connect(): Promise<void> {
    if (link || !parts) return;
    const profile = settings.read().profile;
    if (!profile) return;
    // A profile saved before plain AMQP was refused, or provisioned from outside: stay offline and say why.
    const plain = plainProfileProblem(profile);
    if (plain) {
      setStandaloneState('offline', plain);
      return;
    }
    const endpointId = assertEndpointId(profile.endpointId);
    const account = brokerPasswordAccount(endpointId);
    let stored: string | undefined;
    try {
      stored = await options.vault.get(account);
    } catch (error) {
      if (!(error instanceof VaultUnavailableError)) throw error;
      setStandaloneState('offline', `${error.message}. ${error.hint}`);
      return;
    }
    if (stored === undefined) {
      setStandaloneState('offline', `No broker password for endpoint ${endpointId} in the OS keychain.`);
      return;
    }
    const connection = createBrokerConnection({
      hosts: profile.hosts, vhost: profile.vhost, username: endpointId, containerId: endpointId,
      ...(profile.tls && { tls: { ca: profile.tls.caPem, ...(profile.tls.servername && { servername: profile.tls.servername }) } }),
      ...(options.reconnectDelayMs && { reconnectDelayMs: options.reconnectDelayMs }),
      password: async () => {
        const password = await options.vault.get(account);
        if (password === undefined) throw new Error(`broker password for ${endpointId} vanished from the keychain`);
        return password;
      },
    });
    const current: Link = { connection, outbox: createOutboxSender({ connection, outbox: parts.transport.outbox, retryDelayMs: 1_000, onChange: emitOutboxSoon }) };
    link = current;
    connection.onStateChanged((state) => {
      emit(EVENTS.connectionStateChanged, state);
      emitOutbox();
    });
    await connection.start();
    await startReceiving();
  }

  /** The downlink is read only once an identity is installed: without it nothing could be opened. */
  async function startReceiving(): Promise<void> {
    if (!link || link.receiver || !parts) return;
    const status = await parts.identity.status();
    if (!status.ready) return;
    const { identity, consult, mirror, registration, transport, local } = parts;
    const endpointId = me().endpointId;
    const pending: (() => void)[] = [];
    const handle = createDownlinkHandler({
      local, trust: () => identity.trust(), hubCertificate: () => identity.hubCertificate(),
      consult, mirror, registration, sync: createDirectorySync({ mirror, validator: () => createNativeCertificateValidator(identity.trust()) }),
      seal, enqueue,
      afterCommit: (notify) => {
        if (pending.push(notify) === 1) setImmediate(() => pending.splice(0).forEach((n) => n()));
      },
      onSnapshotProgress: (progress) => {
        snapshot = progress;
        emitDirectory();
      },
      onDirectoryChanged: (newlyRefused) => {
        if (newlyRefused.length > 0) refused = [...refused.filter((r) => !newlyRefused.some((n) => n.practitionerId === r.practitionerId)), ...newlyRefused].slice(-1_000);
        emitDirectory();
        // The signing certificate in use follows the directory's entry of this practitioner (Settings says which).
        emitSetup();
      },
      onBehind: (value) => {
        behind = value;
        emitDirectory();
      },
      onCaseChanged: (caseId, isNew) => emit(EVENTS.caseChanged, { summary: consult.summaryOf(caseId), isNew }),
      onNotice: () => emitSetup(),
      // A CRL applied changes the trust: what waited for it (parked in the inbox) is handled again.
      applyCrl: async (der) => {
        const outcome = await identity.applyCrl(der);
        if (outcome === 'applied') link?.receiver?.handleParkedAgain();
        return outcome;
      },
      // Every CRL the hub sends leaves a line: applied, or why nothing changed. The setup event after it refreshes the UI.
      // The CRL held already comes after every registration: nothing happened, so nothing is logged.
      onCrl: (outcome, detail) => outcome !== 'held' && parts?.audit.append({ actor: HUB_SENDER, action: outcome === 'applied' ? AUDIT_ACTIONS.crlApplied : AUDIT_ACTIONS.crlIgnored, subject: 'crl', detail }),
    });
    link.receiver = createInboxReceiver({
      connection: link.connection, source: downlinkReceiveAddress(endpointId), sourceName: 'downlink', inbox: transport.inbox, deadLetters: transport.deadLetters, handle,
      parked: transport.parked,
      // The CRL banner says how many messages wait for a current revocation list.
      onParkChanged: emitSetupSoon,
    });
    await ensureRegistered();
  }

  async function ensureRegistered(): Promise<void> {
    const { registration, audit } = need();
    const { endpointId, practitionerId } = me();
    const state = registration.state();
    if ((state.state === 'requested' || state.state === 'accepted') && state.endpointId === endpointId) return;
    const message = await seal({
      properties: { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: endpointId },
      payload: (messageId, timestamp) => buildEndpointRegister({ messageId, timestamp, sender: endpointId }, {
        kind: 'workstation', name: `${options.productName} ${endpointId}`, organization: options.organization ?? practitionerId.slice(0, practitionerId.indexOf('.')),
      }),
    });
    need().db.transaction(() => {
      enqueue(message, 'registration');
      registration.requested(message.properties.message_id, endpointId);
      audit.append({ actor: practitionerId, action: AUDIT_ACTIONS.registered, subject: `endpoint:${endpointId}`, detail: 'registration queued' });
    })();
  }

  async function disconnect(): Promise<void> {
    const current = link;
    link = undefined;
    if (!current) return;
    await current.receiver?.stop();
    current.outbox.stop();
    await current.connection.stop();
    standaloneState = current.connection.state;
  }

  // --- commands -------------------------------------------------------------------------------------------------------

  const dispatch = createCommandDispatcher({
    [COMMANDS.getAppInfo]: async () => ({ productName: options.productName, version: options.version }),
    [COMMANDS.getConnectionState]: async () => connectionState(),
    [COMMANDS.getSetupState]: async () => setupState(),
    [COMMANDS.setProfile]: async ({ profile, brokerPassword }) => {
      need();
      const plain = plainProfileProblem(profile);
      if (plain) throw new CoreError(API_ERROR_CODES.invalidRequest, `The connection was not saved: ${plain}.`);
      return saveProfile(profile, brokerPassword);
    },
    [COMMANDS.readEnrolment]: async ({ enrolmentBase64 }) => describeEnrolment(await enrolmentStep(() => checkEnrolment(fromBase64(enrolmentBase64), need().identity.trust()))),
    [COMMANDS.enrol]: async ({ enrolmentBase64, brokerPassword }) => {
      const { identity, audit } = unlocked();
      const checked = await enrolmentStep(() => checkEnrolment(fromBase64(enrolmentBase64), identity.trust()));
      const { enrolment } = checked;
      const profile = await enrolmentStep(async () => profileOfEnrolment(enrolment));
      const plain = plainProfileProblem(profile);
      if (plain) throw new CoreError(API_ERROR_CODES.enrolmentRefused, `The enrolment file was not applied: ${plain}. Nothing was changed.`);
      // The trust first: it is what can still be refused (e.g. a hub certificate the CRL revokes), before anything changed.
      try {
        await identity.setTrust({ anchorsPem: enrolment.caCertificatePem, crlsPem: enrolment.crlPem, hubCertificatePem: enrolment.hubCertificatePem });
      } catch (error) {
        if (error instanceof IdentityError) throw new CoreError(API_ERROR_CODES.enrolmentRefused, `The enrolment file was not applied: ${error.message.replace(/\.$/, '')}. Nothing was changed.`);
        throw error;
      }
      audit.append({
        actor: identity.practitionerId() ?? 'system', action: AUDIT_ACTIONS.enrolled, subject: `endpoint:${enrolment.endpoint.id}`,
        detail: `region ${enrolment.region}, CA SHA-256 ${checked.caFingerprint}, file issued ${enrolment.issuedAt}`,
      });
      return saveProfile(profile, brokerPassword);
    },
    [COMMANDS.setUiPreferences]: async (preferences) => {
      settings.setUi(Object.fromEntries(Object.entries(preferences).filter(([, v]) => v !== undefined)));
      return setupChanged();
    },
    [COMMANDS.setTrust]: async (input) => {
      const { identity } = unlocked();
      await identityStep(() => identity.setTrust({ anchorsPem: input.anchorsPem, hubCertificatePem: input.hubCertificatePem, ...(input.crlsPem && { crlsPem: input.crlsPem }) }));
      // A current CRL loaded again (Settings) lets the downlink be read again.
      return identityChanged();
    },
    [COMMANDS.importPkcs12]: async ({ use, pkcs12Base64, password }) => {
      const { identity, audit } = unlocked();
      const status = await identityStep(() => identity.importPkcs12({ use, pkcs12: new Uint8Array(Buffer.from(pkcs12Base64, 'base64')), password }));
      audit.append({ actor: status.practitionerId ?? 'system', action: AUDIT_ACTIONS.identityImported, subject: `certificate:${use}` });
      return identityChanged();
    },
    [COMMANDS.createCertificateRequest]: async (input) => {
      const { identity } = unlocked();
      return { requestPem: await identity.createRequest({ use: input.use, practitionerId: input.practitionerId, ...(input.organization && { organization: input.organization }) }) };
    },
    [COMMANDS.importCertificate]: async ({ use, certificatePem }) => {
      const { identity, audit } = unlocked();
      const status = await identityStep(() => identity.importCertificate({ use, certificatePem }));
      audit.append({ actor: status.practitionerId ?? 'system', action: AUDIT_ACTIONS.identityImported, subject: `certificate:${use}` });
      return identityChanged();
    },
    [COMMANDS.getDirectoryState]: async () => directoryState(),
    [COMMANDS.searchDirectory]: async ({ text, limit }) => unlocked().mirror.search({ text, ...(limit && { limit }) }),
    [COMMANDS.getExpert]: async ({ practitionerId }) => expertDetail(practitionerId),
    [COMMANDS.listCases]: async (input) => unlocked().consult.list(input ? Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) : {}),
    [COMMANDS.countCases]: async () => unlocked().consult.counts(),
    [COMMANDS.openCase]: async ({ caseId }) => unlocked().consult.openCase(caseId),
    [COMMANDS.createConsult]: async (input) => unlocked().consult.compose(input, me().practitionerId),
    [COMMANDS.actOnCase]: async (action) => unlocked().consult.act(action),
    [COMMANDS.sendReport]: async ({ passphrase, ...report }) => {
      const { consult } = unlocked();
      await lock.confirm(passphrase);
      return consult.sendReport(report);
    },
    [COMMANDS.recordExport]: async ({ caseId, form }) => {
      const { consult, audit } = unlocked();
      consult.summaryOf(caseId); // refuses a case that is not here
      audit.append({ actor: me().practitionerId, action: AUDIT_ACTIONS.exported, subject: `case:${caseId}`, detail: form });
      return { recorded: true as const };
    },
    [COMMANDS.getOutboxState]: async () => outboxState(),
    [COMMANDS.listRejections]: async () => unlocked().transport.deadLetters.list({ state: 'held', limit: 500 }).map((d) => {
      const props = d.message.properties.application_properties;
      return {
        id: d.id, messageId: d.messageId, reason: d.reason, detail: d.detail, receivedAt: new Date(d.receivedAt).toISOString(),
        ...(typeof props.rtsType === 'string' && { type: props.rtsType }), ...(typeof props.rtsSender === 'string' && { sender: props.rtsSender }),
        ...(typeof props.rtsCase === 'string' && { caseId: props.rtsCase }),
      };
    }),
    [COMMANDS.checkAuditLog]: async () => unlocked().audit.check(),
    [COMMANDS.listAuditLog]: async ({ beforeSeq, limit }) => {
      const { audit } = unlocked();
      const entries = audit.list({ limit: limit ?? 50, ...(beforeSeq !== undefined && { beforeSeq }) });
      return { total: audit.count(), entries: entries.map(({ hash: _mac, ...entry }) => entry) };
    },
    [COMMANDS.lock]: async () => {
      if (!lock.lock()) throw new CoreError(API_ERROR_CODES.notConfigured, 'Set a lock passphrase in the settings first.');
      parts?.audit.append({ actor: parts.identity.practitionerId() ?? 'system', action: AUDIT_ACTIONS.locked, subject: 'app' });
      return { locked: true };
    },
    [COMMANDS.unlock]: async ({ passphrase }) => {
      await lock.unlock(passphrase);
      parts?.audit.append({ actor: parts.identity.practitionerId() ?? 'system', action: AUDIT_ACTIONS.unlocked, subject: 'app' });
      return { locked: false };
    },
    [COMMANDS.setLockPassphrase]: async ({ passphrase, current }) => {
      await lock.setPassphrase(passphrase, current);
      await setupChanged();
      return { locked: lock.locked };
    },
    [COMMANDS.setLockPolicy]: async ({ policy, current }) => {
      if (policy === 'optional' && lockPolicy === 'required') await lock.confirm(current, 'Making the lock optional');
      settings.setLockPolicy(policy);
      lockPolicy = policy;
      return setupChanged();
    },
  });

  /** Saves a checked profile (and the broker password into the keychain) and connects with it. */
  async function saveProfile(profile: ConnectionProfile, brokerPassword: string | undefined): Promise<SetupState> {
    if (brokerPassword !== undefined) await options.vault.set(brokerPasswordAccount(profile.endpointId), brokerPassword);
    // Registration is idempotent at the hub: after any change of region (e.g. a new demo region) register again.
    if (JSON.stringify(settings.read().profile) !== JSON.stringify(profile)) need().registration.reset();
    settings.setProfile(profile);
    await disconnect();
    await connect();
    return setupChanged();
  }

  /** A refused enrolment file is one line for the user, and nothing of the set-up has changed. */
  async function enrolmentStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (isEnrolmentError(error)) throw new CoreError(API_ERROR_CODES.enrolmentRefused, `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}. Nothing was changed.`);
      throw error;
    }
  }

  /** Tells every window what changed in the set-up, and answers the command with the same state. */
  async function setupChanged(): Promise<SetupState> {
    const state = await setupState();
    emit(EVENTS.setupChanged, state);
    return state;
  }

  /** With both certificates in place the downlink can be read and the workstation registered. */
  async function identityChanged(): Promise<SetupState> {
    // New trust (a CRL or certificates set in Settings, an enrolment): what waited for it is handled again.
    link?.receiver?.handleParkedAgain();
    await startReceiving();
    return setupChanged();
  }

  async function identityStep<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof IdentityError) throw new CoreError(error.code === 'identity-invalid' ? API_ERROR_CODES.identityInvalid : API_ERROR_CODES.notConfigured, error.message);
      throw error;
    }
  }

  async function start(): Promise<void> {
    if (disposables.disposed) throw new Error('This workstation core was stopped: create a new one to start again.');
    if (parts) return;
    // Every received payload is checked against base FHIR R4 (protocol §4), which needs the HL7 definitions indexed.
    loadFhirDefinitions();
    if (options.broker) settings.setProfile({ ...options.broker, endpointId: assertEndpointId(options.broker.endpointId) });
    let db: SqliteDatabase;
    try {
      db = await openWorkstationStore({ dir: options.dataDir, vault: options.vault, settings });
    } catch (error) {
      if (error instanceof VaultUnavailableError) {
        storeProblem = { code: API_ERROR_CODES.keychainUnavailable, message: `${error.message}. ${error.hint}` };
      } else if (error instanceof KeychainChangedError) {
        storeProblem = { code: API_ERROR_CODES.keychainChanged, message: `${error.message}. ${error.hint}` };
      } else {
        throw error;
      }
      setStandaloneState('offline', storeProblem.message);
      await setupChanged();
      return;
    }
    // With the keychain answering: a passphrase an older version set (before the lock's file) locks now, before any data.
    await lock.restore();
    const transport = createSqliteTransportStore(db);
    const mirror = openDirectoryMirror(db);
    // Signs with the certificate the directory lists for this practitioner: the one peers and the hub will accept.
    const identity = openPractitionerIdentity(db, options.vault, { directorySigningCertificates: (id) => mirror.certificates(id, 'signing') });
    const audit = openAuditLog(db, await auditSealFromVault(options.vault));
    const cases = openCaseStore(db);
    const registration = openRegistration(db, emitSetup);
    const local: LocalPractitioners = {
      endpointId: () => me().endpointId,
      has: (practitionerId) => practitionerId === identity.practitionerId(),
      recipients: () => identity.recipients(),
    };
    const consult = createConsultService({
      db, cases, mirror, audit, local,
      trust: () => identity.trust(), validator: () => createNativeCertificateValidator(identity.trust()),
      seal, enqueue,
      onCaseChanged: (summary, isNew) => emit(EVENTS.caseChanged, { summary, isNew }),
    });
    parts = { db, identity, mirror, audit, transport, registration, consult, local };
    if (settings.read().profile) setStandaloneState('offline', 'not started');
    await connect();
    await setupChanged();
  }

  async function stop(): Promise<void> {
    await disconnect();
    // After the link's last state change: from here on, a timer, a pending promise or the lock finds nothing to tell.
    disposables.dispose();
    // The keychain's anchor must name the newest entry before the store closes.
    await parts?.audit.flush();
    parts?.transport.close();
    parts = undefined;
  }

  return {
    dispatch,
    onEvent: events.onEvent,
    start,
    stop,
  };
}
