import type { ConsultStatus, ReasonCode } from '../../../shared/protocol/index.ts';
import type {
  CaseMessageRecord,
  CaseRecord,
  CaseRole,
  ConsultMessageType,
  MessageState,
  WaitingOn,
} from './case-store.ts';

/** The case store's rows as SQLite gives them, and the records they make (case-store.ts). */

export interface CaseRow {
  case_id: string;
  role: CaseRole;
  status: ConsultStatus;
  priority: string | null;
  applicant_id: string;
  expert_id: string;
  created_at: number;
  updated_at: number;
  unread: number;
  my_sequence: number;
  peer_sequence: number;
  status_at: number | null;
  waiting_on: WaitingOn;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_gender: string | null;
  reason: string | null;
  peer_name: string | null;
  peer_hospital: string | null;
  escalated?: number;
}
export interface MessageRow {
  message_id: string;
  case_id: string;
  direction: 'in' | 'out';
  type: ConsultMessageType;
  status: ConsultStatus;
  sequence: number;
  state: MessageState;
  reason: string | null;
  detail: string | null;
  signer_subject: string | null;
  signed_at: number | null;
  body: Uint8Array | null;
  body_segment: number | null;
  body_offset: number | null;
  body_bytes: number | null;
  created_at: number;
  outbox_state: string | null;
  outbox_failure: string | null;
}

export const toCase = (r: CaseRow): CaseRecord => ({
  caseId: r.case_id,
  role: r.role,
  status: r.status,
  ...(r.priority && { priority: r.priority }),
  applicantId: r.applicant_id,
  expertId: r.expert_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  unread: r.unread === 1,
  mySequence: r.my_sequence,
  peerSequence: r.peer_sequence,
  statusAt: r.status_at ?? r.updated_at,
  waitingOn: r.waiting_on,
  details: {
    ...(r.patient_name !== null && { patientName: r.patient_name }),
    ...(r.patient_birth_date !== null && { patientBirthDate: r.patient_birth_date }),
    ...(r.patient_gender !== null && { patientGender: r.patient_gender }),
    ...(r.reason !== null && { reason: r.reason }),
    ...(r.peer_name !== null && { peerName: r.peer_name }),
    ...(r.peer_hospital !== null && { peerHospital: r.peer_hospital }),
  },
  ...(r.escalated !== undefined && { escalated: r.escalated === 1 }),
});
export const toRecord = (r: MessageRow, body: Uint8Array | undefined): CaseMessageRecord => ({
  messageId: r.message_id,
  caseId: r.case_id,
  direction: r.direction,
  type: r.type,
  status: r.status,
  sequence: r.sequence,
  state: r.state,
  ...(r.reason && { reason: r.reason as ReasonCode }),
  ...(r.detail && { detail: r.detail }),
  ...(r.signer_subject && { signerSubject: r.signer_subject }),
  ...(r.signed_at !== null && { signedAt: r.signed_at }),
  ...(body && { body }),
  createdAt: r.created_at,
  outbox: r.outbox_state === null ? 'sent' : r.outbox_state === 'failed' ? 'failed' : 'waiting',
  ...(r.outbox_failure && { outboxFailure: r.outbox_failure }),
});
