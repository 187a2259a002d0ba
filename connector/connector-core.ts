import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CaseAction,
  CaseSummary,
  CaseView,
  ComposeConsult,
  ReportInput,
  ConnectionState,
} from '../shared/api/index.ts';
import { plainAmqpProblem } from '../shared/broker/index.ts';
import { NO_LOGGER, type Logger } from '../shared/index.ts';
import {
  certificateFingerprint,
  enrolmentCaOf,
  isEnrolmentError,
  verifyEnrolment,
  type Enrolment,
} from '../shared/enrolment/index.ts';
import {
  readDirectoryEntry,
  readOrganization,
  buildDirectoryPublish,
  buildEndpointRegister,
  type DirectoryChange,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { HUB_SENDER, PROTOCOL_LIMITS, PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import {
  createBaseFhirValidator,
  createCachedCertificateValidator,
  loadFhirDefinitions,
  nodeCryptoAccelerator,
} from '../shared-node/index.ts';
import { useCryptoAccelerator } from '../shared/cms/index.ts';
import {
  brokerAdapterFor,
  createBrokerConnection,
  createInboxReceiver,
  createOutboxSender,
  migrate,
  createSqliteTransportStore,
  type BrokerConnection,
  type InboxReceiver,
  type OutboxSender,
  type SqliteDatabase,
  type StoredMessage,
  outboxCounts,
  UPLINK,
} from '../transport/index.ts';
import {
  AUDIT_ACTIONS,
  auditSealFromVault,
  openAuditLog,
  openCaseStore,
  createConsultService,
  CoreError,
  openDirectoryMirror,
  createDirectorySync,
  createCertificateChecks,
  createDownlinkHandler,
  openRegistration,
  outboxFailures,
  refusedMessages,
  sealForOutbox,
  profileOfEnrolment,
  openWorkstationStore,
  createKeychainVault,
  type AuditLog,
  type ConsultService,
  type LocalPractitioners,
  type ExpertQuery,
  type ExpertSummary,
  type Registration,
  type SealInput,
  type SecretVault,
} from '../main/node/index.ts';
import { withAttentionWords, type WithAttentionWords } from './attention-words.ts';
import type { LoadedConnectorConfig } from './connector-config.ts';
import { openConnectorIdentity, type ConnectorIdentity } from './connector-identity.ts';
import { openEventFeed, type EventFeed } from './event-feed.ts';
import { fullListBatches } from './directory-batches.ts';
import { openPublications, type PublicationView, type Publications } from './publications.ts';
import { createSecretResolver, type SecretResolver } from './secret-reference.ts';
import { startWebhooks } from './webhooks.ts';

/**
 * The clinic connector (issue 18, docs/connector.md): a headless endpoint of kind `clinic-system` built from the
 * workstation's core parts (transport, durable outbox and inbox, encrypted store, directory mirror, consult lifecycle,
 * audit), acting for every practitioner of the clinic whose keys it holds. The HTTP API (http-api.ts) is a thin layer
 * over this interface: everything a clinic system can do is here, in plain Node, testable without HTTP.
 */
export interface ConnectorCore {
  readonly endpointId: string;
  readonly events: EventFeed;
  state(): ConnectorState;
  publish(
    input:
      | { mode: 'full'; resources: readonly DirectoryResource[] }
      | { mode: 'delta'; changes: readonly DirectoryChange[] },
    idempotencyKey?: string,
  ): Promise<PublicationView>;
  publication(publicationId: string): PublicationView;
  publications(limit: number): PublicationView[];
  /** One page of the mirror's matches; the specialty and language filters apply before paging. */
  searchDirectory(query: ExpertQuery): ExpertSummary[];
  expert(practitionerId: string): ExpertEntry;
  /** Practitioners this connector acts for, and the certificates it holds for them (for directory entries). */
  practitioners(): readonly string[];
  certificatesOf(practitionerId: string): { signing: string; encryption: string } | undefined;
  createConsult(
    from: string,
    input: ComposeConsult,
    idempotencyKey?: string,
  ): Promise<WithAttentionWords<CaseSummary> & { replayed: boolean }>;
  listConsults(query: {
    practitioner?: string;
    role?: 'applicant' | 'expert';
    bucket?: 'new' | 'progress' | 'waiting' | 'done';
    offset?: number;
    limit?: number;
  }): WithAttentionWords<CaseSummary>[];
  openConsult(caseId: string): Promise<WithAttentionWords<CaseView>>;
  /** One message of a case as the FHIR message Bundle it travelled as, decrypted and verified. */
  readMessage(caseId: string, messageId: string): ReturnType<ConsultService['readMessage']>;
  act(action: CaseAction): Promise<WithAttentionWords<CaseSummary>>;
  report(input: ReportInput): Promise<WithAttentionWords<CaseSummary>>;
  outbox(): {
    counts: ReturnType<typeof outboxCounts>;
    failed: { messageId: string; type: string; caseId?: string; reason: string; at: string }[];
  };
  refused(limit: number): {
    id: number;
    messageId: string;
    reason: string;
    receivedAt: string;
    type?: string;
    sender?: string;
    caseId?: string;
  }[];
  stop(): Promise<void>;
}

export interface ConnectorState {
  readonly endpointId: string;
  readonly region: string;
  readonly connection: ConnectionState;
  readonly registration: { readonly state: string; readonly reason?: string };
  readonly directory: { readonly version?: number; readonly experts: number };
  readonly outbox: { readonly waiting: number; readonly failed: number };
  readonly refused: number;
  readonly practitioners: number;
  readonly crl: { readonly state: string; readonly nextUpdate?: string };
  readonly events: { readonly first?: number; readonly last: number };
}

export interface ExpertEntry {
  readonly practitionerId: string;
  readonly name?: string;
  readonly specialties: string[];
  readonly organization?: string;
  readonly city?: string;
  readonly languages: string[];
  readonly endpoints: string[];
  readonly publisher: string;
  readonly lookAlikes: string[];
}

export interface ConnectorOptions {
  readonly loaded: LoadedConnectorConfig;
  /** Secrets of the store and audit log; the OS keychain under `keychainService` unless given (tests). */
  readonly vault?: SecretVault;
  readonly env?: NodeJS.ProcessEnv;
  readonly reconnectDelayMs?: { readonly initial: number; readonly max: number };
  /** Structured log lines: ids, states and reason codes, never patient data. */
  readonly log?: (line: Record<string, unknown>) => void;
  /** The broker link's event codes (connects, drops, failed handlers and commits, refused sends), as the workstation's. */
  readonly logger?: Logger;
}

export class ConnectorStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorStartError';
  }
}

