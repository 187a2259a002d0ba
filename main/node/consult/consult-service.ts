import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import {
  type CaseAction,
  type CaseSummary,
  type ComposeConsult,
  type InboxRow,
  type ReportInput,
} from '../../../shared/api/index.ts';
import {
  isCmsError,
  type CertificateValidator,
  type CmsRecipientIdentity,
  type TrustConfig,
} from '../../../shared/cms/index.ts';
import {
  PROTOCOL_VERSION,
  type ApplicationProperties,
  type ConsultStatus,
  type ConsultStatusUpdate,
} from '../../../shared/protocol/index.ts';
import { buildConsultReport, buildConsultRequest, buildConsultStatus } from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase, StoredMessage } from '../../../transport/index.ts';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { DirectoryMirror } from '../directory/directory-mirror.ts';
import { detailsOf, peerDetailsOf } from './case-details.ts';
import type { CaseDetails, CaseListOptions, CaseRecord, CaseStore, ConsultMessageType, NewCase } from './case-store.ts';
import { caseSummary, createCaseViews, inboxRow } from './case-views.ts';
import { createIncomingConsults, ownPractitionerOf } from './consult-incoming.ts';
import {
  caseChangedWhileSigning,
  checkStep,
  consultWithYourself,
  notLocalPractitioner,
  peerCertificateUnusable,
  peerNotInDirectory,
} from './consult-refusals.ts';

/**
 * The consultation lifecycle on this workstation, for both roles (docs/protocol.md §5.2). Every step the user takes is
 * checked against the transition table, signed, encrypted to the peer and to ourselves, and queued in the outbox in
 * the same transaction that records it; every step that arrives was verified by the caller and is checked against the
 * case before it is stored (consult-incoming.ts). Envelopes are stored as they travelled and decrypted again when a
 * case is opened (case-views.ts).
 */
export interface ConsultServiceOptions {
  readonly db: SqliteDatabase;
  readonly cases: CaseStore;
  readonly mirror: DirectoryMirror;
  readonly audit: AuditLog;
  /** The practitioners this endpoint acts for: one at a workstation, the clinic's at a connector (docs/connector.md). */
  readonly local: LocalPractitioners;
  readonly trust: () => TrustConfig;
  readonly validator: () => CertificateValidator;
  /** Seals a message from this endpoint, signed with the signing key of `signAs`, one of the local practitioners. */
  readonly seal: (input: {
    properties: ApplicationProperties;
    payload: (messageId: string, timestamp: Date) => Bundle;
    recipients?: readonly Uint8Array[];
    signAs: string;
  }) => Promise<StoredMessage>;
  /** Queues a sealed message; runs inside the caller's transaction. */
  /** Inside the caller's transaction. `bodyHeld`: the case store keeps the body, which the outbox sends from there. */
  readonly enqueue: (message: StoredMessage, orderKey: string, options?: { bodyHeld?: boolean }) => void;
  readonly onCaseChanged: (summary: CaseSummary, isNew: boolean) => void;
  readonly now?: () => Date;
}

/** Who an endpoint acts for, and with which keys it reads what was sent to them. */
export interface LocalPractitioners {
  endpointId(): string;
  /** Whether consult messages to this practitioner are for this endpoint. */
  has(practitionerId: string): boolean;
  /** The practitioner's encryption identities: the current one first, then earlier ones kept to read older cases. */
  recipients(practitionerId: string): Promise<readonly [CmsRecipientIdentity, ...CmsRecipientIdentity[]]>;
}

/** What the expert's workstation sends for each action the user takes. */
const ACTION_STATUS: Readonly<Record<CaseAction['action'], ConsultStatusUpdate>> = {
  accept: 'accepted',
  decline: 'declined',
  'request-information': 'more-information-needed',
  redirect: 'redirected',
  'provide-information': 'information-provided',
  cancel: 'cancelled',
};

