import { describe, expect, it } from 'vitest';
import { intlFor } from '../i18n/index.ts';
import { warningsFor, workstationWarnings } from './workstation-warnings.ts';

const now = new Date('2026-12-05T12:00:00Z');
const certificate = (use: 'signing' | 'encryption' | 'anchor', notAfter: string) => ({
  use,
  subject: 'CN=clinic-a.dr-ahmed',
  issuer: 'CN=Test Region Root CA',
  serialNumber: '01',
  notBefore: '2025-01-01T00:00:00Z',
  notAfter,
  state: 'valid' as const,
});
const quiet = { intl: intlFor('en'), certificates: [], directoryAsOf: now.toISOString(), connection: undefined, now };

describe('workstation warnings', () => {
  it('warns of own certificates within 30 days of expiry, and says what an expired one stops', () => {
    const warnings = workstationWarnings({
      ...quiet,
      certificates: [
        certificate('signing', '2026-12-20T00:00:00Z'),
        certificate('encryption', '2026-12-01T00:00:00Z'),
        certificate('anchor', '2026-12-06T00:00:00Z'),
        certificate('signing', '2027-01-05T00:00:00Z'),
      ],
    });
    expect(warnings.map((w) => [w.id, w.title])).toEqual([
      ['certificate-expiring', 'Your signing certificate expires in 15 days.'],
      ['certificate-expired', 'Your encryption certificate has expired.'],
    ]);
    expect(warnings[1]!.text).toContain('cannot encrypt new cases to you');
    expect(warnings[0]!.text).toContain('Settings → Your certificates');
    // 31 days ahead: not yet.
    expect(workstationWarnings({ ...quiet, certificates: [certificate('signing', '2027-01-05T12:00:01Z')] })).toEqual(
      [],
    );
  });

  it('warns of a directory not brought up to date for over a day', () => {
    expect(workstationWarnings({ ...quiet, directoryAsOf: '2026-12-04T12:30:00Z' })).toEqual([]);
    const [stale] = workstationWarnings({ ...quiet, directoryAsOf: '2026-12-03T09:00:00Z' });
    expect(stale).toMatchObject({ id: 'directory-stale', tone: 'warn' });
    expect(stale!.text).toContain('as of Dec 3, 2026 (2 d 3 h ago)');
  });

  it('warns of a broker unreachable for over 15 minutes, naming it', () => {
    const offline = (since: string) =>
      workstationWarnings({
        ...quiet,
        connection: { status: 'offline', since, host: 'broker.region.example:5671' },
      });
    expect(offline('2026-12-05T11:50:00Z')).toEqual([]);
    const [warning] = offline('2026-12-05T09:55:00Z');
    expect(warning).toMatchObject({ id: 'broker-unreachable', title: 'No connection to the region for 2 h 05 min.' });
    expect(warning!.text).toContain('broker.region.example:5671 does not answer');
    expect(workstationWarnings({ ...quiet, connection: { status: 'online', since: '2026-12-01T00:00:00Z' } })).toEqual(
      [],
    );
  });

  it('shows each warning where it matters, in the words of that place', () => {
    const en = intlFor('en');
    const all = workstationWarnings({
      intl: en,
      certificates: [certificate('signing', '2026-12-01T00:00:00Z'), certificate('encryption', '2026-12-20T00:00:00Z')],
      directoryAsOf: '2026-12-03T09:00:00Z',
      connection: { status: 'connecting', since: '2026-12-05T09:55:00Z' },
      now,
    });
    expect(all.map((w) => w.id)).toEqual([
      'certificate-expired',
      'certificate-expiring',
      'directory-stale',
      'broker-unreachable',
    ]);
    const directory = warningsFor(en, 'directory', all);
    expect(directory.map((w) => [w.id, w.title])).toEqual([['directory-stale', 'These results may be out of date.']]);
    expect(directory[0]!.text).toContain('not been brought up to date for over a day');
    const certificates = warningsFor(en, 'certificates', all);
    expect(certificates.map((w) => [w.id, w.use])).toEqual([
      ['certificate-expired', 'signing'],
      ['certificate-expiring', 'encryption'],
    ]);
    // Said beside the renewal form itself.
    expect(certificates[1]!.text).toContain('Renew it now below: ');
    expect(all[1]!.text).toContain('Renew it now in Settings → Your certificates: ');
    const compose = warningsFor(en, 'compose', all);
    expect(compose.map((w) => [w.id, w.title])).toEqual([
      ['certificate-expired', 'Sending will fail: your signing certificate has expired.'],
      ['broker-unreachable', 'No connection to the region for 2 h 05 min.'],
    ]);
    expect(compose[1]!.text).toContain('waits in the Outbox');
    // The request form speaks of sending: an expired encryption certificate is for the banner and Settings.
    const encryptionOnly = workstationWarnings({
      ...quiet,
      certificates: [certificate('encryption', '2026-12-01T00:00:00Z')],
    });
    expect(warningsFor(en, 'compose', encryptionOnly)).toEqual([]);
    expect(warningsFor(en, 'directory', [])).toEqual([]);
  });

  it("speaks the user's language", () => {
    const nb = intlFor('nb');
    const [expiring] = workstationWarnings({
      ...quiet,
      intl: nb,
      certificates: [certificate('signing', '2026-12-20T12:00:00Z')],
    });
    expect(expiring!.title).toBe('Signeringssertifikatet ditt går ut om 15 dager.');
    expect(expiring!.text).toContain('Forny det nå under Innstillinger → Dine sertifikater:');
    expect(warningsFor(nb, 'certificates', [expiring!])[0]!.text).toContain('Forny det nå nedenfor:');
  });
});
