import { useEffect, useState } from 'react';
import { useIntl } from 'react-intl';
import type { CaseParty, CaseView } from '../../shared/api/index.ts';
import { formatDateTime, genderLabel, identifierLabel, patientDisplayName, PRIORITY_LABEL } from './case-format.ts';
import { ReportView } from './report-view.tsx';

type VerifiedReport = NonNullable<CaseView['report']>;

/** "Dr. Layla Ahmed (Cardiology), Nordby Hospital", as far as the directory names them. */
function partyLine(party: CaseParty | undefined, fallbackId: string): string {
  if (!party?.name) return party?.practitionerId ?? fallbackId;
  return `${party.name}${party.specialties ? ` (${party.specialties})` : ''}${party.hospital ? `, ${party.hospital}` : ''}`;
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
    <section className="report-printout print-only" aria-label="Printed report" data-testid="report-printout">
      <header className="printout-header">
        <p className="printout-region">
          {region ? `${region} · telemedicine consultation` : 'Telemedicine consultation'}
        </p>
        <h1>Consultation report</h1>
        <p>
          Case {view.caseId} · requested {formatDateTime(intl, view.createdAt)}
          {view.priority && ` · urgency ${intl.formatMessage({ id: PRIORITY_LABEL[view.priority] })}`}
        </p>
      </header>
      <dl className="printout-facts">
        <dt>Expert</dt>
        <dd>{partyLine(view.people?.expert, view.expertId)}</dd>
        <dt>Asked by</dt>
        <dd>{partyLine(view.people?.applicant, view.applicantId)}</dd>
        <dt>Patient</dt>
        <dd>
          {patient
            ? [
                patientDisplayName(intl, patient),
                patient.birthDate && `born ${patient.birthDate}`,
                genderLabel(intl, patient.gender),
                ...(patient.identifiers ?? []).map((i) => `${identifierLabel(intl, i.system)} ${i.value}`),
              ]
                .filter(Boolean)
                .join(', ')
            : 'The request could not be read.'}
        </dd>
      </dl>
      <h2>Question</h2>
      <p className="report-text">{view.reason ?? ''}</p>
      {view.question && <p className="report-text">{view.question}</p>}
      <h2>Report</h2>
      <ReportView report={report} headingLevel={3} />
      <h2>Signature</h2>
      <dl className="printout-facts" data-testid="printout-signature">
        <dt>Signed by</dt>
        <dd>
          {report.signer.name ?? report.signer.subject}
          {report.signer.practitionerId && ` (${report.signer.practitionerId})`}
          {report.signer.hospital && `, ${report.signer.hospital}`}
        </dd>
        <dt>Signed at</dt>
        <dd>{formatDateTime(intl, report.signer.signedAt)}</dd>
        <dt>Certificate</dt>
        <dd>
          serial {report.signer.serialNumber ?? 'not readable'}
          {report.signer.issuer && `, issued by ${report.signer.issuer}`}
        </dd>
        <dt>Verified</dt>
        <dd>
          {view.role === 'applicant'
            ? "The signature, and the certificate's chain to the region's CA and its revocation list, were checked by the receiving workstation before this report was shown."
            : "Signed on this workstation; the signature and the certificate's chain to the region's CA were checked again when the case was opened here."}
        </dd>
      </dl>
      <p className="printout-digest">
        To check this printout against the message it was made from: the envelope&apos;s SHA-256 is{' '}
        <code data-testid="printout-digest">{grouped(report.envelopeSha256)}</code>.
      </p>
      <p className="printout-footer">Printed {formatDateTime(intl, printedAt.toISOString())} by RTS Workstation.</p>
    </section>
  );
}
