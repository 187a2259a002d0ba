import { Fragment, useId, useMemo, useState, type ReactNode } from 'react';
import { FormattedMessage, useIntl, type IntlShape } from 'react-intl';
import { COMMANDS, EVENTS, type CaseAction, type CaseView } from '../../shared/api/index.ts';
import {
  CONSULT_STATUS_SENDER,
  canTransition,
  isTerminal,
  type ConsultStatus,
  type ConsultStatusUpdate,
} from '../../shared/protocol/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { AttachmentPicker, type PickedAttachment } from '../components/attachment-picker.tsx';
import { AttachmentViewer } from '../components/attachment-viewer.tsx';
import {
  ageInYears,
  formatDateTime,
  formatNumber,
  genderLabel,
  identifierLabel,
  patientDisplayName,
  PRIORITY_LABEL,
  PRIORITY_TONE,
  STATE_TEXT,
  statusLabel,
  statusTone,
  unitDisplay,
  vitalLabelByCode,
} from '../components/case-format.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { LookAlikeBadge } from '../components/look-alike.tsx';
import { CertificateCheckBadge } from '../components/certificate-check.tsx';
import { ReportPrintout } from '../components/report-printout.tsx';
import { ReportView } from '../components/report-view.tsx';
import { TrendPlot, type TrendSeries } from '../components/trend-plot.tsx';
import { WaveformPlot } from '../components/waveform-plot.tsx';
import { useAction, useCommand, useEvent } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import type { Navigate } from '../navigation.ts';
import { attentionText, reasonLabel } from '../components/reason-words.ts';
import { ReportEditor } from './report-editor.tsx';
import './case.css';

type Message = CaseView['messages'][number];

/** One case, decrypted on open: patient, reason, vitals and waveforms, attachments, signatures, history, actions, report. */
export function CaseScreen({ api, caseId, navigate }: { api: RtsApi; caseId: string; navigate: Navigate }) {
  const opened = useCommand(api, COMMANDS.openCase, { caseId });
  const { reload } = opened;
  const t = useT();
  useEvent(api, EVENTS.caseChanged, (payload) => {
    if (payload.summary.caseId === caseId) reload();
  });
  if (!opened.value) {
    return (
      <div className="screen-stack case-screen">
        <BackToInbox navigate={navigate} />
        {opened.error ? <ErrorMessage error={opened.error} /> : <p role="status">{t('case.opening')}</p>}
      </div>
    );
  }
  return <CaseDetails api={api} view={opened.value} refreshing={opened.loading} reload={reload} navigate={navigate} />;
}

function BackToInbox({ navigate }: { navigate: Navigate }) {
  const t = useT();
  return (
    <button type="button" className="link no-print case-back" onClick={() => navigate({ name: 'inbox' })}>
      {t('case.backToInbox')}
    </button>
  );
}

function patientName(intl: IntlShape, view: CaseView): string | undefined {
  return view.patient && patientDisplayName(intl, view.patient);
}

function peerOf(view: CaseView): string {
  return view.role === 'expert' ? view.applicantId : view.expertId;
}

/** The message that carries the report (the last one: a case has at most one report that counts). */
function reportMessage(view: CaseView): Message | undefined {
  return view.messages.findLast((m) => m.type === 'consult.report');
}

