import { describe, expect, it } from 'vitest';
import { caseNotification, escalationNotification, notificationTarget } from './case-notification.ts';

describe('case notifications', () => {
  it('announce a new request to the expert with its urgency and nothing about the patient', () => {
    expect(
      caseNotification({ summary: { role: 'expert', status: 'requested', priority: 'stat' }, isNew: true }),
    ).toEqual({ title: 'New consultation request', body: 'A consultation request (stat) is waiting in your inbox.' });
  });

  it("announce a report to the applicant, and stay silent for the expert's own steps", () => {
    expect(caseNotification({ summary: { role: 'applicant', status: 'completed' }, isNew: false })?.title).toBe(
      'Report received',
    );
    expect(caseNotification({ summary: { role: 'expert', status: 'accepted' }, isNew: false })).toBeUndefined();
  });

  it('escalate urgent requests with their number, urgency and waiting time only, in one notification', () => {
    const now = new Date('2026-12-05T10:16:20Z');
    expect(
      escalationNotification({ cases: [{ priority: 'stat', waitingSince: '2026-12-05T10:00:00Z' }] }, now),
    ).toEqual({
      title: 'STAT request waiting',
      body: 'A STAT consultation request has waited 16 min to be accepted. Open RTS Workstation.',
    });
    expect(
      escalationNotification(
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

  it('open, when clicked, the case they are about, or the inbox for several', () => {
    const one = '3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b';
    const other = '7d0c7a4e-1c57-4a43-9d43-1d5a1c1f3a10';
    expect(notificationTarget({ summary: { caseId: one } })).toEqual({ caseId: one });
    expect(notificationTarget({ cases: [{ caseId: one }] })).toEqual({ caseId: one });
    expect(notificationTarget({ cases: [{ caseId: one }, { caseId: other }] })).toEqual({});
  });
});
