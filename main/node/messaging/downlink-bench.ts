import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import type { Message } from 'rhea';
import {
  importDecryptionKey,
  type CmsRecipientIdentity,
  type CmsSigner,
  type CryptoKey,
  type TrustConfig,
} from '../../../shared/cms/index.ts';
import {
  createCrl,
  createPkcs12,
  createRootCertificate,
  derToPem,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type CertificateIssuer,
  type LeafProfileName,
} from '../../../shared/pki/index.ts';
import {
  CONTENT_TYPES,
  sealMessage,
  PROTOCOL_VERSION,
  type ApplicationProperties,
  type ConsultStatusUpdate,
  type MessageMetadata,
} from '../../../shared/protocol/index.ts';
import {
  buildConsultRequest,
  buildConsultStatus,
  buildDirectoryUpdate,
  buildExpertEntry,
  buildHubNotice,
  buildOrganization,
  type ConsultRequestInput,
} from '../../../shared/protocol/fhir/index.ts';
import {
  createInboxReceiver,
  openDatabase,
  createSqliteTransportStore,
  type BrokerConnection,
  type InboxReceiver,
  type SqliteDatabase,
  type StoredMessage,
  type TransportStore,
} from '../../../transport/index.ts';
import { createNativeCertificateValidator, loadFhirDefinitions } from '../../../shared-node/index.ts';
import { auditSealFromVault, openAuditLog } from '../audit/audit-log.ts';
import { openCaseStore, type CaseStore } from '../consult/case-store.ts';
import { createConsultService, type ConsultService, type LocalPractitioners } from '../consult/consult-service.ts';
import { openDirectoryMirror } from '../directory/directory-mirror.ts';
import {
  openPractitionerIdentity,
  type CrlOutcome,
  type PractitionerIdentity,
} from '../identity/practitioner-identity.ts';
import { createDirectorySync } from '../directory/directory-sync.ts';
import { createDownlinkHandler } from './downlink-handler.ts';
import { openRegistration } from './registration.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';

/**
 * Test support: an expert's workstation as its core wires it — encrypted store, practitioner identity (keys in a memory
 * vault), directory mirror, consult service, downlink handler, inbox receiver — on a throw-away regional PKI, with a stand-in for the rhea link so that a test
 * decides which messages arrive together. Consults come from the applicant (dr-berg of clinic-b), sealed with the real
 * CMS profile, as the hub forwards them.
 */
export interface BenchPractitioner {
  readonly id: string;
  readonly signing: CmsSigner;
  readonly encryption: CmsRecipientIdentity;
}

export interface Settlement {
  readonly messageId: string;
  readonly outcome: 'accepted' | 'released';
  /** The inbox batch the message was handled in (none when it was settled without being handled). */
  readonly batch?: number;
}