const STATE_FILE = 'connector-state.json';
const STORE_FILE = 'connector.db';
const DIRECTORY_ORDER_KEY = 'directory';
/** Practitioners per full-list batch: a Practitioner and its role travel together, at most the protocol's 1,000 roles. */
const ENTRIES_PER_BATCH = PROTOCOL_LIMITS.maxDirectoryEntriesPerBatch;

const IDEMPOTENCY_MIGRATIONS = [
  {
    version: 1,
    sql: 'create table connector_idempotency (kind text not null, key text not null, request_hash text not null, created_at integer not null, primary key (kind, key)) without rowid',
  },
];

/** The same idempotency key gives the same id, so a repeated request finds what the first one made. */
function idFromKey(endpointId: string, kind: string, key: string): string {
  const hex = createHash('sha256').update(`${endpointId}\0${kind}\0${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The key digest of the store, in the connector's small state file (as the workstation keeps it in its settings). */
function stateFile(dataDir: string) {
  const path = join(dataDir, STATE_FILE);
  const read = (): { storeKeyDigest?: string } =>
    existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { storeKeyDigest?: string }) : {};
  return {
    read,
    setStoreKeyDigest(digest: string) {
      writeFileSync(path, `${JSON.stringify({ ...read(), storeKeyDigest: digest }, null, 2)}\n`, { mode: 0o600 });
    },
  };
}

interface Link {
  readonly connection: BrokerConnection;
  readonly outbox: OutboxSender;
  receiver?: InboxReceiver;
}

export async function startConnector(options: ConnectorOptions): Promise<ConnectorCore> {
  useCryptoAccelerator(nodeCryptoAccelerator); // small digests, signatures and ECDH by OpenSSL at once (webcrypto.ts)
  const { config, path } = options.loaded;
  const log = options.log ?? (() => undefined);
  const logger = options.logger ?? NO_LOGGER;
  const vault = options.vault ?? createKeychainVault(config.keychainService);
  const secrets: SecretResolver = createSecretResolver({
    path,
    vault: () => vault,
    ...(options.env && { env: options.env }),
  });

  const enrolment = await readEnrolment(path(config.enrolmentFile), config.caFingerprint);
  if (enrolment.endpoint.kind !== 'clinic-system')
    throw new ConnectorStartError(`the enrolment file is for a ${enrolment.endpoint.kind}, not a clinic system`);
  const profile = profileOfEnrolment(enrolment);
  const plain = profile.tls ? undefined : plainAmqpProblem(profile.hosts, 'the enrolment file gives no broker TLS CA');
  if (plain) throw new ConnectorStartError(plain);
  const endpointId = enrolment.endpoint.id;
  const brokerPassword = await secrets.resolve(config.brokerPassword, 'brokerPassword');

  // Every received payload is checked against base FHIR R4 (protocol §4).
  loadFhirDefinitions();
  const dataDir = path(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db: SqliteDatabase = await openWorkstationStore({
    dir: dataDir,
    vault,
    settings: stateFile(dataDir),
    file: STORE_FILE,
  });
  const closers: (() => unknown)[] = [() => db.close()];
  try {
    const identity: ConnectorIdentity = await openConnectorIdentity({ db, config, enrolment, secrets, path });
    // The outbox sends a case's messages from the case store, which keeps their envelopes (OutboxInput.bodyHeld).
    const cases = openCaseStore(db, { logger });
    const transport = createSqliteTransportStore(db, { logger, heldBodies: { read: (id) => cases.body(id) } });
    // Both stores' segment files close with the database (transport.close closes it).
    closers.splice(-1, 1, () => {
      cases.close();
      transport.close();
    });
    const mirror = openDirectoryMirror(db);
    const audit: AuditLog = openAuditLog(db, await auditSealFromVault(vault));
    // Closed in the reverse order of opening: the keychain's anchor names the newest entry before the store closes.
    closers.unshift(() => audit.flush());
    const registration: Registration = openRegistration(db, () => undefined);
    const publications: Publications = openPublications(db);
    migrate(db, 'connector-idempotency', IDEMPOTENCY_MIGRATIONS);
    const events: EventFeed = openEventFeed(db, { retainDays: config.retainEventsDays });
    events.prune();
    // Events older than the retention go hourly; a client whose cursor was pruned gets 410 Gone.
    const pruning = setInterval(() => events.prune(), 3_600_000);
    pruning.unref();
    closers.unshift(() => {
      clearInterval(pruning);
      events.dispose();
    });

    const local: LocalPractitioners = {
      endpointId: () => endpointId,
      has: (id) => identity.has(id),
      recipients: async (id) => identity.recipients(id),
    };

    /** Signed by the local practitioner `signAs`, or without it by the clinic system. */
    const seal = (input: SealInput & { signAs?: string }): Promise<StoredMessage> =>
      sealForOutbox(
        endpointId,
        input.signAs === undefined ? identity.clinicSigner() : identity.signer(input.signAs),
        input,
      );

    let link: Link | undefined;
    function enqueue(message: StoredMessage, orderKey: string, options?: { bodyHeld?: boolean }): void {
      transport.outbox.enqueue({
        messageId: message.properties.message_id,
        orderKey,
        address: UPLINK,
        message,
        ...(options?.bodyHeld && { bodyHeld: true }),
      });
      // After the caller's transaction: the sender reads the outbox, which must hold the row by then.
      setImmediate(() => {
        link?.outbox.wake();
        events.notify();
      });
    }

    const validator = createCachedCertificateValidator(() => identity.trust());
    // As the workstation's: what the directory lists is judged in the background and again where it is used.
    const certificateChecks = createCertificateChecks({
      mirror,
      trust: () => identity.trust(),
      validator,
      onDidCheck: () => undefined,
      logger,
    });
    closers.unshift(() => certificateChecks.dispose());
    certificateChecks.schedule();
    const consult: ConsultService = createConsultService({
      db,
      cases,
      mirror,
      audit,
      local,
      trust: () => identity.trust(),
      validator,
      seal: (input) => seal(input),
      enqueue,
      onCaseChanged: () => events.notify(),
    });

    // --- the broker link ---------------------------------------------------------------------------------------------
    const connection = createBrokerConnection({
      hosts: profile.hosts,
      vhost: profile.vhost,
      username: endpointId,
      containerId: `${endpointId}-connector`,
      adapter: brokerAdapterFor(profile.brokerKind),
      ...(profile.tls && {
        tls: { ca: profile.tls.caPem, ...(profile.tls.servername && { servername: profile.tls.servername }) },
      }),
      ...(options.reconnectDelayMs && { reconnectDelayMs: options.reconnectDelayMs }),
      password: async () => brokerPassword,
      logger,
    });
    link = {
      connection,
      outbox: createOutboxSender({
        connection,
        outbox: transport.outbox,
        endpointId,
        retryDelayMs: 1_000,
        onChange: () => events.notify(),
        logger,
      }),
    };
    connection.onStateChanged((state) =>
      log({ event: 'connection', status: state.status, ...(state.reason && { reason: state.reason }) }),
    );
    const pending: (() => void)[] = [];
    const baseFhir = createBaseFhirValidator({
      onWorkerError: (error) => log({ event: 'validation-worker-failed', error: error.message }),
    });
    const handle = createDownlinkHandler({
      local,
      baseFhir,
      consult,
      mirror,
      registration,
      trust: () => identity.trust(),
      hubCertificate: () => identity.hubCertificate(),
      sync: createDirectorySync({ mirror }),
      seal,
      enqueue,
      afterCommit: (notify) => {
        if (pending.push(notify) === 1) setImmediate(() => pending.splice(0).forEach((n) => n()));
      },
      onSnapshotProgress: (progress) =>
        progress.complete && log({ event: 'directory-snapshot', version: progress.version }),
      onDirectoryChanged: () => {
        events.notify();
        certificateChecks.schedule();
      },
      onBehind: (behind) => behind && log({ event: 'directory-behind' }),
      onCaseChanged: () => events.notify(),
      onNotice: (notice) => log({ event: 'hub-notice', notice }),
      applyCrl: async (der) => {
        const outcome = await identity.applyCrl(der);
        if (outcome === 'applied') {
          link?.receiver?.handleParkedAgain();
          certificateChecks.schedule();
        }
        return outcome;
      },
      onCrl: (outcome, detail) =>
        outcome !== 'held' &&
        audit.append({
          actor: HUB_SENDER,
          action: outcome === 'applied' ? AUDIT_ACTIONS.crlApplied : AUDIT_ACTIONS.crlIgnored,
          subject: 'crl',
          detail,
        }),
      onOtherReceipt: (about, outcome, reason, text) => {
        const ours = publications.receipt(about, outcome, reason, text, Date.now());
        // The feed is written in this transaction; its waiters are woken once it is committed.
        if (ours) setImmediate(() => events.notify());
        return ours;
      },
    });
    link.receiver = createInboxReceiver({
      connection,
      source: connection.adapter.downlinkSource(endpointId),
      sourceName: 'downlink',
      inbox: transport.inbox,
      deadLetters: transport.deadLetters,
      parked: transport.parked,
      handle,
      logger,
      onDeadLetter: (_id, reason) => {
        log({ event: 'refused', reason });
        events.notify();
      },
    });
    closers.unshift(async () => {
      const current = link;
      link = undefined;
      await current?.receiver?.stop();
      await baseFhir.close();
      current?.outbox.stop();
      await current?.connection.stop();
    });

    const webhooks = await startWebhooksFromConfig();
    if (webhooks) closers.unshift(() => webhooks.stop());

    await connection.start();
    await ensureRegistered();

    async function startWebhooksFromConfig() {
      if (config.webhooks.length === 0) return undefined;
      const hooks = [];
      for (const hook of config.webhooks)
        hooks.push({
          id: hook.id,
          url: hook.url,
          secret: await secrets.resolve(hook.secret, `webhooks.${hook.id}.secret`),
          ...(hook.types && { types: hook.types }),
        });
      return startWebhooks({ db, feed: events, hooks, log });
    }

    async function ensureRegistered(): Promise<void> {
      const state = registration.state();
      if ((state.state === 'requested' || state.state === 'accepted') && state.endpointId === endpointId) return;
      const message = await seal({
        properties: { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: endpointId },
        payload: (messageId, timestamp) =>
          buildEndpointRegister(
            { messageId, timestamp, sender: endpointId },
            {
              kind: 'clinic-system',
              name: `RTS connector ${endpointId}`,
              organization: config.organization ?? endpointId,
            },
          ),
      });
      db.transaction(() => {
        enqueue(message, 'registration');
        registration.requested(message.properties.message_id, endpointId);
        audit.append({
          actor: endpointId,
          action: AUDIT_ACTIONS.registered,
          subject: `endpoint:${endpointId}`,
          detail: 'registration queued',
        });
      })();
    }

    // --- directory publish ---------------------------------------------------------------------------------------------

    function deltaBatches(changes: readonly DirectoryChange[]): DirectoryChange[][] {
      const batches: DirectoryChange[][] = [[]];
      let roles = 0;
      for (const change of changes) {
        const isRole =
          change.upsert?.resourceType === 'PractitionerRole' || change.retire?.startsWith('PractitionerRole/');
        if (isRole && roles === ENTRIES_PER_BATCH) {
          batches.push([]);
          roles = 0;
        }
        if (isRole) roles += 1;
        batches[batches.length - 1]!.push(change);
      }
      return batches;
    }

    /**
     * Remembers what an Idempotency-Key was first used for: the same key with another request is refused, never
     * answered with the first request's result. Whether the request was carried out is what it made (its id is derived
     * from the key), not this row: a crash between the two leaves a key that is simply used again.
     */
    function claimKey(kind: 'consult' | 'publication', key: string, request: unknown): void {
      const hash = createHash('sha256').update(JSON.stringify(request)).digest('hex');
      db.prepare(
        'insert into connector_idempotency (kind, key, request_hash, created_at) values (?, ?, ?, ?) on conflict do nothing',
      ).run(kind, key, hash, Date.now());
      const first = db
        .prepare<[string, string], { request_hash: string }>(
          'select request_hash from connector_idempotency where kind = ? and key = ?',
        )
        .get(kind, key)!;
      if (first.request_hash !== hash)
        throw new CoreError(
          'invalid-request',
          'idempotency-key-reused',
          'This Idempotency-Key was used for another request; give each new request a new key.',
        );
    }

    async function publish(
      input:
        | { mode: 'full'; resources: readonly DirectoryResource[] }
        | { mode: 'delta'; changes: readonly DirectoryChange[] },
      idempotencyKey?: string,
    ): Promise<PublicationView> {
      if (idempotencyKey) claimKey('publication', idempotencyKey, input);
      const publicationId = idempotencyKey ? idFromKey(endpointId, 'publication', idempotencyKey) : randomUUID();
      const earlier = publications.get(publicationId);
      if (earlier) return earlier;
      const sealed: StoredMessage[] = [];
      let entries: number;
      if (input.mode === 'full') {
        const batches = fullListBatches(input.resources, ENTRIES_PER_BATCH);
        entries = input.resources.filter((r) => r.resourceType === 'PractitionerRole').length;
        for (const [i, full] of batches.entries()) {
          sealed.push(
            await seal({
              properties: {
                rtsType: 'directory.publish',
                rtsVersion: PROTOCOL_VERSION,
                rtsSender: endpointId,
                rtsDirectoryMode: 'full',
                rtsBatchId: publicationId,
                rtsBatchIndex: i + 1,
                rtsBatchCount: batches.length,
              },
              payload: (messageId, timestamp) =>
                buildDirectoryPublish({ messageId, timestamp, sender: endpointId }, { full }),
            }),
          );
        }
      } else {
        entries = input.changes.length;
        for (const delta of deltaBatches(input.changes)) {
          sealed.push(
            await seal({
              properties: {
                rtsType: 'directory.publish',
                rtsVersion: PROTOCOL_VERSION,
                rtsSender: endpointId,
                rtsDirectoryMode: 'delta',
                rtsBatchId: randomUUID(),
                rtsBatchIndex: 1,
                rtsBatchCount: 1,
              },
              payload: (messageId, timestamp) =>
                buildDirectoryPublish({ messageId, timestamp, sender: endpointId }, { delta }),
            }),
          );
        }
      }
      const at = Date.now();
      db.transaction(() => {
        // A repeated request that raced this one: the first to commit wins, the other is answered with it.
        if (publications.get(publicationId)) return;
        publications.record({
          publicationId,
          mode: input.mode,
          entries,
          at,
          batches: sealed.map((m, i) => ({ index: i + 1, messageId: m.properties.message_id })),
        });
        for (const message of sealed) enqueue(message, DIRECTORY_ORDER_KEY);
        audit.append({
          actor: endpointId,
          action: AUDIT_ACTIONS.sent,
          subject: `publication:${publicationId}`,
          detail: `directory.publish ${input.mode}, ${entries} entries in ${sealed.length} batch(es)`,
        });
      })();
      return publications.get(publicationId)!;
    }

    // --- views ---------------------------------------------------------------------------------------------------------

    function expert(practitionerId: string): ExpertEntry {
      const practitioner = mirror.resource(`Practitioner/${practitionerId}`) as
        { name?: unknown[]; communication?: unknown[]; active?: boolean } | undefined;
      const role = mirror.resource(`PractitionerRole/${practitionerId}`) as
        { organization?: unknown; specialty?: unknown[]; endpoint?: unknown[]; active?: boolean } | undefined;
      if (!practitioner || !role || practitioner.active === false || role.active === false)
        throw new CoreError('not-found', 'expert-not-in-directory', `${practitionerId} is not in the directory.`, {
          params: { practitionerId },
        });
      const { name, specialties, languages, endpoints, organizationId } = readDirectoryEntry(practitioner, role);
      const organization = readOrganization(
        organizationId === undefined ? undefined : mirror.resource(`Organization/${organizationId}`),
      );
      return {
        practitionerId,
        ...(name !== undefined && { name }),
        specialties,
        ...(organization.name !== undefined && { organization: organization.name }),
        ...(organization.city !== undefined && { city: organization.city }),
        languages,
        endpoints,
        publisher: practitionerId.slice(0, practitionerId.indexOf('.')),
        lookAlikes: mirror.lookAlikes(practitionerId),
      };
    }

    const requireLocal = (practitionerId: string) => {
      if (!identity.has(practitionerId))
        throw new CoreError(
          'not-found',
          'practitioner-not-local',
          `${practitionerId} is not a practitioner of this connector.`,
          { params: { practitionerId } },
        );
    };

    const refusedCount = db.prepare<[], { n: number }>("select count(*) as n from dead_letters where state = 'held'");
    let stopped: Promise<void> | undefined;
    return {
      endpointId,
      events,
      state() {
        const version = mirror.version();
        const counts = outboxCounts(transport.outbox, link?.outbox);
        return {
          endpointId,
          region: enrolment.region,
          connection: connection.state,
          registration: registration.state(),
          directory: { ...(version !== undefined && { version }), experts: mirror.count() },
          outbox: { waiting: counts.pending + counts.inFlight, failed: counts.failed },
          refused: refusedCount.get()!.n,
          practitioners: identity.practitionerIds().length,
          crl: identity.crlStatus(),
          events: events.range(),
        };
      },
      publish,
      publication(publicationId) {
        const found = publications.get(publicationId);
        if (!found)
          throw new CoreError('not-found', 'publication-not-found', `There is no publication ${publicationId}.`, {
            params: { publicationId },
          });
        return found;
      },
      publications: (limit) => publications.list(limit),
      // The API answers a page as a list (as GET /v1/consults does): a short or empty page is the last.
      searchDirectory: (query) => mirror.search(query).experts,
      expert,
      practitioners: () => identity.practitionerIds(),
      certificatesOf: (practitionerId) => identity.certificatesOf(practitionerId),
      async createConsult(from, input, idempotencyKey) {
        requireLocal(from);
        // The request would come back to this very store, where its case already is (as the applicant's): refused, not lost.
        if (identity.has(input.expertId))
          throw new CoreError(
            'not-allowed',
            'consult-within-connector',
            `${input.expertId} is a practitioner of this connector too: a consult between two of its practitioners cannot travel through the region.`,
          );
        if (idempotencyKey) claimKey('consult', idempotencyKey, { from, input });
        const caseId = idempotencyKey ? idFromKey(endpointId, 'consult', idempotencyKey) : randomUUID();
        if (cases.get(caseId)) return { ...withAttentionWords(consult.summaryOf(caseId)), replayed: true };
        try {
          return { ...withAttentionWords(await consult.compose(input, from, caseId)), replayed: false };
        } catch (error) {
          // The same key twice at once: the first to commit made the case, the other is its replay.
          if (idempotencyKey && cases.get(caseId))
            return { ...withAttentionWords(consult.summaryOf(caseId)), replayed: true };
          throw error;
        }
      },
      listConsults(query) {
        return consult
          .list({
            ...(query.bucket && { bucket: query.bucket }),
            ...(query.role && { role: query.role }),
            ...(query.practitioner && { practitioner: query.practitioner }),
            offset: query.offset ?? 0,
            limit: Math.min(query.limit ?? 50, 500),
          })
          .map(withAttentionWords);
      },
      // The audit log names the clinic system as the reader (for the practitioner of the case).
      openConsult: async (caseId) => withAttentionWords(await consult.openCase(caseId, endpointId)),
      readMessage: (caseId, messageId) => consult.readMessage(caseId, messageId, endpointId),
      act: async (action) => withAttentionWords(await consult.act(action)),
      report: async (input) => withAttentionWords(await consult.sendReport(input)),
      outbox: () => ({
        counts: outboxCounts(transport.outbox, link?.outbox),
        failed: outboxFailures(transport, cases),
      }),
      refused: (limit) => refusedMessages(transport, limit),
      stop: () =>
        (stopped ??= (async () => {
          for (const close of closers.splice(0)) await close();
        })()),
    };
  } catch (error) {
    for (const close of closers.splice(0)) await close();
    throw error;
  }
}

async function readEnrolment(file: string, caFingerprint: string): Promise<Enrolment> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (error) {
    throw new ConnectorStartError(
      `cannot read the enrolment file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    const ca = enrolmentCaOf(bytes);
    const fingerprint = await certificateFingerprint(ca);
    if (fingerprint !== caFingerprint.toUpperCase()) {
      throw new ConnectorStartError(
        `the enrolment file's CA has fingerprint ${fingerprint}, not the caFingerprint configured (${caFingerprint}); ask the region's administrator`,
      );
    }
    return await verifyEnrolment(bytes, ca);
  } catch (error) {
    if (isEnrolmentError(error)) throw new ConnectorStartError(`the enrolment file is refused: ${error.message}`);
    throw error;
  }
}
