import { useEffect, useEffectEvent, useId, useMemo, useState, type ChangeEvent, type ReactNode } from 'react';
import { useIntl } from 'react-intl';
import type { MessageId } from '../../shared/i18n/index.ts';
import { COMMANDS, EVENTS, waveformSchema, type ApiError } from '../../shared/api/index.ts';
import { VITAL_SIGNS, type VitalSign } from '../../shared/protocol/fhir/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { AttachmentPicker } from '../components/attachment-picker.tsx';
import {
  formatDateTime,
  formatNumber,
  GENDER_LABEL,
  PRIORITIES,
  PRIORITY_LABEL,
  unitDisplay,
  vitalLabel,
  waveformLabel,
  type Priority,
} from '../components/case-format.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { PatientPicker } from '../components/patient-picker.tsx';
import { LookAlikeBadge, LookAlikeWarning } from '../components/look-alike.tsx';
import { CertificateCheckBadge } from '../components/certificate-check.tsx';
import { PlaceWarnings } from '../components/warnings-banner.tsx';
import { parseWaveformCsv } from '../components/waveform-csv.ts';
import { WaveformPlot } from '../components/waveform-plot.tsx';
import { formatBytes } from '../files.ts';
import { useT } from '../i18n/index.ts';
import { invoke, useAction, useCommand, useEvent } from '../hooks/use-command.ts';
import { useDraft, type DraftState } from '../hooks/use-draft.ts';
import type { Navigate, View } from '../navigation.ts';
import { fieldsDraftOf, filesDraftOf, formFromDraft, withPatient, withRequest } from './compose-draft.ts';
import {
  checkConsult,
  fromLocalInput,
  emptyForm,
  toLocalInput,
  type Form,
  type Gender,
  type VitalRow,
  type WaveformRow,
} from './compose-form.ts';
import { errorText } from '../components/error-words.ts';
import { certificateProblem } from '../components/certificate-list.tsx';
import './case.css';

const GENDERS: readonly Gender[] = ['female', 'male', 'other', 'unknown'];
const PRIORITY_HINT: Readonly<Record<Priority, MessageId>> = {
  routine: 'compose.priorityHint.routine',
  urgent: 'compose.priorityHint.urgent',
  asap: 'compose.priorityHint.asap',
  stat: 'compose.priorityHint.stat',
};
/** Blood pressure has fields of its own; the other signs are chosen per row. */
const ROW_SIGNS = (Object.keys(VITAL_SIGNS) as VitalSign[]).filter(
  (s) => s !== 'systolicBloodPressure' && s !== 'diastolicBloodPressure',
);
const MAX_WAVEFORM_FILE_BYTES = 32 * 1024 * 1024;

let rowSeq = 0;