export interface DownlinkBench {
  readonly applicant: BenchPractitioner;
  /** The expert as first installed; `identity` holds the current certificates (a test may renew them). */
  readonly expert: BenchPractitioner;
  readonly identity: PractitionerIdentity;
  /** The region's CA, to issue renewed certificates and CRLs. */
  readonly issuer: CertificateIssuer;
  /** A `.p12` of a new key and certificate for `practitionerId` issued by the region's CA (password 'bench'). */
  issuePkcs12(use: 'signing' | 'encryption', practitionerId: string): Promise<Uint8Array>;
  /** A hub.notice signed by the hub, e.g. crl-updated with a CRL. */
  hubNotice(input: { notice: string; text: string; crl?: Uint8Array }): Promise<Message>;
  /** A directory.update from the hub from `baseVersion` to `version` (retiring one role nobody holds). */
  hubUpdate(baseVersion: number, version: number): Promise<Message>;
  /** What became of each CRL a notice brought, after commit. */
  readonly crlOutcomes: CrlOutcome[];
  readonly consult: ConsultService;
  readonly cases: CaseStore;
  readonly transport: TransportStore;
  /** A consult.request from the applicant to the expert; `payload` may edit the Bundle before it is signed. */
  request(input?: {
    caseId?: string;
    priority?: ConsultRequestInput['priority'];
    payload?: (bundle: Record<string, unknown>) => void;
  }): Promise<Message & { caseId: string }>;
  /** A consult.status from the applicant. */
  status(input: {
    caseId: string;
    status: Extract<ConsultStatusUpdate, 'cancelled' | 'information-provided'>;
    sequence: number;
    note: string;
  }): Promise<Message>;
  /**
   * Delivers the messages in one burst and waits until each is settled: the first is handled alone, and the rest
   * arrive while it is being handled, so they make up the next batch (as a backlog does when the receiver is busy).
   */
  deliver(messages: readonly Message[]): Promise<Settlement[]>;
  /** As a restart does: the receiver stops, the store is closed and opened again, and everything is wired anew. */
  restart(): Promise<void>;
  /** Resolves once the receiver has nothing left to handle (e.g. the park it handles at start). */
  idle(): Promise<void>;
  /** The receipts this workstation queued, in order. */
  receipts(): { correlationId: string; outcome: string; reason?: string }[];
  /** What this workstation signed and queued, as the peer will validate it: metadata, payload bytes and the signing certificate. */
  readonly sealed: { metadata: MessageMetadata; payload: Uint8Array; signer: Uint8Array }[];
  /** Applies a directory update in which the expert's clinic publishes the expert's entry with this signing certificate. */
  publishExpertSigning(certificate: Uint8Array): void;
  /** Things the receiver handed to the UI after a commit, e.g. `case-changed <id>`. */
  readonly announced: string[];
  close(): Promise<void>;
}

const KEY = 'k'.repeat(40);
const APPLICANT_ENDPOINT = 'clinic-b';
const EXPERT_ENDPOINT = 'ws-expert-1';

