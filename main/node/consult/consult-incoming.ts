import {
  CONSULT_STATUS_SENDER,
  canTransition,
  REASON_CODES,
  type ApplicationProperties,
  type ConsultStatus,
  type ConsultStatusUpdate,
  type MessageMetadata,
  type OpenedMessage,
  type ReasonCode,
} from '../../../shared/protocol/index.ts';
import type { BatchScope, BodyRef } from '../../../transport/index.ts';
import { AUDIT_ACTIONS, type AuditLog } from '../audit/audit-log.ts';
import type { DirectoryMirror } from '../directory/directory-mirror.ts';
import { detailsOf, peerDetailsOf } from './case-details.ts';
import { readCaseMessage } from './case-payloads.ts';
import type { CaseDetails, CaseRecord, CaseRole, CaseStore, ConsultMessageType, MessageState } from './case-store.ts';

/**
 * The consult service's incoming half (consult-service.ts has the user's steps, case-views.ts the reading of cases):
 * consult messages and receipts that arrive, checked against their case before they are stored, and the certificates
 * they must be signed with.
 */

/** Our side of a case: the practitioner this endpoint acts for in it. */
export const ownPractitionerOf = (record: { role: CaseRole; applicantId: string; expertId: string }) =>
  record.role === 'expert' ? record.expertId : record.applicantId;

export type IncomingOutcome =
  | { readonly ok: true; readonly effect: () => void }
  | { readonly ok: false; readonly reason: ReasonCode; readonly detail: string };

/** What the judging of an incoming step needs to know of a case. */
interface CaseState {
  readonly role: CaseRole;
  readonly status: ConsultStatus;
  readonly applicantId: string;
  readonly expertId: string;
  /** The last step accepted from the peer. */
  readonly peerSequence: number;
}

const stateOf = (record: CaseRecord | undefined): CaseState | undefined =>
  record && {
    role: record.role,
    status: record.status,
    applicantId: record.applicantId,
    expertId: record.expertId,
    peerSequence: record.peerSequence,
  };

type Verdict =
  | { readonly ok: true; readonly next: CaseState }
  | { readonly ok: false; readonly reason: ReasonCode; readonly detail: string };

/** Whether a consult message from the peer may follow the case as it is (`undefined`: no such case), and what it makes of it. */
function judgeIncoming(
  state: CaseState | undefined,
  props: Extract<ApplicationProperties, { rtsCase: string }>,
): Verdict {
  const refuse = (reason: ReasonCode, detail: string): Verdict => ({ ok: false, reason, detail });
  if (props.rtsType === 'consult.request') {
    if (state) return refuse(REASON_CODES.outOfOrder, 'a request for a case that already exists');
    return {
      ok: true,
      next: {
        role: 'expert',
        status: 'requested',
        applicantId: props.rtsFromPractitioner,
        expertId: props.rtsToPractitioner,
        peerSequence: props.rtsSequence,
      },
    };
  }
  if (!state) return refuse(REASON_CODES.outOfOrder, `no case ${props.rtsCase} here`);
  if (props.rtsToPractitioner !== ownPractitionerOf(state))
    return refuse(REASON_CODES.notAddressedToMe, `case ${props.rtsCase} is not ${props.rtsToPractitioner}'s here`);
  const peer = state.role === 'expert' ? state.applicantId : state.expertId;
  if (props.rtsFromPractitioner !== peer)
    return refuse(REASON_CODES.notAuthorized, `${props.rtsFromPractitioner} is not the other party of this case`);
  const status: ConsultStatusUpdate = props.rtsType === 'consult.report' ? 'completed' : props.rtsStatus;
  if (CONSULT_STATUS_SENDER[status] === state.role)
    return refuse(
      REASON_CODES.notAuthorized,
      `the ${state.role === 'expert' ? 'applicant' : 'expert'} cannot mark a case ${status}`,
    );
  if (props.rtsSequence <= state.peerSequence)
    return refuse(REASON_CODES.outOfOrder, `sequence ${props.rtsSequence} after ${state.peerSequence}`);
  if (!canTransition(state.status, status))
    return refuse(REASON_CODES.outOfOrder, `${state.status} cannot become ${status}`);
  return { ok: true, next: { ...state, status, peerSequence: props.rtsSequence } };
}

