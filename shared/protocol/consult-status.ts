/**
 * The consultation lifecycle. Each step travels as a `consult.status` message (a report completes the case too).
 * `by` says whose workstation may send it; the transition table is what receivers enforce (`out-of-order`).
 */
export const CONSULT_STATUSES = {
  requested: 'requested',
  accepted: 'accepted',
  declined: 'declined',
  moreInformationNeeded: 'more-information-needed',
  informationProvided: 'information-provided',
  redirected: 'redirected',
  cancelled: 'cancelled',
  completed: 'completed',
} as const;

export type ConsultStatus = (typeof CONSULT_STATUSES)[keyof typeof CONSULT_STATUSES];
/** Statuses a `consult.status` message may carry (`requested` is the request itself). */
export type ConsultStatusUpdate = Exclude<ConsultStatus, 'requested'>;
export const CONSULT_STATUS_UPDATES = Object.values(CONSULT_STATUSES).filter(
  (s): s is ConsultStatusUpdate => s !== 'requested',
);

export type ConsultParty = 'expert' | 'applicant';

export const CONSULT_STATUS_SENDER: Readonly<Record<ConsultStatusUpdate, ConsultParty>> = {
  accepted: 'expert',
  declined: 'expert',
  'more-information-needed': 'expert',
  redirected: 'expert',
  completed: 'expert',
  'information-provided': 'applicant',
  cancelled: 'applicant',
};

/** FHIR Task.status that represents each step (the step itself is in Task.businessStatus). */
export const TASK_STATUS_OF: Readonly<Record<ConsultStatus, string>> = {
  requested: 'requested',
  accepted: 'accepted',
  declined: 'rejected',
  'more-information-needed': 'on-hold',
  'information-provided': 'in-progress',
  redirected: 'rejected',
  cancelled: 'cancelled',
  completed: 'completed',
};

const TRANSITIONS: Readonly<Record<ConsultStatus, readonly ConsultStatusUpdate[]>> = {
  requested: ['accepted', 'declined', 'redirected', 'more-information-needed', 'cancelled', 'completed'],
  accepted: ['more-information-needed', 'completed', 'cancelled'],
  'more-information-needed': ['information-provided', 'declined', 'cancelled'],
  'information-provided': ['accepted', 'more-information-needed', 'declined', 'completed', 'cancelled'],
  declined: [],
  redirected: [],
  cancelled: [],
  completed: [],
};

export function canTransition(from: ConsultStatus, to: ConsultStatusUpdate): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(status: ConsultStatus): boolean {
  return TRANSITIONS[status].length === 0;
}
