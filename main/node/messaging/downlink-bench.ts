import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from 'rhea';
import type { TrustConfig } from '../../../shared/cms/index.ts';
import { createCrl, derToPem, PEM_LABELS, type CertificateIssuer } from '../../../shared/pki/index.ts';
import { buildOrganization } from '../../../shared/protocol/fhir/index.ts';
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
import { createRecordingSeal, queuedReceipts, type SealedRecord } from './downlink-bench-outgoing.ts';
import { createBenchPeer, type BenchPeer } from './downlink-bench-peer.ts';
import { createBenchRegion, type BenchPractitioner } from './downlink-bench-region.ts';

/**
 * Test support: an expert's workstation as its core wires it — encrypted store, practitioner identity (keys in a memory
 * vault), directory mirror, consult service, downlink handler, inbox receiver — on a throw-away regional PKI
 * (downlink-bench-region.ts), with a stand-in for the rhea link so that a test decides which messages arrive together.
 * What arrives is made by downlink-bench-peer.ts, and what it sends is recorded by downlink-bench-outgoing.ts.
 */

export interface Settlement {
  readonly messageId: string;
  readonly outcome: 'accepted' | 'released';
  /** The inbox batch the message was handled in (none when it was settled without being handled). */
  readonly batch?: number;
}

export interface DownlinkBench extends BenchPeer {
  readonly applicant: BenchPractitioner;
  /** The expert as first installed; `identity` holds the current certificates (a test may renew them). */
  readonly expert: BenchPractitioner;
  readonly identity: PractitionerIdentity;
  /** The region's CA, to issue renewed certificates and CRLs. */
  readonly issuer: CertificateIssuer;
  /** A `.p12` of a new key and certificate for `practitionerId` issued by the region's CA (password 'bench'). */
  issuePkcs12(use: 'signing' | 'encryption', practitionerId: string): Promise<Uint8Array>;
  /** What became of each CRL a notice brought, after commit. */
  readonly crlOutcomes: CrlOutcome[];
  readonly consult: ConsultService;
  readonly cases: CaseStore;
  readonly transport: TransportStore;
  /** The directory version the mirror holds (undefined before any). */
  directoryVersion(): number | undefined;
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
  readonly sealed: SealedRecord[];
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
  const region = await createBenchRegion();
  const { issuer, applicant, expert, p12, entry } = region;
  const peer = createBenchPeer({
    applicant,
    applicantEndpoint: APPLICANT_ENDPOINT,
    expert,
    expertEndpoint: EXPERT_ENDPOINT,
    hub: region.hub,
  });

  const dir = mkdtempSync(join(tmpdir(), 'rts-downlink-'));
  // The keychain outlives a restart; the store is opened anew.
  const auditVault = createMemoryVault();
  const identityVault = createMemoryVault();
  let store = await openStore();
  let { db, transport, mirror, identity } = store;
  async function openStore() {
    const db: SqliteDatabase = openDatabase(join(dir, 'store.db'), KEY);
    const mirror = openDirectoryMirror(db);
    const cases = openCaseStore(db);
    return {
      db,
      mirror,
      transport: createSqliteTransportStore(db, { heldBodies: { read: (id) => cases.body(id) } }),
      cases,
      audit: openAuditLog(db, await auditSealFromVault(auditVault)),
      registration: openRegistration(db, () => undefined),
      identity: openPractitionerIdentity(db, identityVault, {
        directorySigningCertificates: (id) => mirror.certificates(id, 'signing'),
      }),
    };
  }
  const pem = (der: Uint8Array, label: string) => derToPem(der, label);
  await identity.setTrust({
    anchorsPem: pem(issuer.certificate, PEM_LABELS.certificate),
    crlsPem: pem(await createCrl(issuer), PEM_LABELS.crl),
    hubCertificatePem: pem(region.hub.certificate, PEM_LABELS.certificate),
  });
  await identity.importPkcs12({
    use: 'signing',
    pkcs12: await p12(expert.signing.certificate, expert.signing.privateKey),
    password: 'bench',
  });
  await identity.importPkcs12({
    use: 'encryption',
    pkcs12: await p12(expert.encryption.certificate, region.expertEncryptionKey),
    password: 'bench',
  });
  const trust = (): TrustConfig => identity.trust();
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
  const sealed: SealedRecord[] = [];
  const validator = () => createNativeCertificateValidator(trust());
  const seal = createRecordingSeal({ userId: EXPERT_ENDPOINT, signer: () => identity.signer(), sealed });
  const enqueue = (message: StoredMessage, orderKey: string, options?: { bodyHeld?: boolean }) =>
    transport.outbox.enqueue({
      messageId: message.properties.message_id,
      orderKey,
      address: 'uplink',
      message,
      ...(options?.bodyHeld && { bodyHeld: true }),
    });
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
      sync: createDirectorySync({ mirror }),
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

  return {
    ...peer,
    applicant,
    expert,
    issuer,
    issuePkcs12: region.issuePkcs12,
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
    directoryVersion: () => mirror.version(),
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
    receipts: () => queuedReceipts(db),
    async restart() {
      await receiver.stop();
      store.cases.close();
      transport.close();
      store = await openStore();
      ({ db, transport, mirror, identity } = store);
      ({ consult, receiver } = wire());
    },
    idle: () => receiver.idle(),
    async close() {
      await receiver.stop();
      store.cases.close();
      transport.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
