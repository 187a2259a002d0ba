import { useEffect, useId, useRef, useState } from 'react';
import { useIntl } from 'react-intl';
import { z } from 'zod';
import { COMMANDS, type ReportInput } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { formatDateTime, ICD10_SYSTEM, PERIOD_UNIT_LABEL } from '../components/case-format.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { ReportView } from '../components/report-view.tsx';
import { useAction } from '../hooks/use-command.ts';
import { useDraft } from '../hooks/use-draft.ts';
import { useT } from '../i18n/index.ts';
import { parsed } from './compose-draft.ts';
import { useSetupState } from '../hooks/use-setup-state.ts';
import { errorText } from '../components/error-words.ts';
import './case.css';

type PeriodUnit = 'h' | 'd' | 'wk' | 'mo';
const PERIOD_UNITS: readonly PeriodUnit[] = ['h', 'd', 'wk', 'mo'];

interface DiagnosisLine {
  readonly key: number;
  readonly text: string;
  readonly code: string;
}
interface PrescriptionLine {
  readonly key: number;
  readonly medication: string;
  readonly dose: string;
  readonly unit: string;
  readonly frequency: string;
  readonly period: string;
  readonly periodUnit: PeriodUnit;
  readonly route: string;
  readonly instructions: string;
}

let lineSeq = 0;
const newDiagnosis = (): DiagnosisLine => ({ key: ++lineSeq, text: '', code: '' });
const newPrescription = (): PrescriptionLine => ({
  key: ++lineSeq,
  medication: '',
  dose: '',
  unit: 'mg',
  frequency: '1',
  period: '1',
  periodUnit: 'd',
  route: '',
  instructions: '',
});

/** Routes of administration offered while typing (in the user's language: the route travels as the words written). */
const ROUTES: readonly MessageId[] = [
  'report.route.oral',
  'report.route.iv',
  'report.route.im',
  'report.route.sc',
  'report.route.inhaled',
  'report.route.topical',
  'report.route.rectal',
  'report.route.sublingual',
];

/** ICD-10 as written in the clinic: a letter, two digits, optionally a point and up to four more. */
const ICD10_CODE = /^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$/;

interface Draft {
  readonly findings: string;
  readonly conclusion: string;
  readonly diagnoses: readonly DiagnosisLine[];
  readonly prescriptions: readonly PrescriptionLine[];
}

const line = z.string().max(20_000);
/** A report being written as its draft keeps it (without the lines' keys, numbered afresh when it is read back). */
const reportDraftSchema = z.object({
  version: z.literal(1),
  findings: line,
  conclusion: line,
  diagnoses: z.array(z.object({ text: line, code: line })).max(100),
  prescriptions: z
    .array(
      z.object({
        medication: line,
        dose: line,
        unit: line,
        frequency: line,
        period: line,
        periodUnit: z.enum(PERIOD_UNITS as [PeriodUnit, ...PeriodUnit[]]),
        route: line,
        instructions: line,
      }),
    )
    .max(100),
});

export function reportDraftOf(draft: Draft): string {
  const unkeyed = <T extends { key: number }>({ key: _key, ...rest }: T) => rest;
  return JSON.stringify({
    version: 1,
    findings: draft.findings,
    conclusion: draft.conclusion,
    diagnoses: draft.diagnoses.map(unkeyed),
    prescriptions: draft.prescriptions.map(unkeyed),
  } satisfies z.input<typeof reportDraftSchema>);
}

/** A kept draft read back, or undefined when this editor would not have written it. */
export function reportDraftFrom(body: string): Draft | undefined {
  const draft = parsed(reportDraftSchema, body);
  if (!draft) return undefined;
  const { findings, conclusion, diagnoses, prescriptions } = draft;
  return {
    findings,
    conclusion,
    diagnoses: diagnoses.map((d) => ({ key: ++lineSeq, ...d })),
    prescriptions: prescriptions.map((p) => ({ key: ++lineSeq, ...p })),
  };
}