function CaseDetails({
  api,
  view,
  refreshing,
  reload,
  navigate,
}: {
  api: RtsApi;
  view: CaseView;
  refreshing: boolean;
  reload: () => void;
  navigate: Navigate;
}) {
  const t = useT();
  // A report begun earlier (kept as a draft) opens again with the case.
  const reportDraft = useCommand(api, COMMANDS.getDraft, { key: `report:${view.caseId}` });
  const [chosen, setEditing] = useState<boolean>();
  const editing = chosen ?? reportDraft.value?.body !== undefined;
  const canWriteReport =
    view.role === 'expert' && (view.status === 'accepted' || view.status === 'information-provided') && !view.report;
  const hasReportSection = view.report !== undefined || reportMessage(view) !== undefined;
  return (
    <div
      className="screen-stack case-screen"
      aria-busy={refreshing}
      data-testid="case-screen"
      data-case-id={view.caseId}
    >
      <CaseHeader view={view} navigate={navigate} />
      {hasReportSection && <ReportSection api={api} view={view} />}
      {view.report && isTrustworthyReport(view) && <ReportPrintout view={view} report={view.report} />}
      <CaseActions
        api={api}
        view={view}
        reload={reload}
        editing={editing && canWriteReport}
        onWriteReport={() => setEditing(!editing)}
        canWriteReport={canWriteReport}
      />
      {editing && canWriteReport && (
        <ReportEditor
          api={api}
          caseId={view.caseId}
          applicantId={view.applicantId}
          onSent={() => {
            setEditing(false);
            reload();
          }}
        />
      )}
      <PatientPanel view={view} navigate={navigate} />
      <RequestPanel view={view} />
      <VitalsPanel view={view} />
      {view.waveforms.length > 0 && (
        <section className="panel" aria-labelledby={`${view.caseId}-waveforms`}>
          <h3 id={`${view.caseId}-waveforms`}>{t('case.sensorData')}</h3>
          {view.waveforms.map((w, i) => (
            <WaveformPlot key={i} waveform={w} />
          ))}
        </section>
      )}
      <section className="panel" aria-labelledby={`${view.caseId}-attachments`}>
        <h3 id={`${view.caseId}-attachments`}>{t('case.attachments')}</h3>
        <AttachmentViewer
          api={api}
          caseId={view.caseId}
          attachments={view.attachments}
          label={t('case.attachmentsOfRequest')}
        />
      </section>
      <HistoryPanel api={api} view={view} navigate={navigate} />
    </div>
  );
}

function CaseHeader({ view, navigate }: { view: CaseView; navigate: Navigate }) {
  const intl = useIntl();
  const t = useT();
  const name = patientName(intl, view);
  return (
    <header className="case-header">
      <BackToInbox navigate={navigate} />
      <h2 className="screen-title">{name ? t('case.titleFor', { name }) : t('case.title')}</h2>
      <div className="case-badges">
        <span className="badge" data-tone={statusTone(view.status)} data-testid="case-status">
          {statusLabel(intl, view.status)}
        </span>
        {view.priority && (
          <span className="badge" data-tone={PRIORITY_TONE[view.priority]} data-testid="case-priority">
            {t('case.urgency', { urgency: intl.formatMessage({ id: PRIORITY_LABEL[view.priority] }) })}
          </span>
        )}
        {view.attention && (
          <span className="badge" data-tone="bad" data-testid="case-attention">
            {attentionText(intl, view.attention)}
          </span>
        )}
      </div>
      <div className="case-role" data-testid="case-role">
        <FormattedMessage
          id={view.role === 'applicant' ? 'case.youAsked' : 'case.askedBy'}
          values={{
            party: (
              <PartyName
                party={view.otherParty}
                practitionerId={view.role === 'applicant' ? view.expertId : view.applicantId}
              />
            ),
          }}
        />
        <span className="hint">
          {' '}
          {t('case.openedAndChanged', {
            opened: formatDateTime(intl, view.createdAt),
            changed: formatDateTime(intl, view.updatedAt),
          })}
        </span>
        <WhoDetails
          label={t('case.directoryDetails')}
          facts={[
            [t('case.directoryId'), view.role === 'applicant' ? view.expertId : view.applicantId],
            [t('case.specialty'), view.otherParty?.specialties],
          ]}
        />
      </div>
    </header>
  );
}

function PatientPanel({ view, navigate }: { view: CaseView; navigate: Navigate }) {
  const intl = useIntl();
  const t = useT();
  const [today] = useState(() => new Date());
  const patient = view.patient;
  const age = patient && ageInYears(patient.birthDate, today);
  return (
    <section className="panel" aria-labelledby={`${view.caseId}-patient`}>
      <h3 id={`${view.caseId}-patient`}>{t('case.patient')}</h3>
      {!patient ? (
        <p className="hint">{t('case.patient.unreadable')}</p>
      ) : (
        <dl className="facts" data-testid="patient-summary">
          <dt>{t('case.patient.name')}</dt>
          <dd>{patientDisplayName(intl, patient)}</dd>
          <dt>{t('case.patient.sex')}</dt>
          <dd>{genderLabel(intl, patient.gender)}</dd>
          <dt>{t('case.patient.birthDate')}</dt>
          <dd>
            {age === undefined
              ? patient.birthDate
              : t('case.patient.birthDateAndAge', { birthDate: patient.birthDate, age })}
          </dd>
          {(patient.identifiers ?? []).map((identifier) => (
            <IdentifierFact
              key={`${identifier.system}|${identifier.value}`}
              system={identifier.system}
              value={identifier.value}
            />
          ))}
        </dl>
      )}
      {patient && (
        <button
          type="button"
          className="secondary no-print"
          onClick={() => navigate({ name: 'compose', from: { caseId: view.caseId, take: 'patient' } })}
        >
          {t('case.patient.newRequest')}
        </button>
      )}
    </section>
  );
}