/** Per inbox batch: the state each case will have once the batch's earlier messages are written. */
const pendingByBatch = new WeakMap<BatchScope, Map<string, CaseState>>();

function pendingOf(batch: BatchScope): Map<string, CaseState> {
  let pending = pendingByBatch.get(batch);
  if (!pending) pendingByBatch.set(batch, (pending = new Map<string, CaseState>()));
  return pending;
}

export interface IncomingConsultsOptions {
  readonly cases: CaseStore;
  readonly mirror: DirectoryMirror;
  readonly audit: AuditLog;
  /** Whether consult messages to this practitioner are for this endpoint (LocalPractitioners.has). */
  readonly isLocal: (practitionerId: string) => boolean;
  readonly now: () => Date;
}

export function createIncomingConsults(options: IncomingConsultsOptions) {
  const { cases, mirror, audit, now } = options;
  const directorySigners = (practitionerId: string): Uint8Array[] =>
    mirror.certificates(practitionerId, 'signing') ?? [];
  /** Envelopes being written by keepAhead, until incoming() takes them. */
  const ahead = new WeakMap<Uint8Array, Promise<BodyRef | undefined>>();
  const takeAhead = (body: Uint8Array) => {
    const kept = ahead.get(body);
    ahead.delete(body);
    return kept;
  };

  /**
   * Keeps what a verified request or report tells of its case. A payload this reading does not expect leaves the case
   * to the background reading (which then gives up on it) rather than refusing a message the profiles accepted.
   */
  function describe(caseId: string, known: CaseDetails, opened: OpenedMessage): void {
    let details: CaseDetails;
    try {
      details = detailsOf(readCaseMessage(opened.metadata.properties.rtsType as ConsultMessageType, opened.payload));
    } catch {
      return;
    }
    cases.describe(caseId, { ...known, ...details });
  }

  return {
    /** The signing certificates a consult message must carry: its sending practitioner's, from the directory. */
    expectedSigners: directorySigners,

    /** The peer's signing certificates for a receipt about one of our messages. */
    receiptSigners(correlationId: string | undefined): Uint8Array[] | undefined {
      const message = correlationId ? cases.caseOfMessage(correlationId) : undefined;
      const record = message && cases.get(message.caseId);
      if (!record) return undefined;
      return directorySigners(record.role === 'expert' ? record.applicantId : record.expertId);
    },

    /**
     * Starts writing a consult message's envelope while its payload is validated: the downlink handler calls this once
     * the signer is verified, and incoming() then awaits this write instead of starting its own. In a timeline of P2's
     * 1 MB consults the write (sealing, writing and its fsync, on the thread pool) took 6.6 ms beside a validation of
     * 5 ms, of which 1.4 ms was still waited for; it followed the validation before. Only for what incoming() would
     * keep as things stand: addressed to a practitioner of this endpoint, a step its case allows, not stored already. A
     * message refused after all leaves its record unreferenced in the case segments, as a rolled-back transaction does.
     */
    keepAhead(metadata: MessageMetadata, body: Uint8Array): void {
      const props = metadata.properties;
      if (
        props.rtsType !== 'consult.request' &&
        props.rtsType !== 'consult.status' &&
        props.rtsType !== 'consult.report'
      )
        return;
      if (ahead.has(body) || !options.isLocal(props.rtsToPractitioner) || cases.caseOfMessage(metadata.messageId))
        return;
      if (!judgeIncoming(stateOf(cases.get(props.rtsCase)), props).ok) return;
      const kept = cases.keepBody(body);
      kept.catch(() => undefined); // incoming() awaits it and meets its failure
      ahead.set(body, kept);
    },

    /**
     * Checks a verified consult message against its case; the effect stores it (inside the inbox transaction). Within
     * one inbox batch (`batch`) a message is judged against what the earlier messages of the batch will write, not
     * against the store they have not written yet: a second request for the same case, or a second step from the same
     * state, is refused (`out-of-order`) instead of breaking or bypassing the batch. The effect judges again against
     * the store under the transaction and throws if the case moved meanwhile (the message is then released and judged
     * afresh when it comes back); applying a message that is already stored writes nothing.
     */
    async incoming(opened: OpenedMessage, body: Uint8Array, batch?: BatchScope): Promise<IncomingOutcome> {
      const props = opened.metadata.properties as Extract<ApplicationProperties, { rtsCase: string }>;
      const at = now().getTime();
      if (!options.isLocal(props.rtsToPractitioner))
        return { ok: false, reason: REASON_CODES.notAddressedToMe, detail: `addressed to ${props.rtsToPractitioner}` };
      const pending = batch && pendingOf(batch);
      const stored = () => stateOf(cases.get(props.rtsCase));
      const verdict = judgeIncoming(pending?.get(props.rtsCase) ?? stored(), props);
      if (!verdict.ok) return verdict;
      pending?.set(props.rtsCase, verdict.next);
      const messageId = opened.metadata.messageId;
      // Written before the inbox's transaction, whose row then refers to it (case-store.ts keepBody); a message
      // stored already is not written again (its effect adds nothing).
      const kept = cases.caseOfMessage(messageId) ? undefined : await (takeAhead(body) ?? cases.keepBody(body));
      const record = (status: ConsultStatus) => ({
        messageId,
        caseId: props.rtsCase,
        direction: 'in' as const,
        type: props.rtsType,
        status,
        sequence: props.rtsSequence,
        state: 'verified' as const,
        signerSubject: opened.signer.subject,
        signedAt: opened.signer.signingTime.getTime(),
        body,
        createdAt: at,
      });
      return {
        ok: true,
        effect: () => {
          if (cases.caseOfMessage(messageId)) return;
          const again = judgeIncoming(stored(), props);
          if (!again.ok)
            throw new Error(
              `case ${props.rtsCase} changed before ${messageId} was stored (${again.reason}: ${again.detail})`,
            );
          const { next } = again;
          if (props.rtsType === 'consult.request') {
            const priority = (opened.payload.entry as { resource: { resourceType: string; priority?: string } }[]).find(
              (e) => e.resource.resourceType === 'ServiceRequest',
            )?.resource.priority;
            cases.create({
              caseId: props.rtsCase,
              role: next.role,
              status: next.status,
              ...(priority && { priority }),
              applicantId: next.applicantId,
              expertId: next.expertId,
              createdAt: at,
              mySequence: 0,
              peerSequence: next.peerSequence,
              unread: true,
            });
            cases.addMessage(record(next.status), kept);
            describe(props.rtsCase, { ...peerDetailsOf(mirror, next.applicantId) }, opened);
            audit.append({
              actor: props.rtsToPractitioner,
              action: AUDIT_ACTIONS.caseReceived,
              subject: `case:${props.rtsCase}`,
              detail: `from ${props.rtsFromPractitioner}`,
            });
            return;
          }
          cases.update(props.rtsCase, { status: next.status, peerSequence: next.peerSequence, unread: true, at });
          cases.addMessage(record(next.status), kept);
          if (props.rtsType === 'consult.report') describe(props.rtsCase, {}, opened);
          audit.append({
            actor: props.rtsToPractitioner,
            action: AUDIT_ACTIONS.received,
            subject: `case:${props.rtsCase}`,
            detail: `${props.rtsType} ${next.status}`,
          });
        },
      };
    },

    /** A refused message of a known case is shown in it (without its content), so the user sees why. */
    recordRefused(input: {
      messageId: string;
      caseId: string;
      type: ConsultMessageType;
      sequence: number;
      reason: ReasonCode;
      detail: string;
    }): boolean {
      const record = cases.get(input.caseId);
      if (!record) return false;
      const at = now().getTime();
      cases.addMessage({
        messageId: input.messageId,
        caseId: input.caseId,
        direction: 'in',
        type: input.type,
        status: record.status,
        sequence: input.sequence,
        state: 'rejected',
        reason: input.reason,
        detail: input.detail,
        createdAt: at,
      });
      cases.update(input.caseId, { unread: true, at });
      return true;
    },

    /** A receipt about one of our messages: from the hub (delivered or rejected) or the peer (processed or rejected). */
    receipt(
      correlationId: string,
      outcome: 'delivered' | 'processed' | 'rejected',
      reason?: ReasonCode,
      detail?: string,
    ): string | undefined {
      const state: MessageState = outcome;
      return cases.setMessageState(correlationId, state, now().getTime(), reason, detail)?.caseId;
    },
  };
}
