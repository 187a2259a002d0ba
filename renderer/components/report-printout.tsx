import { useEffect, useState } from 'react';
import { FormattedMessage, useIntl, type IntlShape } from 'react-intl';
import type { CaseParty, CaseView } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';
import { formatDateTime, genderLabel, identifierLabel, patientDisplayName, PRIORITY_LABEL } from './case-format.ts';
import { ReportView } from './report-view.tsx';

type VerifiedReport = NonNullable<CaseView['report']>;

/** "Dr. Layla Ahmed (Cardiology), Nordby Hospital": a name with what tells it apart and where, as the language writes it. */
function whoLine(intl: IntlShape, name: string, detail: string | undefined, place: string | undefined): string {
  return intl.formatMessage(
    { id: 'report.printout.who' },
    {
      name,
      hasDetail: detail ? 'yes' : 'no',
      detail: detail ?? '',
      hasPlace: place ? 'yes' : 'no',
      place: place ?? '',
    },
  );
}

/** The patient's identifiers as one list ("National id 12046112345"), and whether there are any. */
function identifiersOf(intl: IntlShape, patient: NonNullable<CaseView['patient']>) {
  const identifiers = (patient.identifiers ?? []).map((i) =>
    intl.formatMessage(
      { id: 'report.printout.identifier' },
      { label: identifierLabel(intl, i.system), value: i.value },
    ),
  );
  return {
    hasIdentifiers: identifiers.length > 0 ? 'yes' : 'no',
    identifiers: intl.formatList(identifiers, { type: 'conjunction', style: 'narrow' }),
  };
}

/** A party as far as the directory names them (with specialty and hospital). */
function partyLine(intl: IntlShape, party: CaseParty | undefined, fallbackId: string): string {
  if (!party?.name) return party?.practitionerId ?? fallbackId;
  return whoLine(intl, party.name, party.specialties, party.hospital);
}

/** The region's name as its CA's certificate gives it: the organisation, else the common name, else the whole DN. */
export function regionOf(issuer: string | undefined): string | undefined {
  if (!issuer) return undefined;
  const part = (key: string) => new RegExp(`(?:^|,)\\s*${key}=([^,]+)`).exec(issuer)?.[1]?.trim();
  return part('O') ?? part('CN') ?? issuer;
}

/** A digest in groups of four, as one reads it out over the phone. */
export const grouped = (hex: string) => hex.match(/.{1,4}/g)?.join(' ') ?? hex;

/**
 * The report as it is printed or saved as PDF, made from the verified report only: region, expert and applicant by
 * name, specialty and hospital, the patient, the question, the report itself, a signature block (signer, time,
 * certificate serial and issuer, what was verified) and the envelope's digest to check the printout against.
 * Hidden on screen; the only part of a case the print shows.
 */
export function ReportPrintout({ view, report }: { view: CaseView; report: VerifiedReport }) {
  const intl = useIntl();
  const t = useT();
  // The moment of printing, not of opening the case.
  const [printedAt, setPrintedAt] = useState(() => new Date());
  useEffect(() => {
    const now = () => setPrintedAt(new Date());
    window.addEventListener('beforeprint', now);
    return () => window.removeEventListener('beforeprint', now);
  }, []);
  const region = regionOf(report.signer.issuer);
  const patient = view.patient;
  return (
    <section
      className="report-printout print-only"
      aria-label={t('report.printout.label')}
      data-testid="report-printout"
    >
      <header className="printout-header">
        <p className="printout-region">
          {region ? t('report.printout.regionConsultation', { region }) : t('report.printout.consultation')}
        </p>
        <h1>{t('report.printout.title')}</h1>
        <p>
          {view.priority
            ? t('report.printout.caseWithUrgency', {
                caseId: view.caseId,
                requested: formatDateTime(intl, view.createdAt),
                urgency: intl.formatMessage({ id: PRIORITY_LABEL[view.priority] }),
              })
            : t('report.printout.case', { caseId: view.caseId, requested: formatDateTime(intl, view.createdAt) })}
        </p>
      </header>
      <dl className="printout-facts">
        <dt>{t('report.printout.expert')}</dt>
        <dd>{partyLine(intl, view.people?.expert, view.expertId)}</dd>
        <dt>{t('report.printout.askedBy')}</dt>
        <dd>{partyLine(intl, view.people?.applicant, view.applicantId)}</dd>
        <dt>{t('report.printout.patient')}</dt>
        <dd>
          {patient
            ? t('report.printout.patientLine', {
                name: patientDisplayName(intl, patient),
                hasBirthDate: patient.birthDate ? 'yes' : 'no',
                birthDate: patient.birthDate,
                gender: genderLabel(intl, patient.gender),
                ...identifiersOf(intl, patient),
              })
            : t('report.printout.unreadable')}
        </dd>
      </dl>
      <h2>{t('report.printout.question')}</h2>
      <p className="report-text">{view.reason ?? ''}</p>
      {view.question && <p className="report-text">{view.question}</p>}
      <h2>{t('report.printout.report')}</h2>
      <ReportView report={report} headingLevel={3} />
      <h2>{t('report.printout.signature')}</h2>
      <dl className="printout-facts" data-testid="printout-signature">
        <dt>{t('report.printout.signedBy')}</dt>
        <dd>
          {whoLine(
            intl,
            report.signer.name ?? report.signer.subject,
            report.signer.practitionerId,
            report.signer.hospital,
          )}
        </dd>
        <dt>{t('report.printout.signedAt')}</dt>
        <dd>{formatDateTime(intl, report.signer.signedAt)}</dd>
        <dt>{t('report.printout.certificate')}</dt>
        <dd>
          {(() => {
            const serial = report.signer.serialNumber ?? t('report.printout.notReadable');
            return report.signer.issuer
              ? t('report.printout.serialAndIssuer', { serial, issuer: report.signer.issuer })
              : t('report.printout.serial', { serial });
          })()}
        </dd>
        <dt>{t('report.printout.verified')}</dt>
        <dd>{view.role === 'applicant' ? t('report.printout.verifiedReceived') : t('report.printout.verifiedSent')}</dd>
      </dl>
      <p className="printout-digest">
        <FormattedMessage
          id="report.printout.digest"
          values={{ digest: <code data-testid="printout-digest">{grouped(report.envelopeSha256)}</code> }}
        />
      </p>
      <p className="printout-footer">
        {t('report.printout.printed', { printedAt: formatDateTime(intl, printedAt.toISOString()) })}
      </p>
    </section>
  );
}
