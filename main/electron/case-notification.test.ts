import { describe, expect, it } from 'vitest';
import { translatorFor } from '../../shared/i18n/index.ts';
import { caseNotification, escalationNotification, notificationTarget } from './case-notification.ts';

const t = translatorFor('en');

describe('case notifications', () => {
  it('announce a new request to the expert with its urgency and nothing about the patient', () => {
    expect(
      caseNotification(t, { summary: { role: 'expert', status: 'requested', priority: 'stat' }, isNew: true }),
    ).toEqual({ title: 'New consultation request', body: 'A consultation request (STAT) is waiting in your inbox.' });
  });

  it("announce a report to the applicant, and stay silent for the expert's own steps", () => {
    expect(caseNotification(t, { summary: { role: 'applicant', status: 'completed' }, isNew: false })?.title).toBe(
      'Report received',
    );
    expect(caseNotification(t, { summary: { role: 'expert', status: 'accepted' }, isNew: false })).toBeUndefined();
  });

  it('escalate urgent requests with their number, urgency and waiting time only, in one notification', () => {
    const now = new Date('2026-12-05T10:16:20Z');
    expect(
      escalationNotification(t, { cases: [{ priority: 'stat', waitingSince: '2026-12-05T10:00:00Z' }] }, now),
    ).toEqual({
      title: 'STAT request waiting',
      body: 'A consultation request (STAT) has waited 16 min to be accepted. Open RTS Workstation.',
    });
    expect(
      escalationNotification(
        t,
        {
          cases: [
            { priority: 'urgent', waitingSince: '2026-12-05T09:30:00Z' },
            { priority: 'asap', waitingSince: '2026-12-05T10:00:00Z' },
          ],
        },
        now,
      ),
    ).toEqual({
      title: '2 urgent requests waiting',
      body: '2 urgent consultation requests (the most urgent ASAP) wait to be accepted, the oldest for 46 min. Open RTS Workstation.',
    });
  });

  it("speak the user's language, with its digits", () => {
    const now = new Date('2026-12-05T10:16:20Z');
    const cases = [
      { priority: 'urgent', waitingSince: '2026-12-05T09:30:00Z' },
      { priority: 'stat', waitingSince: '2026-12-05T10:00:00Z' },
    ];
    expect(escalationNotification(translatorFor('zh-Hans'), { cases }, now).title).toBe('2 份紧急申请等待中');
    expect(escalationNotification(translatorFor('bn'), { cases }, now).body).toContain('৪৬ মিনিট');
    expect(
      caseNotification(translatorFor('nb'), { summary: { role: 'applicant', status: 'completed' }, isNew: false }),
    ).toEqual({
      title: 'Rapport mottatt',
      body: 'En ekspert har sendt en signert rapport. Åpne RTS Workstation for å lese den.',
    });
  });

  it('open, when clicked, the case they are about, or the inbox for several', () => {
    const one = '3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b';
    const other = '7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10';
    expect(notificationTarget({ summary: { caseId: one } })).toEqual({ caseId: one });
    expect(notificationTarget({ cases: [{ caseId: one }] })).toEqual({ caseId: one });
    expect(notificationTarget({ cases: [{ caseId: one }, { caseId: other }] })).toEqual({});
  });
});
