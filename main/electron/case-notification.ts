import { priorities, type CaseSummary } from '../../shared/api/index.ts';

type Priority = (typeof priorities)[number];

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

/** Urgent requests that wait too long to be accepted: how many, the most urgent, the longest wait; never who or why. */
export function escalationNotification(
  event: { cases: readonly { priority: string; waitingSince: string }[] },
  now: Date,
): { title: string; body: string } {
  // `priorities` runs from routine to stat: the most urgent is the highest.
  const top = event.cases.reduce((a, b) =>
    priorities.indexOf(b.priority as Priority) > priorities.indexOf(a.priority as Priority) ? b : a,
  ).priority;
  const oldest = Math.min(...event.cases.map((c) => new Date(c.waitingSince).getTime()));
  const minutes = Math.max(1, Math.round((now.getTime() - oldest) / 60_000));
  const count = event.cases.length;
  return {
    title: count === 1 ? `${top.toUpperCase()} request waiting` : `${count} urgent requests waiting`,
    body:
      count === 1
        ? `A ${top.toUpperCase()} consultation request has waited ${minutes} min to be accepted. Open RTS Workstation.`
        : `${count} urgent consultation requests (the most urgent ${top.toUpperCase()}) wait to be accepted, the oldest for ${minutes} min. Open RTS Workstation.`,
  };
}

/**
 * What a click on a notification opens: the case it is about, or the inbox when it is about several (the escalated
 * requests lead the inbox's New tab).
 */
export function notificationTarget(event: { summary: { caseId: string } } | { cases: readonly { caseId: string }[] }): {
  caseId?: string;
} {
  if ('summary' in event) return { caseId: event.summary.caseId };
  return event.cases.length === 1 ? { caseId: event.cases[0]!.caseId } : {};
}
