import { describe, expect, it } from 'vitest';
import { caseNotification } from './case-notification.ts';

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
});