function IdentifierFact({ system, value }: { system: string | undefined; value: string }) {
  const intl = useIntl();
  return (
    <>
      <dt>{identifierLabel(intl, system)}</dt>
      <dd>{value}</dd>
    </>
  );
}

function RequestPanel({ view }: { view: CaseView }) {
  const t = useT();
  if (view.reason === undefined && view.question === undefined) return null;
  return (
    <section className="panel" aria-labelledby={`${view.caseId}-request`}>
      <h3 id={`${view.caseId}-request`}>{t('case.request.title')}</h3>
      <dl className="facts">
        <dt>{t('case.request.reason')}</dt>
        <dd className="case-text" data-testid="case-reason">
          {view.reason}
        </dd>
        {view.question && (
          <>
            <dt>{t('case.request.question')}</dt>
            <dd className="case-text" data-testid="case-question">
              {view.question}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

interface VitalRow {
  readonly key: string;
  readonly at: string;
  readonly measure: string;
  readonly value: string;
  readonly unit: string;
}

function VitalsPanel({ view }: { view: CaseView }) {
  const intl = useIntl();
  const t = useT();
  const { rows, trends } = useMemo(() => {
    const list: VitalRow[] = [
      ...view.vitals.map((v, i) => ({
        key: `v${i}`,
        at: v.effective,
        measure: vitalLabelByCode(intl, v.code, v.display),
        value: formatNumber(intl, v.value),
        unit: unitDisplay(v.unit),
      })),
      ...view.bloodPressure.map((b, i) => ({
        key: `bp${i}`,
        at: b.effective,
        measure: intl.formatMessage({ id: 'case.vitals.bloodPressure' }),
        value: `${formatNumber(intl, b.systolic)}/${formatNumber(intl, b.diastolic)}`,
        unit: 'mmHg',
      })),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.measure.localeCompare(b.measure, intl.locale));
    const byCode = new Map<string, { title: string; unit: string; points: { at: string; value: number }[] }>();
    for (const v of view.vitals) {
      const entry = byCode.get(v.code) ?? {
        title: vitalLabelByCode(intl, v.code, v.display),
        unit: unitDisplay(v.unit),
        points: [],
      };
      entry.points.push({ at: v.effective, value: v.value });
      byCode.set(v.code, entry);
    }
    const plots: { key: string; title: string; unit: string; series: TrendSeries[] }[] = [...byCode.entries()]
      .filter(([, e]) => e.points.length >= 2)
      .map(([code, e]) => ({
        key: code,
        title: e.title,
        unit: e.unit,
        series: [{ label: e.title, points: e.points }],
      }));
    if (view.bloodPressure.length >= 2) {
      plots.push({
        key: 'bp',
        title: intl.formatMessage({ id: 'case.vitals.bloodPressure' }),
        unit: 'mmHg',
        series: [
          {
            label: intl.formatMessage({ id: 'case.vitals.systolic' }),
            points: view.bloodPressure.map((b) => ({ at: b.effective, value: b.systolic })),
          },
          {
            label: intl.formatMessage({ id: 'case.vitals.diastolic' }),
            points: view.bloodPressure.map((b) => ({ at: b.effective, value: b.diastolic })),
          },
        ],
      });
    }
    return { rows: list, trends: plots };
  }, [view.vitals, view.bloodPressure, intl]);

  return (
    <section className="panel" aria-labelledby={`${view.caseId}-vitals`}>
      <h3 id={`${view.caseId}-vitals`}>{t('case.vitals.title')}</h3>
      {rows.length === 0 ? (
        <p className="hint">{t('case.vitals.none')}</p>
      ) : (
        <table className="data-table" aria-label={t('case.vitals.title')}>
          <thead>
            <tr>
              <th scope="col">{t('case.vitals.time')}</th>
              <th scope="col">{t('case.vitals.measure')}</th>
              <th scope="col">{t('case.vitals.value')}</th>
              <th scope="col">{t('case.vitals.unit')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>{formatDateTime(intl, r.at)}</td>
                <td>{r.measure}</td>
                <td className="numeric">{r.value}</td>
                <td>{r.unit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {trends.length > 0 && (
        <div className="plot-grid">
          {trends.map((t) => (
            <TrendPlot key={t.key} title={t.title} unit={t.unit} series={t.series} />
          ))}
        </div>
      )}
    </section>
  );
}

/** Who signed a message, in words: only for a message whose signature the core verified. */
/** What identifies a person beyond their name, on demand (a disclosure the keyboard and screen readers reach). */
function WhoDetails({ label, facts }: { label: string; facts: readonly (readonly [string, string | undefined])[] }) {
  const shown = facts.filter((f): f is readonly [string, string] => Boolean(f[1]));
  if (shown.length === 0) return null;
  return (
    <details className="who-details">
      <summary>{label}</summary>
      <dl className="facts">
        {shown.map(([term, value]) => (
          <Fragment key={term}>
            <dt>{term}</dt>
            <dd>{value}</dd>
          </Fragment>
        ))}
      </dl>
    </details>
  );
}

/** The other party by name and hospital; their directory id on demand (the id alone where no name is known). */
function PartyName({ party, practitionerId }: { party: CaseView['otherParty']; practitionerId: string }) {
  const t = useT();
  if (!party?.name) return <span>{practitionerId}</span>;
  return (
    <span
      title={
        party.specialties
          ? t('case.party.idAndSpecialty', { id: practitionerId, specialties: party.specialties })
          : t('case.party.id', { id: practitionerId })
      }
    >
      {party.hospital ? (
        <FormattedMessage
          id="case.party.nameAndHospital"
          values={{ name: party.name, hospital: party.hospital, strong }}
        />
      ) : (
        <strong>{party.name}</strong>
      )}
    </span>
  );
}

const strong = (chunks: ReactNode[]) => <strong>{chunks}</strong>;

/**
 * The person who signed, as the directory names them (the certificate names their directory id), with their hospital;
 * the certificate's subject where the directory does not list them (any more). Directory id and subject on demand.
 */
function SignerName({ signer }: { signer: NonNullable<CaseView['messages'][number]['signer']> }) {
  const t = useT();
  if (!signer.name) return <span title={signer.subject}>{signer.practitionerId ?? signer.subject}</span>;
  return (
    <span title={t('case.signer.idAndCertificate', { id: signer.practitionerId ?? '', subject: signer.subject })}>
      {signer.hospital
        ? t('case.signer.nameAndHospital', { name: signer.name, hospital: signer.hospital })
        : signer.name}
    </span>
  );
}

/** The signer's directory id and certificate, on demand. */
function SignerDetails({ signer }: { signer: NonNullable<CaseView['messages'][number]['signer']> }) {
  const t = useT();
  return (
    <WhoDetails
      label={t('case.signer.details')}
      facts={[
        [t('case.directoryId'), signer.practitionerId],
        [t('case.signer.certificate'), signer.subject],
        [t('case.signer.serialNumber'), signer.serialNumber],
        [t('case.signer.issuedBy'), signer.issuer],
      ]}
    />
  );
}

/** "Signed by … at …; signature and certificate chain to the region's CA checked": what a verified signature means. */
function SignedBy({ signer }: { signer: NonNullable<CaseView['messages'][number]['signer']> }) {
  const intl = useIntl();
  return (
    <FormattedMessage
      id="case.signedBy"
      values={{ signer: <SignerName signer={signer} />, signedAt: formatDateTime(intl, signer.signedAt) }}
    />
  );
}

function SignatureBadge({ message }: { message: Message }) {
  const intl = useIntl();
  const t = useT();
  if (message.direction === 'in' && message.state === 'rejected') {
    return (
      <div className="signature-cell">
        <span className="badge" data-tone="bad" data-testid="refused-badge">
          {t('case.refused', { reason: reasonLabel(intl, message.reason, t('case.reason.unreadable')) })}
        </span>
        {message.detail && <span className="refusal-detail">{message.detail}</span>}
        <span className="hint">{t('case.refused.nothingShown')}</span>
      </div>
    );
  }
  if (message.direction === 'out' && message.state === 'rejected') {
    return (
      <div className="signature-cell">
        <span className="badge" data-tone="bad" data-testid="refused-badge">
          {t('case.refusedByRecipient', {
            reason: reasonLabel(intl, message.reason, t('case.reason.noneGiven'), 'recipient'),
          })}
        </span>
        {message.detail && <span className="refusal-detail">{message.detail}</span>}
      </div>
    );
  }
  if (message.signer) {
    return (
      <div className="signature-cell">
        <span className="badge signature-badge" data-tone="ok" data-testid="signature-verified">
          <SignedBy signer={message.signer} />
        </span>
        <SignerDetails signer={message.signer} />
      </div>
    );
  }
  return <span className="hint">{t('case.noSignature')}</span>;
}

function StateBadge({ message }: { message: Message }) {
  const intl = useIntl();
  const state = STATE_TEXT[message.state];
  const text = {
    ...state,
    word: intl.formatMessage({ id: state.word }),
    meaning: intl.formatMessage({ id: state.meaning }),
  };
  return (
    <div className="state-cell">
      <span className="badge" data-tone={text.tone} data-testid="message-state">
        {text.word}
      </span>
      <span className="hint"> {text.meaning}</span>
      {message.state === 'failed' && message.detail && <span className="refusal-detail">{message.detail}</span>}
    </div>
  );
}

/** A refused message's status is not known (it could not be read): only its type is named. */
const REFUSED_STEP: Readonly<Record<Message['type'], MessageId>> = {
  'consult.request': 'case.step.requestRefused',
  'consult.status': 'case.step.statusRefused',
  'consult.report': 'case.step.reportRefused',
};

function stepText(intl: IntlShape, message: Message): string {
  if (message.type === 'consult.request') return intl.formatMessage({ id: 'case.step.requested' });
  if (message.type === 'consult.report') return intl.formatMessage({ id: 'case.step.report' });
  return statusLabel(intl, message.status);
}

function HistoryPanel({ api, view, navigate }: { api: RtsApi; view: CaseView; navigate: Navigate }) {
  const intl = useIntl();
  const t = useT();
  const peer = peerOf(view);
  return (
    <section className="panel" aria-labelledby={`${view.caseId}-history`}>
      <h3 id={`${view.caseId}-history`}>{t('case.history.title')}</h3>
      <table className="data-table history-table" aria-label={t('case.history.label')}>
        <thead>
          <tr>
            <th scope="col">{t('case.history.when')}</th>
            <th scope="col">{t('case.history.step')}</th>
            <th scope="col">{t('case.history.from')}</th>
            <th scope="col">{t('case.history.delivery')}</th>
            <th scope="col">{t('case.history.signature')}</th>
          </tr>
        </thead>
        <tbody>
          {view.messages.map((m) => {
            const refusedIncoming = m.direction === 'in' && m.state === 'rejected';
            return (
              <tr key={m.messageId} data-testid="history-row" data-state={m.state} data-type={m.type}>
                <td>{formatDateTime(intl, m.at)}</td>
                <td>
                  <span className="step">{refusedIncoming ? t(REFUSED_STEP[m.type]) : stepText(intl, m)}</span>
                  {!refusedIncoming && m.note && (
                    <p className="message-note">{t('case.history.note', { note: m.note })}</p>
                  )}
                  {!refusedIncoming && m.suggestedPractitioner && (
                    <p className="message-note">
                      {t('case.history.suggests', { id: m.suggestedPractitioner })}
                      {view.role === 'applicant' && (
                        <>
                          {' '}
                          <button
                            type="button"
                            className="link no-print"
                            onClick={() =>
                              navigate({
                                name: 'compose',
                                expertId: m.suggestedPractitioner!,
                                from: { caseId: view.caseId, take: 'request' },
                              })
                            }
                          >
                            {t('case.history.sendTo', { id: m.suggestedPractitioner })}
                          </button>
                        </>
                      )}
                    </p>
                  )}
                  {!refusedIncoming && m.attachments && m.attachments.length > 0 && (
                    <AttachmentViewer
                      api={api}
                      caseId={view.caseId}
                      messageId={m.messageId}
                      attachments={m.attachments}
                      label={t('case.history.files')}
                    />
                  )}
                </td>
                <td>{m.direction === 'out' ? t('case.history.you') : peer}</td>
                <td>
                  <StateBadge message={m} />
                </td>
                <td>
                  <SignatureBadge message={m} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/** Whether the case's report may be shown (and printed): verified as received, or our own as sent, never refused. */
function isTrustworthyReport(view: CaseView): boolean {
  const message = reportMessage(view);
  if (view.report === undefined || message === undefined || message.signer === undefined) return false;
  if (message.state === 'rejected' || message.state === 'failed') return false;
  return view.role === 'applicant'
    ? message.direction === 'in' && message.state === 'verified'
    : message.direction === 'out';
}

/**
 * The report: the one the applicant received (shown only when the core verified it), or the one the expert sent (with
 * how far it got). A report message that was refused shows as refused, never as a report.
 */
function ReportSection({ api, view }: { api: RtsApi; view: CaseView }) {
  const intl = useIntl();
  const t = useT();
  const id = useId();
  const message = reportMessage(view);
  const refused = message !== undefined && (message.state === 'rejected' || message.state === 'failed');
  const received = view.role === 'applicant';
  const trustworthy = isTrustworthyReport(view);
  return (
    <section className="panel report-section" aria-labelledby={`${id}-title`} data-testid="report-section">
      <h3 id={`${id}-title`}>{received ? t('case.report.fromExpert') : t('case.report.yours')}</h3>
      {view.patient && (
        <p className="report-patient">
          {(() => {
            const identifiers = (view.patient.identifiers ?? []).map((i) =>
              t('case.report.identifier', {
                label: identifierLabel(intl, i.system).toLocaleLowerCase(intl.locale),
                value: i.value,
              }),
            );
            return t('case.report.patientLine', {
              name: patientName(intl, view),
              birthDate: view.patient.birthDate,
              hasIdentifiers: identifiers.length > 0 ? 'yes' : 'no',
              identifiers: intl.formatList(identifiers, { type: 'conjunction', style: 'narrow' }),
            });
          })()}
          {' · '}
          {received ? t('case.report.expert', { id: view.expertId }) : t('case.report.for', { id: view.applicantId })}
        </p>
      )}
      {!trustworthy || !view.report ? (
        <div data-testid="no-report">
          <p>
            <strong>{t('case.report.noValid')}</strong>
          </p>
          {refused && message && (
            <p>
              <span className="badge" data-tone="bad">
                {(() => {
                  const reason = reasonLabel(
                    intl,
                    message.reason,
                    message.detail ?? intl.formatMessage({ id: STATE_TEXT[message.state].word }),
                    message.direction === 'in' ? 'sender' : 'recipient',
                  );
                  return message.direction === 'in'
                    ? t('case.refused', { reason })
                    : t('case.report.notDelivered', { reason });
                })()}
              </span>{' '}
              {message.direction === 'in' ? t('case.report.refusedIn') : t('case.report.refusedOut')}
            </p>
          )}
        </div>
      ) : (
        <>
          <div className="report-signature">
            <span className="badge signature-badge" data-tone="ok" data-testid="report-signature">
              <SignedBy signer={view.report.signer} />
            </span>
            {!received && message && (
              <>
                {' '}
                <span className="badge" data-tone={STATE_TEXT[message.state].tone} data-testid="report-state">
                  {intl.formatMessage({ id: STATE_TEXT[message.state].word })}
                </span>
                <span className="hint"> {intl.formatMessage({ id: STATE_TEXT[message.state].meaning })}</span>
              </>
            )}
            <SignerDetails signer={view.report.signer} />
          </div>
          <ReportView report={view.report} />
          <PrintButton api={api} caseId={view.caseId} />
        </>
      )}
    </section>
  );
}

/** Printing (or saving as PDF) takes patient data off the workstation: the audit log records it before the dialog opens. */
function PrintButton({ api, caseId }: { api: RtsApi; caseId: string }) {
  const t = useT();
  const record = useAction(api, COMMANDS.recordExport);
  const print = async () => {
    if (await record.run({ caseId, form: 'print' })) window.print();
  };
  return (
    <div className="form-actions no-print">
      <button type="button" disabled={record.busy} onClick={() => void print()}>
        {t('case.report.print')}
      </button>
      <ErrorMessage error={record.error} />
    </div>
  );
}

type NoteAction = 'decline' | 'request-information' | 'cancel';
type OpenForm = NoteAction | 'redirect' | 'provide-information' | undefined;

/** The form of a step that takes a note; `confirm` takes the peer and the note. */
const NOTE_FORM: Readonly<
  Record<NoteAction, { label: MessageId; submit: MessageId; confirm?: MessageId; yes?: MessageId; no?: MessageId }>
> = {
  decline: {
    label: 'case.decline.label',
    submit: 'case.decline.submit',
    confirm: 'case.decline.confirm',
    yes: 'case.decline.yes',
    no: 'case.decline.no',
  },
  'request-information': { label: 'case.askInformation.label', submit: 'case.askInformation.submit' },
  cancel: {
    label: 'case.cancel.label',
    submit: 'case.cancel.submit',
    confirm: 'case.cancel.confirm',
    yes: 'case.cancel.yes',
    no: 'case.cancel.no',
  },
};

/** The steps the protocol lets this role take in this status (shared/protocol/consult-status.ts); the core checks again. */
function CaseActions({
  api,
  view,
  reload,
  editing,
  onWriteReport,
  canWriteReport,
}: {
  api: RtsApi;
  view: CaseView;
  reload: () => void;
  editing: boolean;
  onWriteReport: () => void;
  canWriteReport: boolean;
}) {
  const t = useT();
  const id = useId();
  const act = useAction(api, COMMANDS.actOnCase);
  const [open, setOpen] = useState<OpenForm>();
  const [note, setNote] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [attachments, setAttachments] = useState<PickedAttachment[]>([]);
  const [suggested, setSuggested] = useState<{ practitionerId: string; name: string }>();
  const status = view.status as ConsultStatus;
  const may = (to: ConsultStatusUpdate) => CONSULT_STATUS_SENDER[to] === view.role && canTransition(status, to);
  const peer = peerOf(view);

  const choose = (form: OpenForm) => {
    setOpen((current) => (current === form ? undefined : form));
    setNote('');
    setConfirming(false);
    setAttachments([]);
    setSuggested(undefined);
  };

  const run = async (action: CaseAction) => {
    const result = await act.run(action);
    if (result) {
      choose(undefined);
      reload();
    } else {
      setConfirming(false);
    }
  };

  const buttons: { form: OpenForm; label: MessageId; allowed: boolean }[] =
    view.role === 'expert'
      ? [
          {
            form: 'request-information',
            label: 'case.actions.askInformation',
            allowed: may('more-information-needed'),
          },
          { form: 'redirect', label: 'case.actions.redirect', allowed: may('redirected') },
          { form: 'decline', label: 'case.actions.decline', allowed: may('declined') },
        ]
      : [
          {
            form: 'provide-information',
            label: 'case.actions.provideInformation',
            allowed: may('information-provided'),
          },
          { form: 'cancel', label: 'case.actions.cancel', allowed: may('cancelled') },
        ];
  const allowed = buttons.filter((b) => b.allowed);
  const canAccept = view.role === 'expert' && may('accepted');
  const nothing = !canAccept && !canWriteReport && allowed.length === 0;

  return (
    <section className="panel no-print case-actions" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('case.actions.title')}</h3>
      {nothing && (
        <p className="hint">
          {isTerminal(status) ? t('case.actions.closed', { status }) : t('case.actions.waiting', { peer })}
        </p>
      )}
      {!nothing && (
        <div className="action-buttons">
          {canAccept && (
            <button
              type="button"
              disabled={act.busy}
              onClick={() => void run({ caseId: view.caseId, action: 'accept' })}
            >
              {t('case.actions.accept')}
            </button>
          )}
          {canWriteReport && (
            <button type="button" aria-expanded={editing} onClick={onWriteReport}>
              {editing ? t('case.actions.closeReportEditor') : t('case.actions.writeReport')}
            </button>
          )}
          {allowed.map((b) => (
            <button
              key={b.form}
              type="button"
              className="secondary"
              aria-expanded={open === b.form}
              onClick={() => choose(b.form)}
            >
              {t(b.label)}
            </button>
          ))}
        </div>
      )}
      <ErrorMessage error={act.error} />

      {(open === 'decline' || open === 'request-information' || open === 'cancel') &&
        (() => {
          const form = NOTE_FORM[open];
          const action = open;
          const submit = () =>
            form.confirm ? setConfirming(true) : void run({ caseId: view.caseId, action, note: note.trim() });
          return (
            <div className="action-form">
              <label htmlFor={`${id}-note`}>{t(form.label)}</label>
              <textarea
                id={`${id}-note`}
                rows={3}
                value={note}
                disabled={confirming}
                onChange={(e) => setNote(e.target.value)}
              />
              {!confirming && (
                <div className="form-actions">
                  <button type="button" disabled={!note.trim() || act.busy} onClick={submit}>
                    {t(form.submit)}
                  </button>
                  <button type="button" className="secondary" onClick={() => choose(undefined)}>
                    {t('case.actions.close')}
                  </button>
                </div>
              )}
              {confirming && form.confirm && form.yes && form.no && (
                <div className="confirm-box" role="alertdialog" aria-labelledby={`${id}-confirm`}>
                  <p id={`${id}-confirm`}>
                    <strong>{t(form.confirm, { peer, note: note.trim() })}</strong>
                  </p>
                  <div className="form-actions">
                    <button
                      type="button"
                      className="danger"
                      disabled={act.busy}
                      onClick={() => void run({ caseId: view.caseId, action, note: note.trim() })}
                    >
                      {t(form.yes)}
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      disabled={act.busy}
                      onClick={() => setConfirming(false)}
                    >
                      {t(form.no)}
                    </button>
                  </div>
                </div>
              )}
            </div>
          );
        })()}

      {open === 'redirect' && (
        <div className="action-form">
          <RedirectPicker
            api={api}
            exclude={[view.expertId, view.applicantId]}
            chosen={suggested}
            onChoose={setSuggested}
          />
          <label htmlFor={`${id}-redirect-note`}>{t('case.redirect.note')}</label>
          <textarea id={`${id}-redirect-note`} rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
          <div className="form-actions">
            <button
              type="button"
              disabled={!suggested || act.busy}
              onClick={() =>
                suggested &&
                void run({
                  caseId: view.caseId,
                  action: 'redirect',
                  suggestedPractitioner: suggested.practitionerId,
                  ...(note.trim() && { note: note.trim() }),
                })
              }
            >
              {suggested ? t('case.redirect.to', { name: suggested.name }) : t('case.redirect.submit')}
            </button>
            <button type="button" className="secondary" onClick={() => choose(undefined)}>
              {t('case.actions.close')}
            </button>
          </div>
        </div>
      )}

      {open === 'provide-information' && (
        <div className="action-form">
          <label htmlFor={`${id}-info`}>{t('case.provideInformation.label')}</label>
          <textarea id={`${id}-info`} rows={3} value={note} onChange={(e) => setNote(e.target.value)} />
          <AttachmentPicker
            label={t('case.provideInformation.files')}
            attachments={attachments}
            onChange={setAttachments}
          />
          <div className="form-actions">
            <button
              type="button"
              disabled={!note.trim() || act.busy}
              onClick={() =>
                void run({
                  caseId: view.caseId,
                  action: 'provide-information',
                  note: note.trim(),
                  ...(attachments.length > 0 && { attachments }),
                })
              }
            >
              {t('case.provideInformation.submit')}
            </button>
            <button type="button" className="secondary" onClick={() => choose(undefined)}>
              {t('case.actions.close')}
            </button>
          </div>
        </div>
      )}
    </section>
  );
}

/** A colleague from the directory mirror to suggest instead (search by name, specialty, hospital, place, language). */
function RedirectPicker({
  api,
  exclude,
  chosen,
  onChoose,
}: {
  api: RtsApi;
  exclude: readonly string[];
  chosen: { practitionerId: string; name: string } | undefined;
  onChoose: (expert: { practitionerId: string; name: string }) => void;
}) {
  const t = useT();
  const id = useId();
  const [text, setText] = useState('');
  const found = useCommand(api, COMMANDS.searchDirectory, { text: text.trim(), limit: 10 });
  const results = text.trim() ? (found.value?.experts ?? []).filter((e) => !exclude.includes(e.practitionerId)) : [];
  return (
    <div className="redirect-picker">
      <label htmlFor={`${id}-search`}>{t('case.redirect.find')}</label>
      <input
        id={`${id}-search`}
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={t('case.redirect.placeholder')}
      />
      <ErrorMessage error={found.error} />
      {text.trim() && !found.loading && results.length === 0 && <p className="hint">{t('case.redirect.nobody')}</p>}
      {results.length > 0 && (
        <ul className="expert-results" aria-label={t('case.redirect.found')}>
          {results.map((e) => (
            <li key={e.practitionerId}>
              <button
                type="button"
                className="secondary"
                aria-pressed={chosen?.practitionerId === e.practitionerId}
                onClick={() => onChoose({ practitionerId: e.practitionerId, name: e.name })}
              >
                {t('case.redirect.suggest', { name: e.name })}
              </button>
              <span className="hint">
                {' '}
                {e.specialties} · {e.organization}
                {e.city ? `, ${e.city}` : ''} · {e.practitionerId}
              </span>{' '}
              <LookAlikeBadge practitionerId={e.practitionerId} lookAlikes={e.lookAlikes} />{' '}
              <CertificateCheckBadge expert={e} />
            </li>
          ))}
        </ul>
      )}
      {chosen && <p role="status">{t('case.redirect.suggested', { name: chosen.name, id: chosen.practitionerId })}</p>}
    </div>
  );
}
