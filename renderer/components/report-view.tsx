import type { ReportInput } from '../../shared/api/index.ts';
import { useIntl } from 'react-intl';
import { formatNumber, frequencyText, ICD10_SYSTEM } from './case-format.ts';

export type ReportContent = Pick<ReportInput, 'findings' | 'conclusion' | 'diagnoses' | 'prescriptions'>;

/**
 * The content of an expert's report: findings, conclusion, diagnoses, prescriptions. The same rendering serves the
 * editor's preview (what will be signed) and the received report (what was verified), so the two read alike.
 */
export function ReportView({ report, headingLevel = 4 }: { report: ReportContent; headingLevel?: 3 | 4 }) {
  const intl = useIntl();
  const H = headingLevel === 3 ? 'h3' : 'h4';
  const diagnoses = report.diagnoses ?? [];
  const prescriptions = report.prescriptions ?? [];
  return (
    <div className="report-view">
      {report.findings && (
        <>
          <H>Findings</H>
          <p className="report-text" data-testid="report-findings">
            {report.findings}
          </p>
        </>
      )}
      <H>Conclusion</H>
      <p className="report-text" data-testid="report-conclusion">
        {report.conclusion}
      </p>
      <H>Diagnoses</H>
      {diagnoses.length === 0 ? (
        <p className="hint">None given.</p>
      ) : (
        <ul className="diagnosis-list" aria-label="Diagnoses">
          {diagnoses.map((d, i) => (
            <li key={i}>
              {d.code && (
                <span className="diagnosis-code">
                  {d.code}
                  {d.system && d.system !== ICD10_SYSTEM ? ` (${d.system})` : ''}
                </span>
              )}
              {d.code && ' '}
              {d.text}
            </li>
          ))}
        </ul>
      )}
      <H>Prescriptions</H>
      {prescriptions.length === 0 ? (
        <p className="hint">None.</p>
      ) : (
        <table className="data-table" aria-label="Prescriptions">
          <thead>
            <tr>
              <th scope="col">Medication</th>
              <th scope="col">Dose</th>
              <th scope="col">How often</th>
              <th scope="col">Route</th>
              <th scope="col">Instructions</th>
            </tr>
          </thead>
          <tbody>
            {prescriptions.map((p, i) => (
              <tr key={i}>
                <td>{p.medication}</td>
                <td>
                  {formatNumber(intl, p.dose)} {p.unit}
                </td>
                <td>{frequencyText(intl, p.frequency, p.period, p.periodUnit)}</td>
                <td>{p.route || '—'}</td>
                <td>{p.instructions || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
