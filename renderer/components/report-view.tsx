import type { ReportInput } from '../../shared/api/index.ts';
import { useIntl } from 'react-intl';
import { useT } from '../i18n/index.ts';
import { formatNumber, frequencyText, ICD10_SYSTEM } from './case-format.ts';

export type ReportContent = Pick<ReportInput, 'findings' | 'conclusion' | 'diagnoses' | 'prescriptions'>;

/**
 * The content of an expert's report: findings, conclusion, diagnoses, prescriptions. The same rendering serves the
 * editor's preview (what will be signed) and the received report (what was verified), so the two read alike.
 */
export function ReportView({ report, headingLevel = 4 }: { report: ReportContent; headingLevel?: 3 | 4 }) {
  const intl = useIntl();
  const t = useT();
  const H = headingLevel === 3 ? 'h3' : 'h4';
  const diagnoses = report.diagnoses ?? [];
  const prescriptions = report.prescriptions ?? [];
  return (
    <div className="report-view">
      {report.findings && (
        <>
          <H>{t('report.view.findings')}</H>
          <p className="report-text" data-testid="report-findings">
            {report.findings}
          </p>
        </>
      )}
      <H>{t('report.view.conclusion')}</H>
      <p className="report-text" data-testid="report-conclusion">
        {report.conclusion}
      </p>
      <H>{t('report.view.diagnoses')}</H>
      {diagnoses.length === 0 ? (
        <p className="hint">{t('report.view.noDiagnoses')}</p>
      ) : (
        <ul className="diagnosis-list" aria-label={t('report.view.diagnoses')}>
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
      <H>{t('report.view.prescriptions')}</H>
      {prescriptions.length === 0 ? (
        <p className="hint">{t('report.view.noPrescriptions')}</p>
      ) : (
        <table className="data-table" aria-label={t('report.view.prescriptions')}>
          <thead>
            <tr>
              <th scope="col">{t('report.view.medication')}</th>
              <th scope="col">{t('report.view.dose')}</th>
              <th scope="col">{t('report.view.howOften')}</th>
              <th scope="col">{t('report.view.route')}</th>
              <th scope="col">{t('report.view.instructions')}</th>
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
