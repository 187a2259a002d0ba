import { priorities, type CaseSummary } from '../../shared/api/index.ts';
import type { MessageId, Translate } from '../../shared/i18n/index.ts';

type Priority = (typeof priorities)[number];

const PRIORITY_WORD: Readonly<Record<Priority, MessageId>> = {
  routine: 'common.priority.routine',
  urgent: 'common.priority.urgent',
  asap: 'common.priority.asap',
  stat: 'common.priority.stat',
};

/**
 * The words of an OS notification about a case, in the user's language. Notifications show on lock screens and in
 * shared rooms, so they name no patient, no reason and no practitioner: only that something arrived and how urgent it
 * is.
 */
export function caseNotification(
  t: Translate,
  event: { summary: Pick<CaseSummary, 'role' | 'status' | 'priority'>; isNew: boolean },
): { title: string; body: string } | undefined {
  const priority = event.summary.priority;
  if (event.isNew && event.summary.role === 'expert')
    return {
      title: t('notify.newRequest.title'),
      body:
        priority && priority !== 'routine'
          ? t('notify.newRequest.bodyUrgent', { priority: t(PRIORITY_WORD[priority]) })
          : t('notify.newRequest.body'),
    };
  if (event.summary.role === 'applicant' && event.summary.status === 'completed')
    return { title: t('notify.report.title'), body: t('notify.report.body') };
  if (event.summary.role === 'applicant' && event.summary.status === 'more-information-needed')
    return { title: t('notify.moreInformation.title'), body: t('notify.moreInformation.body') };
  return undefined;
}

/** Urgent requests that wait too long to be accepted: how many, the most urgent, the longest wait; never who or why. */
export function escalationNotification(
  t: Translate,
  event: { cases: readonly { priority: string; waitingSince: string }[] },
  now: Date,
): { title: string; body: string } {
  // `priorities` runs from routine to stat: the most urgent is the highest.
  const top = event.cases.reduce((a, b) =>
    priorities.indexOf(b.priority as Priority) > priorities.indexOf(a.priority as Priority) ? b : a,
  ).priority as Priority;
  const oldest = Math.min(...event.cases.map((c) => new Date(c.waitingSince).getTime()));
  const minutes = Math.max(1, Math.round((now.getTime() - oldest) / 60_000));
  const values = { count: event.cases.length, priority: t(PRIORITY_WORD[top] ?? PRIORITY_WORD.urgent), minutes };
  return event.cases.length === 1
    ? { title: t('notify.escalatedOne.title', values), body: t('notify.escalatedOne.body', values) }
    : { title: t('notify.escalatedMany.title', values), body: t('notify.escalatedMany.body', values) };
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
