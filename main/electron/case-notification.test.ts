import { describe, expect, it } from 'vitest';
import { caseNotification, escalationNotification } from './case-notification.ts';

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
});
