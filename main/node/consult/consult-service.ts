import { randomUUID } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import {
  API_ERROR_CODES,
  type CaseAction,
  type CaseSummary,
  type CaseView,
  type ComposeConsult,
  type ReportInput,
} from '../../../shared/api/index.ts';
import {
  isCmsError,
  open,
  withheldFailure,
  type CertificateValidator,
  type CmsRecipientIdentity,
  type TrustConfig,
} from '../../../shared/cms/index.ts';
import {
  CONSULT_STATUS_SENDER,
  canTransition,
  DIRECTORY_ID_PATTERN,
  PROTOCOL_VERSION,
  type ApplicationProperties,
  type ConsultStatus,
  type ConsultStatusUpdate,
} from '../../../shared/protocol/index.ts';
import { commonNameOf } from '../../../shared/pki/index.ts';
import {
  practitionerName,
  buildConsultReport,
  buildConsultRequest,
  buildConsultStatus,
  type PatientDetails,
} from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase, StoredMessage } from '../../../transport/index.ts';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { DirectoryMirror } from '../directory/directory-mirror.ts';
import type { CaseMessageRecord, CaseRecord, CaseStore, ConsultMessageType } from './case-store.ts';
import { readCaseMessage, type CaseMessageContent } from './case-payloads.ts';
import { createIncomingConsults, ownPractitionerOf } from './consult-incoming.ts';

