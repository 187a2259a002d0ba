import type { CaseSummary } from '../../shared/api/index.ts';

/**
 * The words of an OS notification about a case. Notifications show on lock screens and in shared rooms, so they
 * name no patient, no reason and no practitioner: only that something arrived and how urgent it is.
 */
export function caseNotification(event: {
  summary: Pick<CaseSummary, 'role' | 'status' | 'priority'>;
  isNew: boolean;
}): { title: string; body: string } | undefined {
  const urgent = event.summary.priority && event.summary.priority !== 'routine' ? ` (${event.summary.priority})` : '';
  if (event.isNew && event.summary.role === 'expert')
    return { title: 'New consultation request', body: `A consultation request${urgent} is waiting in your inbox.` };
  if (event.summary.role === 'applicant' && event.summary.status === 'completed')
    return { title: 'Report received', body: 'An expert has sent a signed report. Open RTS Workstation to read it.' };
  if (event.summary.role === 'applicant' && event.summary.status === 'more-information-needed')
    return { title: 'Information requested', body: 'An expert asks for more information about a case.' };
  return undefined;
}

/** An urgent request that waits too long to be accepted: its urgency and how long, never who or why. */
export function escalationNotification(
  event: { priority: string; waitingSince: string },
  now: Date,
): {
  title: string;
  body: string;
} {
  const minutes = Math.max(1, Math.round((now.getTime() - new Date(event.waitingSince).getTime()) / 60_000));
  return {
    title: `${event.priority.toUpperCase()} request waiting`,
    body: `A ${event.priority.toUpperCase()} consultation request has waited ${minutes} min to be accepted. Open RTS Workstation.`,
  };
}
