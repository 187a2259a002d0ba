import { createHash } from 'node:crypto';
import {
  API_ERROR_CODES,
  type CaseAttention,
  type CaseParty,
  type CaseSummary,
  type CaseView,
  type InboxRow,
  type RequestContent,
} from '../../../shared/api/index.ts';
import { isCmsError, open, withheldFailure, type TrustConfig } from '../../../shared/cms/index.ts';
import { DIRECTORY_ID_PATTERN } from '../../../shared/protocol/index.ts';
import { commonNameOf, parseCertificate, summarizeCertificate } from '../../../shared/pki/index.ts';
import { practitionerName, type PatientDetails } from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase } from '../../../transport/index.ts';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { DirectoryMirror, Person } from '../directory/directory-mirror.ts';
import { safeFileName, writeChosenFile, type SaveDialog } from '../files/save-file.ts';
import type { CaseMessageRecord, CaseRecord, CaseStore, ConsultMessageType } from './case-store.ts';
import { readCaseMessage, type CaseMessageContent } from './case-payloads.ts';
import { ownPractitionerOf } from './consult-incoming.ts';
import { requestContentOf } from './request-content.ts';
import type { LocalPractitioners } from './consult-service.ts';

/**
 * The consult service's reading of cases (consult-service.ts has the user's steps, consult-incoming.ts what arrives):
 * summaries, and the stored envelopes decrypted and verified again when a case or one of its messages is opened, with
 * the audit entries such a read leaves.
 */

type Signer = NonNullable<CaseView['messages'][number]['signer']>;

const iso = (ms: number) => new Date(ms).toISOString();