export async function createDownlinkBench(): Promise<DownlinkBench> {
  loadFhirDefinitions();
  const caKeys = await generateKeyPair();
  const ca = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: 'Bench Region Root CA', organization: 'Bench Region' },
  });
  const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const issue = async (profile: LeafProfileName, commonName: string) => {
    const keys = await generateKeyPair();
    const issued = await issueCertificate({
      profile,
      subject: { commonName, organization: 'Bench Region' },
      publicKey: keys.publicKey,
      issuer,
    });
    return { certificate: issued.der, privateKey: keys.privateKey };
  };
  const exportable = new Map<string, CryptoKey>();
  const practitioner = async (id: string): Promise<BenchPractitioner> => {
    const encryption = await issue('practitioner-encryption', id);
    exportable.set(id, encryption.privateKey);
    // A decryption key as the workstation's identity holds it: ECDH, for key agreement.
    const privateKey = await importDecryptionKey(
      await exportPrivateKeyPkcs8(encryption.privateKey),
      encryption.certificate,
    );
    return {
      id,
      signing: await issue('practitioner-signing', id),
      encryption: { certificate: encryption.certificate, privateKey },
    };
  };
  const applicant = await practitioner('clinic-b.dr-berg');
  const expert = await practitioner('clinic-a.dr-ahmed');
  const expertEncryptionKey = exportable.get(expert.id)!;
  const hub = await issue('hub', 'hub');

  const dir = mkdtempSync(join(tmpdir(), 'rts-downlink-'));
  // The keychain outlives a restart; the store is opened anew.
  const auditVault = createMemoryVault();
  const identityVault = createMemoryVault();
  let store = await openStore();
  let { db, transport, mirror, identity } = store;
  async function openStore() {
    const db: SqliteDatabase = openDatabase(join(dir, 'store.db'), KEY);
    const mirror = openDirectoryMirror(db);
    return {
      db,
      mirror,
      transport: createSqliteTransportStore(db),
      cases: openCaseStore(db),
      audit: openAuditLog(db, await auditSealFromVault(auditVault)),
      registration: openRegistration(db, () => undefined),
      identity: openPractitionerIdentity(db, identityVault, {
        directorySigningCertificates: (id) => mirror.certificates(id, 'signing'),
      }),
    };
  }
  const pem = (der: Uint8Array, label: string) => derToPem(der, label);
  await identity.setTrust({
    anchorsPem: pem(ca.der, PEM_LABELS.certificate),
    crlsPem: pem(await createCrl(issuer), PEM_LABELS.crl),
    hubCertificatePem: pem(hub.certificate, PEM_LABELS.certificate),
  });
  const p12 = async (certificate: Uint8Array, privateKey: CryptoKey) =>
    createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(privateKey),
      certificate,
      chain: [],
      password: 'bench',
    });
  async function issuePkcs12(use: 'signing' | 'encryption', practitionerId: string): Promise<Uint8Array> {
    const issued = await issue(use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption', practitionerId);
    return p12(issued.certificate, issued.privateKey);
  }
  await identity.importPkcs12({
    use: 'signing',
    pkcs12: await p12(expert.signing.certificate, expert.signing.privateKey),
    password: 'bench',
  });
  await identity.importPkcs12({
    use: 'encryption',
    pkcs12: await p12(expert.encryption.certificate, expertEncryptionKey),
    password: 'bench',
  });
  const trust = (): TrustConfig => identity.trust();
  const base64 = (der: Uint8Array) => Buffer.from(der).toString('base64');
  const entry = (
    p: BenchPractitioner,
    organizationId: string,
    endpoint: string,
    signingCertificate = p.signing.certificate,
  ) =>
    buildExpertEntry({
      practitionerId: p.id,
      family: p.id.slice(p.id.indexOf('.') + 1),
      given: ['Test'],
      languages: ['en'],
      specialties: [{ text: 'Cardiology' }],
      organizationId,
      endpoints: [endpoint],
      signingCertificate: base64(signingCertificate),
      encryptionCertificate: base64(p.encryption.certificate),
    });
  mirror.applySnapshotBatch({
    batchId: randomUUID(),
    index: 1,
    count: 1,
    version: 1,
    resources: [
      buildOrganization({ id: 'clinic-a.nordby', name: 'Nordby Hospital' }),
      buildOrganization({ id: 'clinic-b.sorvik', name: 'Sørvik Health Centre' }),
      ...entry(expert, 'clinic-a.nordby', EXPERT_ENDPOINT),
      ...entry(applicant, 'clinic-b.sorvik', APPLICANT_ENDPOINT),
    ],
  });

  const local: LocalPractitioners = {
    endpointId: () => EXPERT_ENDPOINT,
    has: (id) => id === expert.id,
    recipients: () => identity.recipients(),
  };
  const sealed: DownlinkBench['sealed'][number][] = [];
  const validator = () => createNativeCertificateValidator(trust());
  async function seal(input: {
    properties: ApplicationProperties;
    payload: (messageId: string, timestamp: Date) => Bundle;
    recipients?: readonly Uint8Array[];
    correlationId?: string;
  }): Promise<StoredMessage> {
    const messageId = randomUUID();
    const creationTime = new Date();
    const payload = input.payload(messageId, creationTime);
    // As the core does: the identity picks the signing certificate (the one the directory lists).
    const signer = await identity.signer();
    sealed.push({
      metadata: {
        messageId,
        creationTime,
        userId: EXPERT_ENDPOINT,
        contentType: CONTENT_TYPES.authEnveloped,
        properties: input.properties,
        ...(input.correlationId && { correlationId: input.correlationId }),
      },
      payload: new TextEncoder().encode(JSON.stringify(payload)),
      signer: signer.certificate,
    });
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: EXPERT_ENDPOINT,
      properties: input.properties,
      payload,
      signer,
      ...(input.recipients && { recipientCertificates: input.recipients }),
      ...(input.correlationId && { correlationId: input.correlationId }),
    });
    return {
      properties: {
        message_id: messageId,
        user_id: EXPERT_ENDPOINT,
        creation_time: creationTime.getTime(),
        content_type: String(fields.content_type),
        application_properties: fields.application_properties,
        ...(input.correlationId && { correlation_id: input.correlationId }),
      },
      body: fields.body,
    };
  }
  const enqueue = (message: StoredMessage, orderKey: string) =>
    transport.outbox.enqueue({ messageId: message.properties.message_id, orderKey, address: 'uplink', message });
  const announced: string[] = [];
  const crlOutcomes: CrlOutcome[] = [];
  const pending: (() => void)[] = [];
  // The stand-in link: the test decides when transfers arrive, and sees how each is settled.
  const link = Object.assign(new EventEmitter(), { is_open: () => true, close: () => undefined });
  const connection = {
    amqp: { open_receiver: () => link },
    state: { status: 'online' },
    onOpened: () => () => undefined,
  } as unknown as BrokerConnection;
  const batchOf = new Map<string, number>();
  let { consult, receiver } = wire();

  /** The consult service, downlink handler and inbox receiver over the store, as the core wires them. */
  function wire(): { consult: ConsultService; receiver: InboxReceiver } {
    const { cases, audit, registration } = store;
    const consult = createConsultService({
      db,
      cases,
      mirror,
      audit,
      local,
      trust,
      validator,
      seal,
      enqueue,
      onCaseChanged: () => undefined,
    });
    const handle = createDownlinkHandler({
      local,
      trust,
      hubCertificate: () => identity.hubCertificate(),
      consult,
      mirror,
      registration,
      sync: createDirectorySync({ mirror, validator }),
      seal,
      enqueue,
      // As the core does: announcements run together once the inbox's work of the moment is done, and the UI then reads
      // the case's summary (which fails for a case that is not stored).
      afterCommit: (notify) => {
        if (pending.push(notify) === 1) setImmediate(() => pending.splice(0).forEach((n) => n()));
      },
      onSnapshotProgress: () => undefined,
      onDirectoryChanged: () => undefined,
      onBehind: () => undefined,
      onCaseChanged: (caseId) => {
        try {
          announced.push(`case-changed ${consult.summaryOf(caseId).caseId}`);
        } catch (error) {
          announced.push(`case-changed ${caseId} failed: ${(error as Error).message}`);
        }
      },
      onNotice: () => undefined,
      // As the core does: a CRL applied changes the trust, and what waited for it is handled again.
      applyCrl: async (der) => {
        const outcome = await identity.applyCrl(der);
        if (outcome === 'applied') receiver.handleParkedAgain();
        return outcome;
      },
      onCrl: (outcome) => crlOutcomes.push(outcome),
    });
    const receiver: InboxReceiver = createInboxReceiver({
      connection,
      source: 'downlink',
      sourceName: 'downlink',
      inbox: transport.inbox,
      deadLetters: transport.deadLetters,
      parked: transport.parked,
      handle: async (received) => {
        batchOf.set(received.messageId, received.batch.serial);
        return handle(received);
      },
    });
    return { consult, receiver };
  }

  async function consultMessage(
    properties: ApplicationProperties,
    payload: (messageId: string, timestamp: Date) => Bundle,
    edit?: (bundle: Record<string, unknown>) => void,
  ): Promise<Message> {
    const messageId = randomUUID();
    const creationTime = new Date();
    const bundle = payload(messageId, creationTime) as unknown as Record<string, unknown>;
    edit?.(bundle);
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: 'hub',
      properties,
      payload: bundle as unknown as Bundle,
      signer: applicant.signing,
      recipientCertificates: [expert.encryption.certificate, applicant.encryption.certificate],
    });
    return fields as unknown as Message;
  }
  const consultProperties = (caseId: string, sequence: number) => ({
    rtsVersion: PROTOCOL_VERSION,
    rtsSender: APPLICANT_ENDPOINT,
    rtsCase: caseId,
    rtsFromPractitioner: applicant.id,
    rtsToPractitioner: expert.id,
    rtsSequence: sequence,
  });

  return {
    applicant,
    expert,
    issuer,
    issuePkcs12,
    crlOutcomes,
    announced,
    get identity() {
      return identity;
    },
    get consult() {
      return consult;
    },
    get cases() {
      return store.cases;
    },
    get transport() {
      return transport;
    },
    async hubNotice(input) {
      const messageId = randomUUID();
      const creationTime = new Date();
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: 'hub',
        properties: {
          rtsType: 'hub.notice',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: 'hub',
          rtsNotice: input.notice,
          rtsToEndpoint: EXPERT_ENDPOINT,
        },
        payload: buildHubNotice(
          { messageId, timestamp: creationTime, sender: 'hub' },
          { ...input, toEndpoint: EXPERT_ENDPOINT },
        ),
        signer: hub,
      });
      return fields as unknown as Message;
    },
    async hubUpdate(baseVersion, version) {
      const messageId = randomUUID();
      const creationTime = new Date();
      const fields = await sealMessage({
        messageId,
        creationTime,
        userId: 'hub',
        properties: {
          rtsType: 'directory.update',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: 'hub',
          rtsDirectoryBaseVersion: baseVersion,
          rtsDirectoryVersion: version,
        },
        payload: buildDirectoryUpdate({ messageId, timestamp: creationTime, sender: 'hub' }, [
          { retire: 'PractitionerRole/clinic-a.dr-nobody' },
        ]),
        signer: hub,
      });
      return fields as unknown as Message;
    },
    async request(input = {}) {
      const caseId = input.caseId ?? randomUUID();
      const message = await consultMessage(
        { rtsType: 'consult.request', ...consultProperties(caseId, 1) },
        (messageId, timestamp) =>
          buildConsultRequest(
            { messageId, timestamp, sender: APPLICANT_ENDPOINT },
            {
              caseId,
              from: applicant.id,
              to: expert.id,
              sequence: 1,
              priority: input.priority ?? 'routine',
              reason: 'Chest pain since this morning',
              patient: { family: 'Nilsen', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
            },
          ),
        input.payload,
      );
      return Object.assign(message, { caseId });
    },
    async status(input) {
      return consultMessage(
        { rtsType: 'consult.status', ...consultProperties(input.caseId, input.sequence), rtsStatus: input.status },
        (messageId, timestamp) =>
          buildConsultStatus(
            { messageId, timestamp, sender: APPLICANT_ENDPOINT },
            {
              caseId: input.caseId,
              from: applicant.id,
              to: expert.id,
              sequence: input.sequence,
              status: input.status,
              note: input.note,
            },
          ),
      );
    },
    async deliver(messages) {
      const settled: Promise<Settlement>[] = messages.map(
        (message) =>
          new Promise((resolve) => {
            const messageId = String(message.message_id);
            const done = (outcome: Settlement['outcome']) => () => {
              const batch = batchOf.get(messageId);
              resolve({ messageId, outcome, ...(batch !== undefined && { batch }) });
            };
            link.emit('message', { message, delivery: { accept: done('accepted'), release: done('released') } });
          }),
      );
      const settlements = await Promise.all(settled);
      await new Promise((resolve) => setImmediate(resolve));
      return settlements;
    },
    sealed,
    publishExpertSigning(certificate) {
      const version = mirror.version() ?? 0;
      const outcome = mirror.applyUpdate({
        baseVersion: version,
        version: version + 1,
        changes: entry(expert, 'clinic-a.nordby', EXPERT_ENDPOINT, certificate).map((upsert) => ({ upsert })),
      });
      if (outcome !== 'applied') throw new Error(`the directory update was ${outcome}`);
    },
    receipts: () =>
      db
        .prepare<[], { properties: string }>('select properties from outbox order by seq')
        .all()
        .map((row) => JSON.parse(row.properties) as StoredMessage['properties'])
        .filter((p) => p.application_properties.rtsType === 'receipt')
        .map((p) => ({
          correlationId: p.correlation_id ?? '',
          outcome: String(p.application_properties.rtsReceipt),
          ...(p.application_properties.rtsReason !== undefined && {
            reason: String(p.application_properties.rtsReason),
          }),
        })),
    async restart() {
      await receiver.stop();
      transport.close();
      store = await openStore();
      ({ db, transport, mirror, identity } = store);
      ({ consult, receiver } = wire());
    },
    idle: () => receiver.idle(),
    async close() {
      await receiver.stop();
      transport.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