/**
 * The consultation lifecycle on this workstation, for both roles (docs/protocol.md §5.2). Every step the user takes is
 * checked against the transition table, signed, encrypted to the peer and to ourselves, and queued in the outbox in
 * the same transaction that records it; every step that arrives was verified by the caller and is checked against the
 * case before it is stored (consult-incoming.ts). Envelopes are stored as they travelled and decrypted again when a
 * case is opened.
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
  readonly enqueue: (message: StoredMessage, orderKey: string) => void;
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

const iso = (ms: number) => new Date(ms).toISOString();

export function createConsultService(options: ConsultServiceOptions) {
  const { db, cases, mirror, audit } = options;
  const now = options.now ?? (() => new Date());

  function summary(record: CaseRecord, attention?: string): CaseSummary {
    return {
      caseId: record.caseId,
      role: record.role,
      status: record.status,
      ...(record.priority && { priority: record.priority as CaseSummary['priority'] }),
      applicantId: record.applicantId,
      expertId: record.expertId,
      createdAt: iso(record.createdAt),
      updatedAt: iso(record.updatedAt),
      unread: record.unread,
      ...(attention && { attention }),
    };
  }

  const summaryOf = (caseId: string) => summary(requireCase(caseId), cases.attention([caseId]).get(caseId));

  async function peerEncryptionCertificates(peerId: string): Promise<Uint8Array[]> {
    const certificates = mirror.certificates(peerId, 'encryption') ?? [];
    if (certificates.length === 0)
      throw new CoreError(API_ERROR_CODES.notFound, `${peerId} is not in the directory (or has been retired).`);
    const validate = options.validator();
    for (const certificate of certificates) {
      try {
        await validate(certificate, 'encryption', now());
      } catch (error) {
        if (!isCmsError(error)) throw error;
        throw new CoreError(
          API_ERROR_CODES.notAllowed,
          `The encryption certificate of ${peerId} cannot be used: ${error.message}`,
        );
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
    create?: Omit<CaseRecord, 'createdAt' | 'updatedAt' | 'unread' | 'peerSequence'>;
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
    db.transaction(() => {
      // The case may have moved on while we were signing (a step arrived): check again under the transaction.
      if (input.record) {
        const current = cases.get(input.caseId)!;
        if (current.status !== input.record.status || current.mySequence !== input.record.mySequence) {
          throw new CoreError(
            API_ERROR_CODES.notAllowed,
            'The case changed while this step was being signed; open it again and retry.',
            true,
          );
        }
      }
      if (input.create) cases.create({ ...input.create, createdAt: at });
      else cases.update(input.caseId, { status: input.status, mySequence: input.sequence, unread: false, at });
      cases.addMessage({
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
      });
      options.enqueue(message, input.caseId);
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

  function requireCase(caseId: string): CaseRecord {
    const record = cases.get(caseId);
    if (!record) throw new CoreError(API_ERROR_CODES.notFound, 'There is no such case on this workstation.');
    return record;
  }

  /**
   * Who signed: the certificate's subject, and the person it names. A practitioner's certificate names their directory
   * id (docs/protocol.md §3), so the name shown is the directory's, not whatever the certificate says.
   */
  function signerOf(signer: {
    certificate: Uint8Array;
    subject: string;
    signingTime: Date;
  }): NonNullable<CaseView['messages'][number]['signer']> {
    const base = { subject: signer.subject, signedAt: signer.signingTime.toISOString() };
    let practitionerId: string | undefined;
    try {
      practitionerId = commonNameOf(signer.certificate);
    } catch {
      return base;
    }
    if (practitionerId === undefined || !DIRECTORY_ID_PATTERN.test(practitionerId)) return base;
    const name = practitionerName(
      mirror.resource(`Practitioner/${practitionerId}`) as { name?: unknown[] } | undefined,
    );
    return { ...base, practitionerId, ...(name && { name }) };
  }

  /** The decrypted, verified content of one stored message (our own copies are encrypted to us too). */
  async function openStored(
    message: CaseMessageRecord & { body: Uint8Array },
    practitionerId: string,
  ): Promise<{ payload: Record<string, unknown>; signer: NonNullable<CaseView['messages'][number]['signer']> }> {
    // allowCbc: a stored envelope was verified when it arrived, and some arrived as CBC before protocol 2.0.
    const opened = await open(message.body, await options.local.recipients(practitionerId), options.trust(), {
      now: new Date(message.signedAt ?? message.createdAt),
      allowCbc: true,
    });
    return {
      payload: JSON.parse(new TextDecoder().decode(opened.content)) as Record<string, unknown>,
      signer: signerOf(opened.signer),
    };
  }

  async function readStored(
    message: CaseMessageRecord,
    practitionerId: string,
  ): Promise<{ content: CaseMessageContent; signer: NonNullable<CaseView['messages'][number]['signer']> } | undefined> {
    if (!message.body) return undefined;
    const { payload, signer } = await openStored({ ...message, body: message.body }, practitionerId);
    return { content: readCaseMessage(message.type, payload), signer };
  }

  async function patientOf(record: CaseRecord): Promise<PatientDetails> {
    const request = cases.messages(record.caseId).find((m) => m.type === 'consult.request' && m.body);
    const read = request && (await readStored(request, ownPractitionerOf(record)));
    if (!read || read.content.kind !== 'request')
      throw new CoreError(API_ERROR_CODES.notFound, 'The request of this case cannot be read.');
    // The report names the patient as the request did, in the request's own forms.
    return read.content.patient;
  }

  function checkStep(record: CaseRecord, status: ConsultStatusUpdate): void {
    if (CONSULT_STATUS_SENDER[status] !== record.role)
      throw new CoreError(
        API_ERROR_CODES.notAllowed,
        `Only the ${CONSULT_STATUS_SENDER[status]} can mark a case ${status}.`,
      );
    if (!canTransition(record.status, status))
      throw new CoreError(API_ERROR_CODES.notAllowed, `A case that is ${record.status} cannot become ${status}.`);
  }

  return {
    list(options: Parameters<CaseStore['list']>[0] = {}): CaseSummary[] {
      const records = cases.list(options);
      const attention = cases.attention(records.map((r) => r.caseId));
      return records.map((r) => summary(r, attention.get(r.caseId)));
    },

    /**
     * A new case from `from`, one of the local practitioners, to the expert the input names. `caseId` is given by a
     * caller that must be able to repeat the request safely (the connector derives it from an idempotency key).
     */
    async compose(input: ComposeConsult, from: string, caseId: string = randomUUID()): Promise<CaseSummary> {
      if (!options.local.has(from))
        throw new CoreError(API_ERROR_CODES.notFound, `${from} is not a practitioner of this endpoint.`);
      if (input.expertId === from)
        throw new CoreError(API_ERROR_CODES.notAllowed, 'You cannot ask yourself for a consultation.');
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

    counts: () => cases.counts(),

    /** Decrypts every message of the case, audits that, and marks it read. */
    /** `readBy` is who the audit log names as the reader: the user here, or a connector's clinic system. */
    async openCase(caseId: string, readBy?: string): Promise<CaseView> {
      const record = requireCase(caseId);
      const own = ownPractitionerOf(record);
      const reader = readBy ?? own;
      const view: CaseView = {
        ...summary(record, cases.attention([caseId]).get(caseId)),
        unread: false,
        vitals: [],
        bloodPressure: [],
        waveforms: [],
        attachments: [],
        messages: [],
      };
      for (const message of cases.messages(caseId)) {
        const failed = message.state === 'queued' && message.outbox === 'failed';
        const state: CaseView['messages'][number]['state'] = failed
          ? 'failed'
          : message.state === 'queued' && message.outbox === 'sent'
            ? 'sent'
            : message.state;
        const detail = failed ? message.outboxFailure : message.detail;
        const base = {
          messageId: message.messageId,
          direction: message.direction,
          type: message.type,
          status: message.status,
          at: iso(message.createdAt),
          state,
          ...(message.reason && { reason: message.reason }),
          ...(detail && { detail }),
        };
        let read;
        try {
          read = await readStored(message, own);
        } catch (error) {
          if (!isCmsError(error)) throw error;
          view.messages.push({
            ...base,
            state: 'rejected',
            detail: `cannot be opened: ${withheldFailure(error).message}`,
          });
          continue;
        }
        if (!read) {
          view.messages.push(base);
          continue;
        }
        const { content, signer } = read;
        view.messages.push({
          ...base,
          signer,
          ...(content.kind === 'status' && {
            ...(content.note && { note: content.note }),
            ...(content.suggestedPractitioner && { suggestedPractitioner: content.suggestedPractitioner }),
            ...(content.attachments.length > 0 && { attachments: content.attachments }),
          }),
        });
        if (content.kind === 'request') {
          Object.assign(view, {
            patient: content.patient,
            reason: content.reason,
            ...(content.question && { question: content.question }),
            vitals: content.vitals,
            bloodPressure: content.bloodPressure,
            waveforms: content.waveforms,
            attachments: content.attachments,
          });
        } else if (content.kind === 'report') {
          view.report = { ...content.report, signer, verified: true };
        }
      }
      db.transaction(() => {
        if (record.unread) cases.update(caseId, { unread: false, at: record.updatedAt });
        audit.append({
          actor: reader,
          action: AUDIT_ACTIONS.caseOpened,
          subject: `case:${caseId}`,
          ...(reader !== own && { detail: `for ${own}` }),
        });
        audit.append({
          actor: reader,
          action: AUDIT_ACTIONS.decrypted,
          subject: `case:${caseId}`,
          detail: `${view.messages.filter((m) => m.signer).length} messages`,
        });
      })();
      return view;
    },

    /**
     * One message of a case as it travelled: the FHIR message Bundle, decrypted and verified, with its signer (for a
     * system that takes FHIR documents as they are). Audited as a read by `readBy`.
     */
    async readMessage(
      caseId: string,
      messageId: string,
      readBy?: string,
    ): Promise<{
      messageId: string;
      type: ConsultMessageType;
      direction: 'in' | 'out';
      signer: NonNullable<CaseView['messages'][number]['signer']>;
      bundle: Record<string, unknown>;
    }> {
      const record = requireCase(caseId);
      const message = cases.message(messageId);
      if (!message || message.caseId !== caseId || !message.body)
        throw new CoreError(
          API_ERROR_CODES.notFound,
          'There is no such message in this case (or it was refused, and its content not kept).',
        );
      const own = ownPractitionerOf(record);
      const { payload, signer } = await openStored({ ...message, body: message.body }, own);
      const reader = readBy ?? own;
      audit.append({
        actor: reader,
        action: AUDIT_ACTIONS.decrypted,
        subject: `message:${messageId}`,
        detail: `case:${caseId}${reader !== own ? ` for ${own}` : ''}`,
      });
      return { messageId, type: message.type, direction: message.direction, signer, bundle: payload };
    },

    ...createIncomingConsults({ cases, mirror, audit, isLocal: (id) => options.local.has(id), now }),

    summaryOf,
  };
}

export type ConsultService = ReturnType<typeof createConsultService>;
