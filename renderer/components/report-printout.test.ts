import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { RawIntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import type { CaseView } from '../../shared/api/index.ts';
import type { UiLocale } from '../../shared/i18n/index.ts';
import { intlFor } from '../i18n/intl.ts';
import { ReportPrintout } from './report-printout.tsx';

const report = {
  conclusion: 'Give ASA',
  diagnoses: [{ text: 'STEMI', code: 'I21.1', system: 'http://hl7.org/fhir/sid/icd-10' }],
  prescriptions: [{ medication: 'ASA', dose: 75, unit: 'mg', frequency: 1, period: 1, periodUnit: 'd' }],
  signer: {
    name: 'Test Ahmed',
    practitionerId: 'clinic-a.dr-ahmed',
    hospital: 'Nordby Hospital',
    subject: 'CN=clinic-a.dr-ahmed',
    serialNumber: 'ab12',
    issuer: 'CN=Test Region Root CA,O=TEST REGION',
    signedAt: '2024-05-01T11:00:00Z',
  },
  envelopeSha256: 'ab'.repeat(32),
} as unknown as NonNullable<CaseView['report']>;
const view = {
  caseId: 'c-1',
  role: 'applicant',
  expertId: 'clinic-a.dr-ahmed',
  applicantId: 'clinic-b.dr-berg',
  createdAt: '2024-05-01T10:00:00Z',
  priority: 'urgent',
  patient: { given: ['Kari'], family: 'Nilsen', birthDate: '1961-04-12', gender: 'female' },
  people: { expert: { practitionerId: 'clinic-a.dr-ahmed', name: 'Test Ahmed', hospital: 'Nordby Hospital' } },
  reason: 'Chest pain',
  report,
} as unknown as CaseView;

function printed(locale: UiLocale): string {
  const html = renderToStaticMarkup(
    createElement(RawIntlProvider, { value: intlFor(locale) }, createElement(ReportPrintout, { view, report })),
  );
  return html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('the printed report', () => {
  it('is in the user’s language, its dates and numbers too', () => {
    const nb = printed('nb');
    expect(nb).toContain('Konsultasjonsrapport');
    expect(nb).toContain('Kari Nilsen, født 1961-04-12, Kvinne');
    expect(nb).toContain('1. mai 2024');
    expect(nb).toContain('én gang i døgnet');
    expect(nb).not.toMatch(/Signed by|Printed|Consultation report/);
    const bn = printed('bn');
    expect(bn).toContain('পরামর্শ রিপোর্ট');
    expect(bn).toContain('৭৫ mg');
    expect(printed('zh-Hans')).toContain('2024年5月1日');
  });

  it('keeps the English the browser tests read', () => {
    const en = printed('en');
    expect(en).toContain('TEST REGION · telemedicine consultation');
    expect(en).toContain('Kari Nilsen, born 1961-04-12, Female');
    expect(en).toContain('Test Ahmed (clinic-a.dr-ahmed), Nordby Hospital');
    expect(en).toContain('serial ab12, issued by CN=Test Region Root CA');
  });
});
