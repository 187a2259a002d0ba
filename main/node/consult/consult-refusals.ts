import { API_ERROR_CODES } from '../../../shared/api/index.ts';
import { CONSULT_STATUS_SENDER, canTransition, type ConsultStatusUpdate } from '../../../shared/protocol/index.ts';
import { CoreError } from '../core-error.ts';
import type { CaseRecord } from './case-store.ts';

/** The consult service's refusals, each with its reason for the UI and its English for the log. */

/** Refuses a step that is not this side's to take, or does not follow from the case's state. */
export function checkStep(record: CaseRecord, status: ConsultStatusUpdate): void {
  if (CONSULT_STATUS_SENDER[status] !== record.role)
    throw new CoreError(
      API_ERROR_CODES.notAllowed,
      'step-not-yours',
      `Only the ${CONSULT_STATUS_SENDER[status]} can mark a case ${status}.`,
      { params: { role: CONSULT_STATUS_SENDER[status], status } },
    );
  if (!canTransition(record.status, status))
    throw new CoreError(
      API_ERROR_CODES.notAllowed,
      'step-not-allowed',
      `A case that is ${record.status} cannot become ${status}.`,
      { params: { from: record.status, status } },
    );
}

export const peerNotInDirectory = (peerId: string): CoreError =>
  new CoreError(
    API_ERROR_CODES.notFound,
    'peer-not-in-directory',
    `${peerId} is not in the directory (or has been retired).`,
    { params: { practitionerId: peerId } },
  );

export const peerCertificateUnusable = (peerId: string, why: string): CoreError =>
  new CoreError(
    API_ERROR_CODES.notAllowed,
    'peer-certificate-unusable',
    `The encryption certificate of ${peerId} cannot be used: ${why}`,
    { params: { practitionerId: peerId } },
  );

export const caseChangedWhileSigning = (): CoreError =>
  new CoreError(
    API_ERROR_CODES.notAllowed,
    'case-changed-while-signing',
    'The case changed while this step was being signed; open it again and retry.',
    { retryable: true },
  );

export const notLocalPractitioner = (from: string): CoreError =>
  new CoreError(API_ERROR_CODES.notFound, 'practitioner-not-local', `${from} is not a practitioner of this endpoint.`, {
    params: { practitionerId: from },
  });

export const consultWithYourself = (): CoreError =>
  new CoreError(API_ERROR_CODES.notAllowed, 'consult-with-yourself', 'You cannot ask yourself for a consultation.');