/** The report the core will be asked to sign, or what stands in the way, by field (as messages). Blank lines are left out. */
function buildReport(caseId: string, draft: Draft): { report?: ReportInput; errors: Record<string, MessageId> } {
  const errors: Record<string, MessageId> = {};
  const conclusion = draft.conclusion.trim();
  if (!conclusion) errors.conclusion = 'report.error.conclusion';
  const diagnoses: NonNullable<ReportInput['diagnoses']> = [];
  for (const line of draft.diagnoses) {
    const text = line.text.trim();
    const code = line.code.trim().toUpperCase();
    if (!text && !code) continue;
    if (!text) errors[`dx-${line.key}-text`] = 'report.error.diagnosisText';
    if (code && !ICD10_CODE.test(code)) errors[`dx-${line.key}-code`] = 'report.error.icd10';
    diagnoses.push({ text, ...(code && { system: ICD10_SYSTEM, code }) });
  }
  const prescriptions: NonNullable<ReportInput['prescriptions']> = [];
  for (const line of draft.prescriptions) {
    const medication = line.medication.trim();
    if (!medication && !line.dose.trim() && !line.route.trim() && !line.instructions.trim()) continue;
    const dose = Number(line.dose);
    const frequency = Number(line.frequency);
    const period = Number(line.period);
    const unit = line.unit.trim();
    const at = (field: string) => `rx-${line.key}-${field}`;
    if (!medication) errors[at('medication')] = 'report.error.medication';
    if (!line.dose.trim() || !Number.isFinite(dose) || dose <= 0 || dose > 100_000)
      errors[at('dose')] = 'report.error.dose';
    if (!unit) errors[at('unit')] = 'report.error.unit';
    if (!Number.isInteger(frequency) || frequency < 1 || frequency > 48)
      errors[at('frequency')] = 'report.error.frequency';
    if (!Number.isFinite(period) || period <= 0 || period > 365) errors[at('period')] = 'report.error.period';
    prescriptions.push({
      medication,
      dose,
      unit,
      frequency,
      period,
      periodUnit: line.periodUnit,
      ...(line.route.trim() && { route: line.route.trim() }),
      ...(line.instructions.trim() && { instructions: line.instructions.trim() }),
    });
  }
  if (Object.keys(errors).length > 0) return { errors };
  const findings = draft.findings.trim();
  return {
    errors,
    report: {
      caseId,
      conclusion,
      ...(findings && { findings }),
      ...(diagnoses.length > 0 && { diagnoses }),
      ...(prescriptions.length > 0 && { prescriptions }),
    },
  };
}

/**
 * The expert's report: findings, conclusion, diagnoses (text with an optional ICD-10 code) and prescriptions, then a
 * preview of exactly what will be signed, then signing and sending after an explicit confirmation — with the lock
 * passphrase entered again when one is set (a signature is a medical act: the person signs, not an open session).
 * Signing happens in the core with the practitioner's signing key; this screen only ever sees the result or the
 * core's refusal.
 */