/** The applicant's request: choose the expert, enter the case, attach files and sensor data, send. */
export function ComposeScreen({
  api,
  expertId,
  from,
  navigate,
}: {
  api: RtsApi;
  expertId?: string;
  from?: ComposeFrom;
  navigate: Navigate;
}) {
  const intl = useIntl();
  const t = useT();
  const id = useId();
  const [form, setFormState] = useState<Form>(() => emptyForm(expertId, new Date()));
  /** The user has changed the form: from then on it is kept as the draft (until then a draft kept earlier stays). */
  const [edited, setEdited] = useState(false);
  const setForm = (change: Form | ((f: Form) => Form)) => {
    setEdited(true);
    setFormState(change);
  };
  const begun = useBeginning(api, expertId, from, (next, asDraft) => {
    setFormState(next);
    setEdited(asDraft);
  });
  const { fields, files } = begun;
  const saveFields = fields.save;
  const saveFiles = files.save;
  useEffect(() => {
    if (edited) saveFields(fieldsDraftOf(form));
  }, [edited, form, saveFields]);
  // Megabytes of files and recordings are written out only when they change, not at each letter typed.
  const { waveforms, attachments } = form;
  useEffect(() => {
    if (edited) saveFiles(filesDraftOf({ waveforms, attachments }));
  }, [edited, waveforms, attachments, saveFiles]);
  const startOver = async () => {
    await Promise.all([fields.discard(), files.discard()]);
    begun.forget();
    setFormState(emptyForm(expertId, new Date()));
    setEdited(false);
    setAttemptAt(undefined);
  };
  const pickPatient = async (caseId: string) => {
    const content = await requestOf.run({ caseId, take: 'patient' });
    if (content) setForm((f) => withPatient(f, content.patient));
  };

  /** When Send was first pressed: from then on, problems show next to their fields as the user fixes them. */
  const [attemptAt, setAttemptAt] = useState<number>();
  const [waveError, setWaveError] = useState<string>();
  const create = useAction(api, COMMANDS.createConsult);
  const requestOf = useAction(api, COMMANDS.getRequestContent);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => setForm((f) => ({ ...f, [key]: value }));

  const built = attemptAt === undefined ? undefined : checkConsult(form, attemptAt);
  const errors = built?.errors ?? {};
  const errorCount = Object.keys(errors).length;

  const field = (key: string) => ({
    id: `${id}-${key}`,
    'aria-invalid': errors[key] ? true : undefined,
    'aria-describedby': errors[key] ? `${id}-${key}-error` : undefined,
  });
  const fieldError = (key: string) =>
    errors[key] && (
      <span id={`${id}-${key}-error`} className="field-error">
        {t(errors[key].id, errors[key].values)}
      </span>
    );

  const updateVital = (key: number, change: Partial<VitalRow>) =>
    set(
      'vitals',
      form.vitals.map((v) => (v.key === key ? { ...v, ...change } : v)),
    );
  const updateWave = (key: number, change: Partial<WaveformRow>) =>
    set(
      'waveforms',
      form.waveforms.map((w) => (w.key === key ? { ...w, ...change } : w)),
    );

  const addWaveform = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setWaveError(undefined);
    if (file.size > MAX_WAVEFORM_FILE_BYTES) {
      setWaveError(
        t('compose.waveformTooBig', {
          file: file.name,
          size: formatBytes(intl, file.size),
          max: formatBytes(intl, MAX_WAVEFORM_FILE_BYTES),
        }),
      );
      return;
    }
    const parsed = parseWaveformCsv(await file.text());
    if (!parsed.ok) {
      setWaveError(
        t('compose.waveformUnreadable', {
          file: file.name,
          error: intl.formatMessage({ id: parsed.error.id }, parsed.error.values),
        }),
      );
      return;
    }
    const row: WaveformRow = {
      key: ++rowSeq,
      file: file.name,
      parsed: parsed.value,
      period:
        parsed.value.periodMs !== undefined ? String(parsed.value.periodMs) : parsed.value.kind === 'ecg' ? '4' : '10',
      time: toLocalInput(new Date(file.lastModified || Date.now())),
    };
    setForm((f) => ({ ...f, waveforms: [...f.waveforms, row] }));
  };

  const send = async () => {
    const now = Date.now();
    setAttemptAt(now);
    const result = checkConsult(form, now);
    if (!result.consult) return;
    const created = await create.run(result.consult);
    if (!created) return;
    // Sent: the draft is done with (a draft kept earlier, which this form never touched, stays).
    if (edited) await Promise.all([fields.discard(), files.discard()]);
    navigate({ name: 'case', caseId: created.caseId });
  };

  return (
    <div className="screen-stack compose-screen">
      <h2 className="screen-title">{t('compose.title')}</h2>
      <p className="hint">{t('compose.intro')}</p>
      <PlaceWarnings place="compose" />
      <DraftNotice begun={begun} edited={edited} onStartOver={() => void startOver()} />

      <section className="panel" aria-labelledby={`${id}-expert-title`}>
        <h3 id={`${id}-expert-title`}>{t('compose.expert')}</h3>
        {form.expertId ? (
          <ChosenExpert api={api} practitionerId={form.expertId} onChange={() => set('expertId', undefined)} />
        ) : (
          <ExpertSearch
            api={api}
            onChoose={(practitionerId) => set('expertId', practitionerId)}
            describedBy={errors.expert ? `${id}-expert-error` : undefined}
          />
        )}
        {fieldError('expert')}
      </section>

      <section className="panel" aria-labelledby={`${id}-patient-title`}>
        <h3 id={`${id}-patient-title`}>{t('compose.patient')}</h3>
        <PatientPicker api={api} onPick={(caseId) => void pickPatient(caseId)} />
        <ErrorMessage error={requestOf.error} />
        <div className="form-grid">
          <label htmlFor={`${id}-family`}>{t('compose.familyName')}</label>
          <Field error={fieldError('family')}>
            <input
              {...field('family')}
              autoComplete="off"
              value={form.family}
              onChange={(e) => set('family', e.target.value)}
            />
          </Field>
          <label htmlFor={`${id}-given`}>{t('compose.givenNames')}</label>
          <Field error={fieldError('given')}>
            <input
              {...field('given')}
              autoComplete="off"
              value={form.given}
              onChange={(e) => set('given', e.target.value)}
            />
          </Field>
          <label htmlFor={`${id}-gender`}>{t('compose.sex')}</label>
          <Field error={fieldError('gender')}>
            <select
              {...field('gender')}
              value={form.gender}
              onChange={(e) => set('gender', e.target.value as Gender | '')}
            >
              <option value="">{t('compose.choose')}</option>
              {GENDERS.map((g) => (
                <option key={g} value={g}>
                  {intl.formatMessage({ id: GENDER_LABEL[g] })}
                </option>
              ))}
            </select>
          </Field>
          <label htmlFor={`${id}-birthDate`}>{t('compose.birthDate')}</label>
          <Field error={fieldError('birthDate')}>
            <input
              {...field('birthDate')}
              type="date"
              min="1900-01-01"
              value={form.birthDate}
              onChange={(e) => set('birthDate', e.target.value)}
            />
          </Field>
          <label htmlFor={`${id}-nationalId`}>{t('compose.nationalIdOptional')}</label>
          <Field error={fieldError('nationalId')}>
            <input
              {...field('nationalId')}
              autoComplete="off"
              inputMode="numeric"
              value={form.nationalId}
              onChange={(e) => set('nationalId', e.target.value)}
            />
          </Field>
        </div>
      </section>

      <section className="panel" aria-labelledby={`${id}-request-title`}>
        <h3 id={`${id}-request-title`}>{t('compose.request')}</h3>
        <fieldset className="radio-group">
          <legend>{t('compose.urgency')}</legend>
          {PRIORITIES.map((p) => (
            <label key={p} className="radio">
              <input
                type="radio"
                name={`${id}-priority`}
                value={p}
                checked={form.priority === p}
                onChange={() => set('priority', p)}
              />
              {t(PRIORITY_LABEL[p])} <span className="hint">{t(PRIORITY_HINT[p])}</span>
            </label>
          ))}
        </fieldset>
        <div className="form-grid request-grid">
          <label htmlFor={`${id}-reason`}>{t('compose.reasonRequired')}</label>
          <Field error={fieldError('reason')}>
            <textarea
              {...field('reason')}
              className="prose"
              rows={3}
              value={form.reason}
              onChange={(e) => set('reason', e.target.value)}
            />
          </Field>
          <label htmlFor={`${id}-question`}>{t('compose.question')}</label>
          <Field error={fieldError('question')}>
            <textarea
              {...field('question')}
              className="prose"
              rows={3}
              value={form.question}
              onChange={(e) => set('question', e.target.value)}
            />
          </Field>
        </div>
      </section>

      <section className="panel" aria-labelledby={`${id}-vitals-title`}>
        <h3 id={`${id}-vitals-title`}>{t('compose.vitalSigns')}</h3>
        {form.vitals.map((row, i) => (
          <fieldset key={row.key} className="line-group">
            <legend>{t('compose.vitalSignNumber', { number: i + 1 })}</legend>
            <div className="line-fields">
              <div className="field">
                <label htmlFor={`${id}-vital-${row.key}-sign`}>{t('compose.measure')}</label>
                <select
                  id={`${id}-vital-${row.key}-sign`}
                  value={row.sign}
                  onChange={(e) => updateVital(row.key, { sign: e.target.value as VitalSign })}
                >
                  {ROW_SIGNS.map((s) => (
                    <option key={s} value={s}>
                      {vitalLabel(intl, s)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${id}-vital-${row.key}-value`}>
                  {t('compose.valueWithUnit', { unit: unitDisplay(VITAL_SIGNS[row.sign].unit) })}
                </label>
                <input
                  {...field(`vital-${row.key}-value`)}
                  type="number"
                  step="any"
                  inputMode="decimal"
                  size={6}
                  value={row.value}
                  onChange={(e) => updateVital(row.key, { value: e.target.value })}
                />
                {fieldError(`vital-${row.key}-value`)}
              </div>
              <div className="field">
                <label htmlFor={`${id}-vital-${row.key}-time`}>{t('compose.time')}</label>
                <input
                  {...field(`vital-${row.key}-time`)}
                  type="datetime-local"
                  value={row.time}
                  onChange={(e) => updateVital(row.key, { time: e.target.value })}
                />
                {fieldError(`vital-${row.key}-time`)}
              </div>
              <button
                type="button"
                className="link line-remove"
                onClick={() =>
                  set(
                    'vitals',
                    form.vitals.filter((v) => v.key !== row.key),
                  )
                }
              >
                {t('compose.removeVitalSign', { number: i + 1 })}
              </button>
            </div>
          </fieldset>
        ))}
        <button
          type="button"
          className="secondary"
          onClick={() =>
            set('vitals', [
              ...form.vitals,
              { key: ++rowSeq, sign: 'heartRate', value: '', time: toLocalInput(new Date()) },
            ])
          }
        >
          {t('compose.addVitalSign')}
        </button>

        <fieldset className="line-group">
          <legend>{t('compose.bloodPressureOptional')}</legend>
          <div className="line-fields">
            <div className="field">
              <label htmlFor={`${id}-systolic`}>{t('compose.systolic')}</label>
              <input
                {...field('systolic')}
                type="number"
                step="any"
                inputMode="decimal"
                size={5}
                value={form.systolic}
                onChange={(e) => set('systolic', e.target.value)}
              />
              {fieldError('systolic')}
            </div>
            <div className="field">
              <label htmlFor={`${id}-diastolic`}>{t('compose.diastolic')}</label>
              <input
                {...field('diastolic')}
                type="number"
                step="any"
                inputMode="decimal"
                size={5}
                value={form.diastolic}
                onChange={(e) => set('diastolic', e.target.value)}
              />
              {fieldError('diastolic')}
            </div>
            <div className="field">
              <label htmlFor={`${id}-bpTime`}>{t('compose.measuredAt')}</label>
              <input
                {...field('bpTime')}
                type="datetime-local"
                value={form.bpTime}
                onChange={(e) => set('bpTime', e.target.value)}
              />
              {fieldError('bpTime')}
            </div>
          </div>
        </fieldset>
      </section>

      <section className="panel" aria-labelledby={`${id}-sensor-title`}>
        <h3 id={`${id}-sensor-title`}>{t('compose.sensorData')}</h3>
        <p className="hint" id={`${id}-wave-help`}>
          {t('compose.waveformHelp')}
        </p>
        <label htmlFor={`${id}-wave-file`}>{t('compose.waveformFile')}</label>{' '}
        <input
          id={`${id}-wave-file`}
          type="file"
          accept=".csv,text/csv,text/plain"
          aria-describedby={`${id}-wave-help`}
          onChange={(e) => void addWaveform(e)}
        />
        {waveError && (
          <p className="field-error" role="alert">
            {waveError}
          </p>
        )}
        {form.waveforms.map((row) => (
          <WaveformEntry
            key={row.key}
            row={row}
            field={field}
            fieldError={fieldError}
            id={id}
            onChange={(change) => updateWave(row.key, change)}
            onRemove={() =>
              set(
                'waveforms',
                form.waveforms.filter((w) => w.key !== row.key),
              )
            }
          />
        ))}
      </section>

      <section className="panel" aria-labelledby={`${id}-files-title`}>
        <h3 id={`${id}-files-title`}>{t('compose.attachments')}</h3>
        <AttachmentPicker
          label={t('compose.addFiles')}
          attachments={form.attachments}
          onChange={(next) => set('attachments', next)}
        />
        {fieldError('attachments')}
      </section>

      <section className="panel" aria-labelledby={`${id}-summary-title`}>
        <h3 id={`${id}-summary-title`}>{t('compose.summaryTitle')}</h3>
        <ConsultSummary api={api} form={form} />
        <div className="form-actions send-actions">
          <button type="button" disabled={create.busy} onClick={() => void send()}>
            {create.busy ? t('compose.sending') : t('compose.send')}
          </button>
          {errorCount > 0 && (
            <span className="field-error" role="alert">
              {t('compose.fieldsNeedAttention', { count: errorCount })}
            </span>
          )}
          {fieldError('form')}
        </div>
        <ErrorMessage error={create.error} />
        <DraftSaved fields={fields} files={files} />
      </section>
    </div>
  );
}

type ComposeFrom = NonNullable<Extract<View, { name: 'compose' }>['from']>;

interface Beginning {
  readonly fields: DraftState;
  readonly files: DraftState;
  /** The form was begun from an earlier case (the name of its patient), or restored from a draft (when it was saved). */
  readonly from:
    { readonly caseOf?: string; readonly take?: ComposeFrom['take']; readonly draftAt?: string } | undefined;
  /** A draft kept earlier that this form did not begin from: it stays until this form is changed. */
  readonly otherDraftAt: string | undefined;
  readonly error: ApiError | undefined;
  readonly restoreDraft: () => void;
  readonly forget: () => void;
}

/**
 * How the form begins, once the drafts have been read: from an earlier case when the user asked for that (the draft,
 * if any, is offered instead), otherwise from the draft the user left, otherwise empty. `begin` gets the form and
 * whether it is the draft (kept from then on) or a fresh start (kept once the user changes it).
 */
function useBeginning(
  api: RtsApi,
  expertId: string | undefined,
  from: ComposeFrom | undefined,
  begin: (form: Form, asDraft: boolean) => void,
): Beginning {
  const intl = useIntl();
  const fields = useDraft(api, 'compose');
  const files = useDraft(api, 'compose-files');
  const recordingName = (kind: 'ecg' | 'pleth') => intl.formatMessage({ id: 'compose.earlierRecording' }, { kind });
  const [state, setState] = useState<Pick<Beginning, 'from' | 'otherDraftAt' | 'error'>>();
  const onBegin = useEffectEvent(begin);
  const drafted = (fieldsBody: string | undefined, filesBody: string | undefined) =>
    formFromDraft(emptyForm(expertId, new Date()), fieldsBody, filesBody, () => ++rowSeq);
  const { ready: fieldsReady } = fields;
  const { ready: filesReady } = files;
  useEffect(() => {
    let live = true;
    const content = from && invoke(api, COMMANDS.getRequestContent, { caseId: from.caseId, take: from.take });
    void Promise.all([fieldsReady, filesReady, content]).then(([kept, keptFiles, result]) => {
      if (!live) return;
      const draftAt = kept?.savedAt ?? keptFiles?.savedAt;
      if (!from || !result) {
        const form = drafted(kept?.body, keptFiles?.body);
        // Asked to write to another expert than the draft's (the directory's "Ask"): a new request, the draft offered.
        if (form && expertId && form.expertId !== expertId)
          return setState({ from: undefined, otherDraftAt: draftAt, error: undefined });
        if (form) onBegin(form, true);
        setState({ from: form && draftAt ? { draftAt } : undefined, otherDraftAt: undefined, error: undefined });
        return;
      }
      if (!result.ok) return setState({ from: undefined, otherDraftAt: draftAt, error: result.error });
      const empty = emptyForm(expertId, new Date());
      const { patient } = result.value;
      onBegin(
        from.take === 'patient'
          ? withPatient(empty, patient)
          : withRequest(empty, result.value, () => ++rowSeq, recordingName),
        false,
      );
      const name = [...(patient.given ?? []), patient.family ?? ''].join(' ').trim();
      setState({ from: { caseOf: name, take: from.take }, otherDraftAt: draftAt, error: undefined });
    });
    return () => {
      live = false;
    };
    // Once per screen: `from` and the expert are fixed for its life (app.tsx keys the screen by them).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, fieldsReady, filesReady]);
  return {
    fields,
    files,
    from: state?.from,
    otherDraftAt: state?.otherDraftAt,
    error: state?.error,
    restoreDraft: () => {
      const draft = drafted(fields.found?.body, files.found?.body);
      if (!draft) return;
      begin(draft, true);
      const draftAt = fields.found?.savedAt ?? files.found?.savedAt;
      setState({ from: draftAt ? { draftAt } : undefined, otherDraftAt: undefined, error: undefined });
    },
    forget: () => setState({ from: undefined, otherDraftAt: undefined, error: undefined }),
  };
}

function DraftNotice({ begun, edited, onStartOver }: { begun: Beginning; edited: boolean; onStartOver: () => void }) {
  const intl = useIntl();
  const t = useT();
  const { from, otherDraftAt, error } = begun;
  return (
    <div role="status" data-testid="compose-beginning">
      <ErrorMessage error={error} />
      {from?.draftAt && (
        <p className="notice">
          {t('compose.draft.restored', { savedAt: formatDateTime(intl, from.draftAt) })}{' '}
          <button type="button" className="link" onClick={onStartOver}>
            {t('compose.draft.startOver')}
          </button>
        </p>
      )}
      {from?.caseOf !== undefined && (
        <p className="notice">
          {from.take === 'patient'
            ? t('compose.draft.patientFrom', { name: from.caseOf })
            : t('compose.draft.requestFrom', { name: from.caseOf })}
        </p>
      )}
      {otherDraftAt && !edited && (
        <p className="notice">
          {t('compose.draft.other', { savedAt: formatDateTime(intl, otherDraftAt) })}{' '}
          <button type="button" className="link" onClick={begun.restoreDraft}>
            {t('compose.draft.openOther')}
          </button>
        </p>
      )}
    </div>
  );
}

/** When the draft was last kept, or why it could not be (the form itself is still on screen). */
function DraftSaved({ fields, files }: { fields: DraftState; files: DraftState }) {
  const intl = useIntl();
  const t = useT();
  const error = fields.error ?? files.error;
  if (error)
    return (
      <p className="field-error" data-testid="draft-state">
        {t('compose.draft.notKept', { error: errorText(intl, error) })}
      </p>
    );
  const savedAt = [fields.savedAt, files.savedAt].filter(Boolean).sort().at(-1);
  return savedAt ? (
    <p className="hint" data-testid="draft-state">
      {t('compose.draft.kept', { savedAt: formatDateTime(intl, savedAt) })}
    </p>
  ) : null;
}

function Field({ error, children }: { error: ReactNode; children: ReactNode }) {
  return (
    <div className="field">
      {children}
      {error}
    </div>
  );
}

type FieldProps = (key: string) => {
  id: string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
};

function WaveformEntry({
  row,
  id,
  field,
  fieldError,
  onChange,
  onRemove,
}: {
  row: WaveformRow;
  id: string;
  field: FieldProps;
  fieldError: (key: string) => ReactNode;
  onChange: (change: Partial<WaveformRow>) => void;
  onRemove: () => void;
}) {
  const intl = useIntl();
  const t = useT();
  const periodMs = Number(row.period);
  const effective = fromLocalInput(row.time);
  const preview = useMemo(
    () =>
      waveformSchema.shape.periodMs.safeParse(periodMs).success && effective
        ? {
            kind: row.parsed.kind,
            effective,
            periodMs,
            series: row.parsed.series.map((s) => ({ ...(s.lead && { lead: s.lead }), samples: [...s.samples] })),
          }
        : undefined,
    [row.parsed, periodMs, effective],
  );
  const leads = row.parsed.series.flatMap((s) => (s.lead ? [s.lead] : []));
  return (
    <fieldset className="line-group waveform-entry">
      <legend>{row.file}</legend>
      {fieldError(`wave-${row.key}-file`)}
      <p>
        {t('compose.waveform.description', {
          kind: waveformLabel(intl, row.parsed.kind),
          leads: leads.length > 0 ? intl.formatList(leads, { type: 'conjunction', style: 'narrow' }) : 'none',
          samples: row.parsed.samples,
          seconds: preview ? formatNumber(intl, (row.parsed.samples * periodMs) / 1000, 2) : 'none',
        })}
      </p>
      <div className="line-fields">
        <div className="field">
          <label htmlFor={`${id}-wave-${row.key}-period`}>{t('compose.waveform.samplePeriod')}</label>
          <input
            {...field(`wave-${row.key}-period`)}
            type="number"
            min="0"
            step="any"
            size={6}
            value={row.period}
            onChange={(e) => onChange({ period: e.target.value })}
          />
          {fieldError(`wave-${row.key}-period`)}
        </div>
        <div className="field">
          <label htmlFor={`${id}-wave-${row.key}-time`}>{t('compose.waveform.recordedAt')}</label>
          <input
            {...field(`wave-${row.key}-time`)}
            type="datetime-local"
            value={row.time}
            onChange={(e) => onChange({ time: e.target.value })}
          />
          {fieldError(`wave-${row.key}-time`)}
        </div>
        <button type="button" className="link line-remove" onClick={onRemove}>
          {t('compose.waveform.remove', { file: row.file })}
        </button>
      </div>
      {preview && <WaveformPlot waveform={preview} />}
    </fieldset>
  );
}

function ExpertSearch({
  api,
  onChoose,
  describedBy,
}: {
  api: RtsApi;
  onChoose: (practitionerId: string) => void;
  describedBy: string | undefined;
}) {
  const t = useT();
  const id = useId();
  const [text, setText] = useState('');
  const query = text.trim();
  const found = useCommand(api, COMMANDS.searchDirectory, { text: query, limit: 20 });
  // A directory still arriving (first start, a snapshot after a gap) may hold the expert a moment later.
  useEvent(api, EVENTS.directorySyncProgress, found.reload);
  const results = query ? (found.value?.experts ?? []) : [];
  return (
    <div className="expert-search">
      <label htmlFor={`${id}-search`}>{t('compose.expertSearch.label')}</label>{' '}
      <input
        id={`${id}-search`}
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder={t('compose.expertSearch.placeholder')}
        aria-describedby={describedBy}
      />
      <ErrorMessage error={found.error} />
      {query && !found.loading && results.length === 0 && (
        <p className="hint">{t('compose.expertSearch.none', { query })}</p>
      )}
      {results.length > 0 && (
        <ul className="expert-results" aria-label={t('compose.expertSearch.found')}>
          {results.map((e) => (
            <li key={e.practitionerId}>
              <button type="button" className="secondary" onClick={() => onChoose(e.practitionerId)}>
                {t('compose.expertSearch.choose', { name: e.name })}
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
    </div>
  );
}

function ChosenExpert({
  api,
  practitionerId,
  onChange,
}: {
  api: RtsApi;
  practitionerId: string;
  onChange: () => void;
}) {
  const intl = useIntl();
  const t = useT();
  const expert = useCommand(api, COMMANDS.getExpert, { practitionerId });
  const unusable =
    expert.value?.certificates.filter((c) => c.use === 'encryption' && c.state !== 'valid' && c.state !== 'expiring') ??
    [];
  return (
    <div className="chosen-expert" data-testid="chosen-expert">
      {expert.value ? (
        <p>
          <strong>{expert.value.name}</strong>
          {expert.value.specialties.length > 0 &&
            `, ${intl.formatList(expert.value.specialties, { type: 'conjunction', style: 'narrow' })}`}
          {expert.value.organization && ` · ${expert.value.organization}`}
          {expert.value.city && `, ${expert.value.city}`}
          <span className="hint"> · {practitionerId}</span>
        </p>
      ) : expert.error ? (
        <ErrorMessage error={expert.error} />
      ) : (
        <p className="hint">{practitionerId}</p>
      )}
      {expert.value && <LookAlikeWarning practitionerId={practitionerId} lookAlikes={expert.value.lookAlikes} />}
      {unusable.length > 0 && (
        <p className="field-error">
          {t('compose.certificateUnusable', {
            problems: intl.formatList(
              unusable.map((c) => certificateProblem(intl, c) ?? c.state),
              { type: 'unit' },
            ),
          })}
        </p>
      )}
      <button type="button" className="link" onClick={onChange}>
        {t('compose.chooseAnotherExpert')}
      </button>
    </div>
  );
}

function ConsultSummary({ api, form }: { api: RtsApi; form: Form }) {
  const intl = useIntl();
  const t = useT();
  const total = form.attachments.reduce((sum, a) => sum + a.size, 0);
  const given = form.given.trim();
  const notEntered = <em>{t('compose.summary.notEntered')}</em>;
  return (
    <dl className="facts" data-testid="compose-summary">
      <dt>{t('compose.summary.to')}</dt>
      <dd>
        {form.expertId ? (
          <ExpertName api={api} practitionerId={form.expertId} />
        ) : (
          <em>{t('compose.summary.noExpert')}</em>
        )}
      </dd>
      <dt>{t('compose.patient')}</dt>
      <dd>
        {intl.formatMessage(
          { id: 'compose.summary.patient' },
          {
            name: form.family.trim() || given ? `${given} ${form.family.trim()}`.trim() : notEntered,
            birthDate: form.birthDate || 'none',
            gender: form.gender || 'none',
          },
        )}
      </dd>
      <dt>{t('compose.urgency')}</dt>
      <dd>{t(PRIORITY_LABEL[form.priority])}</dd>
      <dt>{t('compose.summary.reason')}</dt>
      <dd>{form.reason.trim() || notEntered}</dd>
      <dt>{t('compose.vitalSigns')}</dt>
      <dd>
        {form.vitals.length === 0 && !form.systolic
          ? t('compose.summary.none')
          : [
              ...form.vitals.map((v) =>
                t('compose.summary.vital', {
                  sign: vitalLabel(intl, v.sign),
                  value: v.value || '?',
                  unit: unitDisplay(VITAL_SIGNS[v.sign].unit),
                }),
              ),
              ...(form.systolic || form.diastolic
                ? [
                    t('compose.summary.bloodPressure', {
                      systolic: form.systolic || '?',
                      diastolic: form.diastolic || '?',
                    }),
                  ]
                : []),
            ].join('; ')}
      </dd>
      <dt>{t('compose.sensorData')}</dt>
      <dd>
        {form.waveforms.length === 0
          ? t('compose.summary.none')
          : form.waveforms
              .map((w) => t('compose.summary.recording', { kind: waveformLabel(intl, w.parsed.kind), file: w.file }))
              .join('; ')}
      </dd>
      <dt>{t('compose.attachments')}</dt>
      <dd>
        {form.attachments.length === 0
          ? t('compose.summary.none')
          : t('compose.summary.files', { count: form.attachments.length, size: formatBytes(intl, total) })}
      </dd>
    </dl>
  );
}

function ExpertName({ api, practitionerId }: { api: RtsApi; practitionerId: string }) {
  const expert = useCommand(api, COMMANDS.getExpert, { practitionerId });
  return (
    <>
      {expert.value
        ? `${expert.value.name}${expert.value.organization ? `, ${expert.value.organization}` : ''}`
        : practitionerId}
    </>
  );
}