/** A case as a list shows it; `attention` is what the case waits for, if anything. */
export function caseSummary(record: CaseRecord, attention?: CaseAttention): CaseSummary {
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

/** The other party of a case by name and hospital: the directory's now (`people`), else as kept when the case began. */
function partyOf(record: CaseRecord, people: Map<string, Person>): CaseParty {
  const practitionerId = record.role === 'expert' ? record.applicantId : record.expertId;
  return party(practitionerId, people.get(practitionerId), record.details);
}

/** A practitioner by the directory's name and hospital, else by what the case kept of them. */
function party(practitionerId: string, person: Person | undefined, kept: CaseRecord['details'] = {}): CaseParty {
  const name = person?.name ?? kept.peerName;
  const hospital = person?.organization || kept.peerHospital;
  return {
    practitionerId,
    ...(name && { name }),
    ...(person?.specialties && { specialties: person.specialties }),
    ...(hospital && { hospital }),
  };
}

/** A case as the inbox shows it: with the patient, the reason and the other party by name (`people`: the directory's). */
export function inboxRow(
  record: CaseRecord,
  attention: CaseAttention | undefined,
  people: Map<string, Person>,
): InboxRow {
  const { patientName, patientBirthDate, patientGender, reason } = record.details;
  return {
    ...caseSummary(record, attention),
    ...(patientName !== undefined && {
      patient: {
        name: patientName,
        ...(patientBirthDate && { birthDate: patientBirthDate }),
        ...(patientGender && { gender: patientGender }),
      },
    }),
    ...(reason !== undefined && { reason }),
    otherParty: partyOf(record, people),
    waitingOn: record.waitingOn,
    statusSince: iso(record.statusAt),
    escalated: record.escalated ?? false,
  };
}

export interface CaseViewsOptions {
  readonly db: SqliteDatabase;
  readonly cases: CaseStore;
  readonly mirror: DirectoryMirror;
  readonly audit: AuditLog;
  readonly recipients: LocalPractitioners['recipients'];
  readonly trust: () => TrustConfig;
}

export function createCaseViews(options: CaseViewsOptions) {
  const { db, cases, mirror, audit } = options;

  function requireCase(caseId: string): CaseRecord {
    const record = cases.get(caseId);
    if (!record)
      throw new CoreError(API_ERROR_CODES.notFound, 'case-not-found', 'There is no such case on this workstation.');
    return record;
  }

  const summaryOf = (caseId: string) => caseSummary(requireCase(caseId), cases.attention([caseId]).get(caseId));

  /**
   * Who signed: the certificate's subject, and the person it names. A practitioner's certificate names their directory
   * id (docs/protocol.md §3), so the name shown is the directory's, not whatever the certificate says.
   */
  function signerOf(signer: { certificate: Uint8Array; subject: string; signingTime: Date }): Signer {
    let base: Signer = { subject: signer.subject, signedAt: signer.signingTime.toISOString() };
    let practitionerId: string | undefined;
    try {
      // The certificate that signed, for the printed signature block: its serial and the CA that issued it.
      const { serialNumber, issuer } = summarizeCertificate(parseCertificate(signer.certificate));
      base = { ...base, serialNumber, issuer };
    } catch {
      // The name below is still worth showing.
    }
    try {
      practitionerId = commonNameOf(signer.certificate);
    } catch {
      return base;
    }
    if (practitionerId === undefined || !DIRECTORY_ID_PATTERN.test(practitionerId)) return base;
    const name = practitionerName(
      mirror.resource(`Practitioner/${practitionerId}`) as { name?: unknown[] } | undefined,
    );
    const hospital = mirror.people([practitionerId]).get(practitionerId)?.organization;
    return { ...base, practitionerId, ...(name && { name }), ...(hospital && { hospital }) };
  }

  /** The decrypted, verified content of one stored message (our own copies are encrypted to us too). */
  async function openStored(
    message: CaseMessageRecord & { body: Uint8Array },
    practitionerId: string,
  ): Promise<{ payload: Record<string, unknown>; signer: Signer }> {
    // allowCbc: a stored envelope was verified when it arrived, and some arrived as CBC before protocol 2.0.
    const opened = await open(message.body, await options.recipients(practitionerId), options.trust(), {
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
  ): Promise<{ content: CaseMessageContent; signer: Signer } | undefined> {
    if (!message.body) return undefined;
    const { payload, signer } = await openStored({ ...message, body: message.body }, practitionerId);
    return { content: readCaseMessage(message.type, payload), signer };
  }

  /** The patient as the case's request names them. */
  async function patientOf(record: CaseRecord): Promise<PatientDetails> {
    // The report names the patient as the request did, in the request's own forms.
    return (await readRequest(record)).content.patient;
  }

  /** The request whose content the case shows: the last one kept (as openCase reads them, a later one wins). */
  function requestMessageOf(caseId: string): CaseMessageRecord | undefined {
    return cases
      .messages(caseId)
      .filter((m) => m.type === 'consult.request' && m.body)
      .at(-1);
  }

  /** The case's request, decrypted and verified (not audited: the caller says who reads it and why). */
  async function readRequest(
    record: CaseRecord,
  ): Promise<{ messageId: string; content: Extract<CaseMessageContent, { kind: 'request' }> }> {
    const request = requestMessageOf(record.caseId);
    const read = request && (await readStored(request, ownPractitionerOf(record)));
    if (!read || read.content.kind !== 'request')
      throw new CoreError(
        API_ERROR_CODES.notFound,
        'case-request-unreadable',
        'The request of this case cannot be read.',
      );
    return { messageId: request.messageId, content: read.content };
  }

  /** The case's request as the compose form takes it again; audited as a read of the case's request by the user. */
  async function requestContent(caseId: string, take: 'patient' | 'request'): Promise<RequestContent> {
    const record = requireCase(caseId);
    const request = await readRequest(record);
    audit.append({
      actor: ownPractitionerOf(record),
      action: AUDIT_ACTIONS.decrypted,
      subject: `message:${request.messageId}`,
      detail: `case:${caseId} ${take === 'patient' ? 'patient' : 'request'} copied into a new request`,
    });
    const content = requestContentOf(request.content, record.priority);
    return take === 'patient' ? { patient: content.patient, priority: 'routine', reason: '' } : content;
  }

  /** The verified content of the case's stored messages of these types, oldest first (not audited: no user reads it). */
  async function contentsOf(record: CaseRecord, types: readonly ConsultMessageType[]): Promise<CaseMessageContent[]> {
    const contents: CaseMessageContent[] = [];
    for (const message of cases.messages(record.caseId)) {
      if (!types.includes(message.type) || message.state === 'rejected') continue;
      const read = await readStored(message, ownPractitionerOf(record));
      if (read) contents.push(read.content);
    }
    return contents;
  }

  /** Decrypts every message of the case, audits that, and marks it read. */
  /** `readBy` is who the audit log names as the reader: the user here, or a connector's clinic system. */
  async function openCase(caseId: string, readBy?: string): Promise<CaseView> {
    const record = requireCase(caseId);
    const own = ownPractitionerOf(record);
    const reader = readBy ?? own;
    const otherId = record.role === 'expert' ? record.applicantId : record.expertId;
    const people = mirror.people([otherId, own]);
    const ownParty = (practitionerId: string) => party(practitionerId, people.get(practitionerId));
    const view: CaseView = {
      ...caseSummary(record, cases.attention([caseId]).get(caseId)),
      otherParty: partyOf(record, people),
      people: {
        applicant: record.role === 'applicant' ? ownParty(record.applicantId) : partyOf(record, people),
        expert: record.role === 'expert' ? ownParty(record.expertId) : partyOf(record, people),
      },
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
      } else if (content.kind === 'report' && message.state !== 'rejected') {
        // A report the peer refused (ours) is not the case's report.
        // The envelope's digest lets a reader of the printout find the very message it was made from.
        const envelopeSha256 = createHash('sha256').update(message.body!).digest('hex');
        view.report = { ...content.report, signer, verified: true, envelopeSha256 };
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
  }

  /**
   * One message of a case as it travelled: the FHIR message Bundle, decrypted and verified, with its signer (for a
   * system that takes FHIR documents as they are). Audited as a read by `readBy`.
   */
  async function readMessage(
    caseId: string,
    messageId: string,
    readBy?: string,
  ): Promise<{
    messageId: string;
    type: ConsultMessageType;
    direction: 'in' | 'out';
    signer: Signer;
    bundle: Record<string, unknown>;
  }> {
    const record = requireCase(caseId);
    const message = cases.message(messageId);
    if (!message || message.caseId !== caseId || !message.body)
      throw new CoreError(
        API_ERROR_CODES.notFound,
        'message-not-found',
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
  }

  /**
   * One file of a case, saved where the user chooses: the request's (no `messageId`) or another message's, read from
   * its stored envelope (never bytes from the page) and written by writeChosenFile. Audited as an export naming the
   * file by its place in the case, not by its title (which may name the patient).
   */
  async function saveAttachment(
    caseId: string,
    file: { messageId?: string | undefined; index: number },
    dialog: SaveDialog,
    savedBy: string,
  ): Promise<{ saved: false } | { saved: true; folder: string; fileName: string }> {
    const record = requireCase(caseId);
    // Without a message: the request whose files the case shows.
    const message = file.messageId ? cases.message(file.messageId) : requestMessageOf(caseId);
    // A refused message's files are not shown, so not saved either.
    const shown = message?.caseId === caseId && !(message.direction === 'in' && message.state === 'rejected');
    const read = shown ? await readStored(message, ownPractitionerOf(record)) : undefined;
    const attachment =
      read?.content.kind === 'request' || read?.content.kind === 'status'
        ? read.content.attachments[file.index]
        : undefined;
    if (!attachment)
      throw new CoreError(API_ERROR_CODES.notFound, 'file-not-found', 'There is no such file in this case.');
    const chosen = await dialog.choosePath(safeFileName(attachment.title, attachment.contentType));
    if (chosen === undefined) return { saved: false };
    const written = await writeChosenFile(chosen, Buffer.from(attachment.base64, 'base64'));
    audit.append({
      actor: savedBy,
      action: AUDIT_ACTIONS.exported,
      subject: `case:${caseId}`,
      detail: `file ${file.index + 1} of ${file.messageId ? `message:${file.messageId}` : 'the request'}`,
    });
    return { saved: true, ...written };
  }

  return { requireCase, summaryOf, patientOf, contentsOf, openCase, readMessage, requestContent, saveAttachment };
}