export function createConsultService(options: ConsultServiceOptions) {
  const { db, cases, mirror, audit } = options;
  const now = options.now ?? (() => new Date());
  const views = createCaseViews({
    db,
    cases,
    mirror,
    audit,
    recipients: (practitionerId) => options.local.recipients(practitionerId),
    trust: options.trust,
  });
  const { requireCase, summaryOf, patientOf } = views;

  async function peerEncryptionCertificates(peerId: string): Promise<Uint8Array[]> {
    const certificates = mirror.certificates(peerId, 'encryption') ?? [];
    if (certificates.length === 0) throw peerNotInDirectory(peerId);
    const validate = options.validator();
    for (const certificate of certificates) {
      try {
        await validate(certificate, 'encryption', now());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw peerCertificateUnusable(peerId, error.message);
      }
    }
    return certificates;
  }

  /** Signs, encrypts and queues one step of a case, recording it and the new state in one transaction. */
  async function sendStep(input: {
    /** The local practitioner who takes the step. */
    from: string;
    record: CaseRecord | undefined;
    caseId: string;
    type: ConsultMessageType;
    status: ConsultStatus;
    peerId: string;
    sequence: number;
    payload: (messageId: string, timestamp: Date) => Bundle;
    create?: Omit<NewCase, 'createdAt'>;
    /** What the step tells of the case, for the inbox and search (the patient and reason of a request, a diagnosis). */
    details?: CaseDetails;
  }): Promise<CaseSummary> {
    const { from } = input;
    const recipients = [
      ...(await peerEncryptionCertificates(input.peerId)),
      (await options.local.recipients(from))[0].certificate,
    ];
    const base = {
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: options.local.endpointId(),
      rtsCase: input.caseId,
      rtsFromPractitioner: from,
      rtsToPractitioner: input.peerId,
      rtsSequence: input.sequence,
    };
    const properties: ApplicationProperties =
      input.type === 'consult.status'
        ? { rtsType: 'consult.status', ...base, rtsStatus: input.status as ConsultStatusUpdate }
        : { rtsType: input.type, ...base };
    const message = await options.seal({ properties, payload: input.payload, recipients, signAs: from });
    const at = message.properties.creation_time;
    const messageId = message.properties.message_id;
    const kept = await cases.keepBody(message.body);
    db.transaction(() => {
      // The case may have moved on while we were signing (a step arrived): check again under the transaction.
      if (input.record) {
        const current = cases.get(input.caseId)!;
        if (current.status !== input.record.status || current.mySequence !== input.record.mySequence) {
          throw caseChangedWhileSigning();
        }
      }
      if (input.create) cases.create({ ...input.create, createdAt: at });
      else cases.update(input.caseId, { status: input.status, mySequence: input.sequence, unread: false, at });
      if (input.details) cases.describe(input.caseId, input.details);
      cases.addMessage(
        {
          messageId,
          caseId: input.caseId,
          direction: 'out',
          type: input.type,
          status: input.status,
          sequence: input.sequence,
          state: 'queued',
          body: message.body,
          createdAt: at,
          signedAt: at,
        },
        kept,
      );
      // The case keeps the envelope: the outbox sends it from there rather than writing it again.
      options.enqueue(message, input.caseId, { bodyHeld: true });
      audit.append({
        actor: from,
        action: AUDIT_ACTIONS.signed,
        subject: `message:${messageId}`,
        detail: `${input.type} ${input.status} case:${input.caseId}`,
      });
      audit.append({
        actor: from,
        action: AUDIT_ACTIONS.sent,
        subject: `case:${input.caseId}`,
        detail: `${input.type} ${input.status} to ${input.peerId}`,
      });
    })();
    const result = summaryOf(input.caseId);
    options.onCaseChanged(result, input.create !== undefined);
    return result;
  }

  return {
    list(options: CaseListOptions = {}): CaseSummary[] {
      const records = cases.list(options);
      const attention = cases.attention(records.map((r) => r.caseId));
      return records.map((r) => caseSummary(r, attention.get(r.caseId)));
    },

    /** A page of the inbox, for triage: patient, reason and the other party by name (the directory's, as it is now). */
    inbox(options: CaseListOptions = {}): InboxRow[] {
      const records = cases.list(options);
      const attention = cases.attention(records.map((r) => r.caseId));
      const people = mirror.people(records.map((r) => (r.role === 'expert' ? r.applicantId : r.expertId)));
      return records.map((r) => inboxRow(r, attention.get(r.caseId), people));
    },

    /**
     * Reads what the inbox shows of up to `limit` cases kept before the store held it (their requests are decrypted
     * once); a request that cannot be read is not tried again. Answers how many cases it read.
     */
    async describeOlderCases(limit: number): Promise<number> {
      const pending = cases.undescribed(limit);
      for (const caseId of pending) {
        const record = cases.get(caseId);
        if (!record) continue;
        // The request names patient and reason; a report adds its diagnosis. Either may fail on its own.
        let details: CaseDetails = {};
        for (const type of ['consult.request', 'consult.report'] as const) {
          try {
            for (const content of await views.contentsOf(record, [type]))
              details = { ...details, ...detailsOf(content) };
          } catch (error) {
            // What cannot be read as a case (a damaged or foreign envelope, an unexpected payload) is not tried again;
            // anything else (the keychain) stops this run, to try again at the next start.
            if (!isCmsError(error) && !(error instanceof CoreError) && !(error instanceof TypeError)) throw error;
          }
        }
        const peerId = record.role === 'expert' ? record.applicantId : record.expertId;
        if (details.patientName === undefined) cases.markUndescribable(caseId);
        else cases.describe(caseId, { ...details, ...peerDetailsOf(mirror, peerId) });
      }
      return pending.length;
    },

    /**
     * A new case from `from`, one of the local practitioners, to the expert the input names. `caseId` is given by a
     * caller that must be able to repeat the request safely (the connector derives it from an idempotency key).
     */
    async compose(input: ComposeConsult, from: string, caseId: string = randomUUID()): Promise<CaseSummary> {
      if (!options.local.has(from)) throw notLocalPractitioner(from);
      if (input.expertId === from) throw consultWithYourself();
      const endpointId = options.local.endpointId();
      return sendStep({
        record: undefined,
        caseId,
        type: 'consult.request',
        status: 'requested',
        peerId: input.expertId,
        sequence: 1,
        from,
        create: {
          caseId,
          role: 'applicant',
          status: 'requested',
          priority: input.priority,
          applicantId: from,
          expertId: input.expertId,
          mySequence: 1,
        },
        details: {
          ...detailsOf({
            kind: 'request',
            patient: input.patient,
            reason: input.reason,
            vitals: [],
            bloodPressure: [],
            waveforms: [],
            attachments: [],
          }),
          ...peerDetailsOf(mirror, input.expertId),
        },
        payload: (messageId, timestamp) =>
          buildConsultRequest(
            { messageId, timestamp, sender: endpointId },
            {
              caseId,
              from,
              to: input.expertId,
              sequence: 1,
              patient: input.patient,
              priority: input.priority,
              reason: input.reason,
              ...(input.question && { question: input.question }),
              ...(input.vitals && { vitals: input.vitals.map((v) => ({ ...v, effective: new Date(v.effective) })) }),
              ...(input.bloodPressure && {
                bloodPressure: input.bloodPressure.map((b) => ({ ...b, effective: new Date(b.effective) })),
              }),
              ...(input.waveforms && {
                waveforms: input.waveforms.map((w) => ({ ...w, effective: new Date(w.effective) })),
              }),
              ...(input.attachments && { attachments: input.attachments }),
            },
          ),
      });
    },

    async act(action: CaseAction): Promise<CaseSummary> {
      const record = requireCase(action.caseId);
      const status = ACTION_STATUS[action.action];
      checkStep(record, status);
      const from = ownPractitionerOf(record);
      const peerId = record.role === 'expert' ? record.applicantId : record.expertId;
      const note = 'note' in action ? action.note : undefined;
      const sequence = record.mySequence + 1;
      return sendStep({
        from,
        record,
        caseId: record.caseId,
        type: 'consult.status',
        status,
        peerId,
        sequence,
        payload: (messageId, timestamp) =>
          buildConsultStatus(
            { messageId, timestamp, sender: options.local.endpointId() },
            {
              caseId: record.caseId,
              from,
              to: peerId,
              sequence,
              status,
              ...(note && { note }),
              ...(action.action === 'redirect' && { suggestedPractitioner: action.suggestedPractitioner }),
              ...(action.action === 'provide-information' && action.attachments && { attachments: action.attachments }),
            },
          ),
      });
    },

    async sendReport(input: ReportInput): Promise<CaseSummary> {
      const record = requireCase(input.caseId);
      checkStep(record, 'completed');
      const from = ownPractitionerOf(record);
      const patient = await patientOf(record);
      const sequence = record.mySequence + 1;
      return sendStep({
        from,
        record,
        caseId: record.caseId,
        type: 'consult.report',
        status: 'completed',
        peerId: record.applicantId,
        sequence,
        details: detailsOf({
          kind: 'report',
          report: {
            conclusion: input.conclusion,
            diagnoses: input.diagnoses?.map((d) => ({ ...d, text: d.text })) ?? [],
            prescriptions: [],
          },
        }),
        payload: (messageId, timestamp) =>
          buildConsultReport(
            { messageId, timestamp, sender: options.local.endpointId() },
            {
              caseId: record.caseId,
              from,
              to: record.applicantId,
              sequence,
              patient,
              conclusion: input.conclusion,
              ...(input.findings && { findings: input.findings }),
              ...(input.diagnoses && { diagnoses: input.diagnoses }),
              ...(input.prescriptions && { prescriptions: input.prescriptions }),
            },
          ),
      });
    },

    counts: (escalateBefore?: number) => cases.counts(escalateBefore),

    openCase: views.openCase,
    readMessage: views.readMessage,
    requestContent: views.requestContent,
    patients: (text: string, limit: number) => cases.patients(text, limit),
    saveAttachment: views.saveAttachment,

    ...createIncomingConsults({ cases, mirror, audit, isLocal: (id) => options.local.has(id), now }),

    summaryOf,
  };
}

export type ConsultService = ReturnType<typeof createConsultService>;
