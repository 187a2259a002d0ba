import { z } from 'zod';
import { ECG_LEADS, VITAL_SIGNS } from '../../shared/protocol/fhir/index.ts';
import { priorities, type RequestContent } from '../../shared/api/index.ts';
import { NATIONAL_ID_SYSTEM } from '../components/case-format.ts';
import { toLocalInput, type Form, type VitalRow, type WaveformRow } from './compose-form.ts';

/**
 * The compose form kept as a draft (issue #21 item 6), and a form begun from an earlier request. A draft is two
 * documents: the typed fields, written a moment after each change, and the files and recordings, written only when
 * they change (megabytes each time a letter is typed would be wasteful). Each is read back through its schema: a draft
 * of another version, or one this form would not have written, is not restored.
 */

const DRAFT_VERSION = 1;
const text = z.string().max(20_000);

const fieldsSchema = z.object({
  version: z.literal(DRAFT_VERSION),
  expertId: z.string().max(200).optional(),
  family: text,
  given: text,
  gender: z.enum(['', 'female', 'male', 'other', 'unknown']),
  birthDate: text,
  nationalId: text,
  priority: z.enum(priorities),
  reason: text,
  question: text,
  vitals: z
    .array(z.object({ sign: z.enum(Object.keys(VITAL_SIGNS) as [keyof typeof VITAL_SIGNS]), value: text, time: text }))
    .max(1_000),
  systolic: text,
  diastolic: text,
  bpTime: text,
});

const filesSchema = z.object({
  version: z.literal(DRAFT_VERSION),
  waveforms: z
    .array(
      z.object({
        file: text,
        period: text,
        time: text,
        parsed: z.object({
          kind: z.enum(['ecg', 'pleth']),
          series: z.array(
            z.object({
              lead: z.enum(Object.keys(ECG_LEADS) as [keyof typeof ECG_LEADS]).optional(),
              samples: z.array(z.number()),
            }),
          ),
          periodMs: z.number().optional(),
          samples: z.number().int(),
        }),
      }),
    )
    .max(20),
  attachments: z
    .array(z.object({ title: text, contentType: text, base64: z.string(), size: z.number().int().min(0) }))
    .max(20),
});

/** The typed fields of the form as the draft keeps them. */
export function fieldsDraftOf(form: Form): string {
  const { waveforms: _w, attachments: _a, vitals, expertId, ...fields } = form;
  return JSON.stringify({
    version: DRAFT_VERSION,
    ...fields,
    ...(expertId && { expertId }),
    vitals: vitals.map(({ sign, value, time }) => ({ sign, value, time })),
  } satisfies z.input<typeof fieldsSchema>);
}

/** The files and recordings of the form as the draft keeps them. */
export function filesDraftOf(form: Pick<Form, 'waveforms' | 'attachments'>): string {
  // Checked against the schema it is read back with (by the test of both): ParsedWaveform's arrays are read-only.
  return JSON.stringify({
    version: DRAFT_VERSION,
    waveforms: form.waveforms.map(({ file, period, time, parsed }) => ({ file, period, time, parsed })),
    attachments: form.attachments,
  });
}

/** A kept draft's JSON read through `schema`; undefined when it is not what the form would have written. */
export function parsed<T>(schema: z.ZodType<T>, body: string | undefined): T | undefined {
  if (body === undefined) return undefined;
  try {
    return schema.safeParse(JSON.parse(body)).data;
  } catch {
    return undefined;
  }
}

/**
 * The form as a draft kept it, over `base` (an empty form); undefined when neither document can be read. `nextKey`
 * numbers the rows afresh.
 */
export function formFromDraft(
  base: Form,
  fieldsBody: string | undefined,
  filesBody: string | undefined,
  nextKey: () => number,
): Form | undefined {
  const fields = parsed(fieldsSchema, fieldsBody);
  const files = parsed(filesSchema, filesBody);
  if (!fields && !files) return undefined;
  let form = base;
  if (fields) {
    const { version: _v, vitals, expertId, ...rest } = fields;
    form = {
      ...form,
      ...rest,
      expertId: expertId ?? base.expertId,
      vitals: vitals.map((v): VitalRow => ({ key: nextKey(), ...v })),
    };
  }
  if (files)
    form = {
      ...form,
      waveforms: files.waveforms.map((w): WaveformRow => ({ key: nextKey(), ...w })),
      attachments: files.attachments,
    };
  return form;
}

/**
 * The patient's fields of an earlier request, all of them: a part that request lacked is left empty for the user to
 * enter, never kept from a patient entered before (two patients' details must not mix).
 */
export function withPatient(form: Form, patient: RequestContent['patient']): Form {
  return {
    ...form,
    family: patient.family ?? '',
    given: patient.given?.join(' ') ?? '',
    gender: patient.gender ?? '',
    birthDate: patient.birthDate ?? '',
    nationalId: patient.identifiers?.find((i) => i.system === NATIONAL_ID_SYSTEM)?.value ?? '',
  };
}

/**
 * A form with the whole of an earlier request: to send a redirected case on to the expert suggested. Its recordings
 * have no file name: `recordingName` says what each is in the user's language.
 */
export function withRequest(
  form: Form,
  content: RequestContent,
  nextKey: () => number,
  recordingName: (kind: 'ecg' | 'pleth') => string,
): Form {
  const pressure = content.bloodPressure?.[0];
  return {
    ...withPatient(form, content.patient),
    priority: content.priority,
    reason: content.reason,
    question: content.question ?? '',
    vitals: (content.vitals ?? []).map((v) => ({
      key: nextKey(),
      sign: v.sign,
      value: String(v.value),
      time: toLocalInput(new Date(v.effective)),
    })),
    ...(pressure && {
      systolic: String(pressure.systolic),
      diastolic: String(pressure.diastolic),
      bpTime: toLocalInput(new Date(pressure.effective)),
    }),
    waveforms: (content.waveforms ?? []).map((w) => ({
      key: nextKey(),
      file: recordingName(w.kind),
      period: String(w.periodMs),
      time: toLocalInput(new Date(w.effective)),
      parsed: { kind: w.kind, series: w.series, periodMs: w.periodMs, samples: w.series[0]?.samples.length ?? 0 },
    })),
    attachments: content.attachments ?? [],
  };
}