export function ReportEditor({
  api,
  caseId,
  applicantId,
  onSent,
}: {
  api: RtsApi;
  caseId: string;
  applicantId: string;
  onSent: () => void;
}) {
  const intl = useIntl();
  const t = useT();
  const id = useId();
  const [findings, setFindingsState] = useState('');
  const [conclusion, setConclusionState] = useState('');
  const [diagnoses, setDiagnosesState] = useState<readonly DiagnosisLine[]>(() => [newDiagnosis()]);
  const [prescriptions, setPrescriptionsState] = useState<readonly PrescriptionLine[]>([]);
  // Kept as a draft in the encrypted store from the first change on, and restored when the editor opens again.
  const kept = useDraft(api, `report:${caseId}`);
  const [edited, setEdited] = useState(false);
  const [restoredAt, setRestoredAt] = useState<string>();
  const edit =
    <T,>(set: (value: T | ((previous: T) => T)) => void) =>
    (value: T | ((previous: T) => T)) => {
      setEdited(true);
      set(value);
    };
  const setFindings = edit(setFindingsState);
  const setConclusion = edit(setConclusionState);
  const setDiagnoses = edit(setDiagnosesState);
  const setPrescriptions = edit(setPrescriptionsState);
  const { ready, save } = kept;
  useEffect(() => {
    let live = true;
    void ready.then((found) => {
      const draft = found && reportDraftFrom(found.body);
      if (!live || !draft) return;
      setFindingsState(draft.findings);
      setConclusionState(draft.conclusion);
      setDiagnosesState(draft.diagnoses.length > 0 ? draft.diagnoses : [newDiagnosis()]);
      setPrescriptionsState(draft.prescriptions);
      setRestoredAt(found.savedAt);
      setEdited(true);
    });
    return () => {
      live = false;
    };
  }, [ready]);
  useEffect(() => {
    if (edited) save(reportDraftOf({ findings, conclusion, diagnoses, prescriptions }));
  }, [edited, save, findings, conclusion, diagnoses, prescriptions]);
  const [step, setStep] = useState<'edit' | 'preview' | 'confirm'>('edit');
  const [tried, setTried] = useState(false);
  const send = useAction(api, COMMANDS.sendReport);
  const { state: setup } = useSetupState(api);
  const [passphrase, setPassphrase] = useState('');
  // The core is the judge: a refusal for want of the passphrase shows the field even if the set-up said none.
  const needsPassphrase = setup?.hasLockPassphrase === true || send.error?.code === 'passphrase-required';
  const previewHeading = useRef<HTMLHeadingElement>(null);
  const confirmText = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (step === 'preview') previewHeading.current?.focus();
    if (step === 'confirm') confirmText.current?.focus();
  }, [step]);

  const built = buildReport(caseId, { findings, conclusion, diagnoses, prescriptions });
  const errors = tried ? built.errors : {};
  const errorCount = Object.keys(built.errors).length;

  const field = (key: string) => ({
    id: `${id}-${key}`,
    'aria-invalid': errors[key] ? true : undefined,
    'aria-describedby': errors[key] ? `${id}-${key}-error` : undefined,
  });
  const fieldError = (key: string) =>
    errors[key] && (
      <span id={`${id}-${key}-error`} className="field-error">
        {t(errors[key])}
      </span>
    );

  const updateDiagnosis = (key: number, change: Partial<DiagnosisLine>) =>
    setDiagnoses((lines) => lines.map((l) => (l.key === key ? { ...l, ...change } : l)));
  const updatePrescription = (key: number, change: Partial<PrescriptionLine>) =>
    setPrescriptions((lines) => lines.map((l) => (l.key === key ? { ...l, ...change } : l)));

  const toPreview = () => {
    setTried(true);
    if (built.report) setStep('preview');
  };

  const signAndSend = async () => {
    if (!built.report) return;
    const result = await send.run({ ...built.report, ...(needsPassphrase && { passphrase }) });
    setPassphrase('');
    if (result) {
      await kept.discard();
      onSent();
    }
    // A wrong passphrase is tried again where it was entered; any other refusal goes back to the preview.
    else if (!needsPassphrase) setStep('preview');
  };

  if (step !== 'edit' && built.report) {
    return (
      <section className="panel report-editor" aria-labelledby={`${id}-preview-title`}>
        <h3 id={`${id}-preview-title`} ref={previewHeading} tabIndex={-1}>
          {t('report.editor.previewTitle')}
        </h3>
        <p className="hint">{t('report.editor.previewHint', { applicant: applicantId })}</p>
        <div className="report-preview" data-testid="report-preview">
          <ReportView report={built.report} />
        </div>
        <ErrorMessage error={send.error} />
        {step === 'preview' ? (
          <div className="form-actions">
            <button type="button" onClick={() => setStep('confirm')}>
              {t('report.editor.signAndSendEllipsis')}
            </button>
            <button type="button" className="secondary" onClick={() => setStep('edit')}>
              {t('report.editor.backToEditing')}
            </button>
          </div>
        ) : (
          <div className="confirm-box" role="alertdialog" aria-labelledby={`${id}-confirm-text`} aria-modal="false">
            <p id={`${id}-confirm-text`} ref={confirmText} tabIndex={-1}>
              <strong>{t('report.editor.confirm', { applicant: applicantId })}</strong>
            </p>
            {needsPassphrase && (
              <form
                className="form-grid"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (passphrase) void signAndSend();
                }}
              >
                <label htmlFor={`${id}-sign-passphrase`}>{t('report.editor.passphrase')}</label>
                <input
                  id={`${id}-sign-passphrase`}
                  type="password"
                  autoComplete="off"
                  value={passphrase}
                  onChange={(e) => setPassphrase(e.target.value)}
                />
              </form>
            )}
            <div className="form-actions">
              <button
                type="button"
                disabled={send.busy || (needsPassphrase && !passphrase)}
                onClick={() => void signAndSend()}
              >
                {send.busy ? t('report.editor.signing') : t('report.editor.signAndSend')}
              </button>
              <button type="button" className="secondary" disabled={send.busy} onClick={() => setStep('preview')}>
                {t('report.editor.notYet')}
              </button>
            </div>
          </div>
        )}
      </section>
    );
  }

  return (
    <section className="panel report-editor" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('report.editor.title')}</h3>
      <p className="hint" role="status" data-testid="report-draft-state">
        {kept.error
          ? t('report.editor.draftNotKept', { error: errorText(intl, kept.error) })
          : restoredAt
            ? t('report.editor.draftRestored', { keptAt: formatDateTime(intl, restoredAt) })
            : t('report.editor.draftKept')}
      </p>
      <div className="form-grid">
        <label htmlFor={`${id}-findings`}>{t('report.view.findings')}</label>
        <textarea {...field('findings')} rows={4} value={findings} onChange={(e) => setFindings(e.target.value)} />
        <label htmlFor={`${id}-conclusion`}>{t('report.editor.conclusion')}</label>
        <div className="field">
          <textarea
            {...field('conclusion')}
            rows={4}
            value={conclusion}
            onChange={(e) => setConclusion(e.target.value)}
            required
          />
          {fieldError('conclusion')}
        </div>
      </div>

      <h4>{t('report.view.diagnoses')}</h4>
      {diagnoses.map((line, i) => (
        <fieldset key={line.key} className="line-group">
          <legend>{t('report.editor.diagnosisN', { n: i + 1 })}</legend>
          <div className="line-fields">
            <div className="field field-wide">
              <label htmlFor={`${id}-dx-${line.key}-text`}>{t('report.editor.diagnosis')}</label>
              <input
                {...field(`dx-${line.key}-text`)}
                value={line.text}
                onChange={(e) => updateDiagnosis(line.key, { text: e.target.value })}
              />
              {fieldError(`dx-${line.key}-text`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-dx-${line.key}-code`}>{t('report.editor.icd10')}</label>
              <input
                {...field(`dx-${line.key}-code`)}
                value={line.code}
                size={8}
                onChange={(e) => updateDiagnosis(line.key, { code: e.target.value })}
              />
              {fieldError(`dx-${line.key}-code`)}
            </div>
            <button
              type="button"
              className="link line-remove"
              onClick={() => setDiagnoses((lines) => lines.filter((l) => l.key !== line.key))}
            >
              {t('report.editor.removeDiagnosis', { n: i + 1 })}
            </button>
          </div>
        </fieldset>
      ))}
      <button type="button" className="secondary" onClick={() => setDiagnoses((lines) => [...lines, newDiagnosis()])}>
        {t('report.editor.addDiagnosis')}
      </button>

      <h4>{t('report.view.prescriptions')}</h4>
      {prescriptions.length === 0 && <p className="hint">{t('report.editor.noPrescriptions')}</p>}
      {prescriptions.map((line, i) => (
        <fieldset key={line.key} className="line-group">
          <legend>{t('report.editor.prescriptionN', { n: i + 1 })}</legend>
          <div className="line-fields">
            <div className="field field-wide">
              <label htmlFor={`${id}-rx-${line.key}-medication`}>{t('report.view.medication')}</label>
              <input
                {...field(`rx-${line.key}-medication`)}
                value={line.medication}
                onChange={(e) => updatePrescription(line.key, { medication: e.target.value })}
              />
              {fieldError(`rx-${line.key}-medication`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-dose`}>{t('report.view.dose')}</label>
              <input
                {...field(`rx-${line.key}-dose`)}
                type="number"
                min="0"
                step="any"
                inputMode="decimal"
                size={6}
                value={line.dose}
                onChange={(e) => updatePrescription(line.key, { dose: e.target.value })}
              />
              {fieldError(`rx-${line.key}-dose`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-unit`}>{t('report.editor.unit')}</label>
              <input
                {...field(`rx-${line.key}-unit`)}
                size={5}
                value={line.unit}
                onChange={(e) => updatePrescription(line.key, { unit: e.target.value })}
              />
              {fieldError(`rx-${line.key}-unit`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-frequency`}>{t('report.editor.timesPerPeriod')}</label>
              <input
                {...field(`rx-${line.key}-frequency`)}
                type="number"
                min="1"
                max="48"
                step="1"
                size={3}
                value={line.frequency}
                onChange={(e) => updatePrescription(line.key, { frequency: e.target.value })}
              />
              {fieldError(`rx-${line.key}-frequency`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-period`}>{t('report.editor.period')}</label>
              <input
                {...field(`rx-${line.key}-period`)}
                type="number"
                min="0"
                step="any"
                size={3}
                value={line.period}
                onChange={(e) => updatePrescription(line.key, { period: e.target.value })}
              />
              {fieldError(`rx-${line.key}-period`)}
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-period-unit`}>{t('report.editor.periodUnit')}</label>
              <select
                id={`${id}-rx-${line.key}-period-unit`}
                value={line.periodUnit}
                onChange={(e) => updatePrescription(line.key, { periodUnit: e.target.value as PeriodUnit })}
              >
                {PERIOD_UNITS.map((u) => (
                  <option key={u} value={u}>
                    {intl.formatMessage({ id: PERIOD_UNIT_LABEL[u] })}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-rx-${line.key}-route`}>{t('report.view.route')}</label>
              <input
                {...field(`rx-${line.key}-route`)}
                size={8}
                list={`${id}-routes`}
                value={line.route}
                onChange={(e) => updatePrescription(line.key, { route: e.target.value })}
              />
            </div>
            <div className="field field-wide">
              <label htmlFor={`${id}-rx-${line.key}-instructions`}>{t('report.view.instructions')}</label>
              <input
                {...field(`rx-${line.key}-instructions`)}
                value={line.instructions}
                onChange={(e) => updatePrescription(line.key, { instructions: e.target.value })}
              />
            </div>
            <button
              type="button"
              className="link line-remove"
              onClick={() => setPrescriptions((lines) => lines.filter((l) => l.key !== line.key))}
            >
              {t('report.editor.removePrescription', { n: i + 1 })}
            </button>
          </div>
        </fieldset>
      ))}
      <datalist id={`${id}-routes`}>
        {ROUTES.map((r) => (
          <option key={r} value={t(r)} />
        ))}
      </datalist>
      <button
        type="button"
        className="secondary"
        onClick={() => setPrescriptions((lines) => [...lines, newPrescription()])}
      >
        {t('report.editor.addPrescription')}
      </button>

      <div className="form-actions editor-actions">
        <button type="button" onClick={toPreview}>
          {t('report.editor.preview')}
        </button>
        {tried && errorCount > 0 && (
          <span className="field-error" role="alert">
            {t('report.editor.fieldsNeedAttention', { count: errorCount })}
          </span>
        )}
      </div>
    </section>
  );
}
