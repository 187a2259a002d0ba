import type { z } from 'zod';
import { COMMANDS, commandContract, type ComposeConsult } from '../../shared/api/index.ts';
import type { VitalSign } from '../../shared/protocol/fhir/index.ts';
import type { PickedAttachment } from '../components/attachment-picker.tsx';
import { NATIONAL_ID_SYSTEM, type Priority } from '../components/case-format.ts';
import type { ParsedWaveform } from '../components/waveform-csv.ts';

/**
 * The compose form's fields and how they become the request: checked by the create command's own input schema (the
 * one the core checks again), each of its issues shown at the field it is about in the form's words; only what the
 * schema cannot know (the clock, the calendar, two fields against each other) is checked here besides.
 */
const consultSchema = commandContract[COMMANDS.createConsult].input;

export type Gender = ComposeConsult['patient']['gender'];
export interface VitalRow {
  readonly key: number;
  readonly sign: VitalSign;
  readonly value: string;
  readonly time: string;
}
export interface WaveformRow {
  readonly key: number;
  readonly file: string;
  readonly parsed: ParsedWaveform;
  readonly period: string;
  readonly time: string;
}

export interface Form {
  readonly expertId: string | undefined;
  readonly family: string;
  readonly given: string;
  readonly gender: Gender | '';
  readonly birthDate: string;
  readonly nationalId: string;
  readonly priority: Priority;
  readonly reason: string;
  readonly question: string;
  readonly vitals: readonly VitalRow[];
  readonly systolic: string;
  readonly diastolic: string;
  readonly bpTime: string;
  readonly waveforms: readonly WaveformRow[];
  readonly attachments: readonly PickedAttachment[];
}

/** Problems by field key (`family`, `vital-3-time`, …); `form` for one that no field shows. */
export type FormErrors = Record<string, string>;

/** A form with nothing entered yet: routine, the blood pressure taken `now`. */
export function emptyForm(expertId: string | undefined, now: Date): Form {
  return {
    expertId,
    family: '',
    given: '',
    gender: '',
    birthDate: '',
    nationalId: '',
    priority: 'routine',
    reason: '',
    question: '',
    vitals: [],
    systolic: '',
    diastolic: '',
    bpTime: toLocalInput(now),
    waveforms: [],
    attachments: [],
  };
}

/** Five minutes of clock difference between devices are tolerated for "not in the future". */
const CLOCK_SLACK_MS = 5 * 60_000;

/** A moment as a datetime-local value (local time, minutes). */
export function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

/** A datetime-local value as an ISO instant, or undefined when it is not a time. */
export function fromLocalInput(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A number field: blank or not a number is NaN, which the schema refuses as not a number. */
const numberOf = (value: string) => (value.trim() ? Number(value) : Number.NaN);

/** What Send would ask the core to send, as the form holds it now (not yet checked). */
function draftOf(form: Form): unknown {
  const nationalId = form.nationalId.trim();
  const bloodPressure =
    form.systolic.trim() || form.diastolic.trim()
      ? [
          {
            systolic: numberOf(form.systolic),
            diastolic: numberOf(form.diastolic),
            effective: fromLocalInput(form.bpTime),
          },
        ]
      : [];
  return {
    expertId: form.expertId ?? '',
    patient: {
      family: form.family,
      given: form.given.trim().split(/\s+/).filter(Boolean),
      gender: form.gender || undefined,
      birthDate: form.birthDate,
      ...(nationalId && { identifiers: [{ system: NATIONAL_ID_SYSTEM, value: nationalId }] }),
    },
    priority: form.priority,
    reason: form.reason,
    ...(form.question.trim() && { question: form.question }),
    ...(form.vitals.length > 0 && {
      vitals: form.vitals.map((row) => ({
        sign: row.sign,
        value: numberOf(row.value),
        effective: fromLocalInput(row.time),
      })),
    }),
    ...(bloodPressure.length > 0 && { bloodPressure }),
    ...(form.waveforms.length > 0 && {
      waveforms: form.waveforms.map((row) => ({
        kind: row.parsed.kind,
        effective: fromLocalInput(row.time),
        periodMs: numberOf(row.period),
        series: row.parsed.series.map((s) => ({ ...(s.lead && { lead: s.lead }), samples: [...s.samples] })),
      })),
    }),
    ...(form.attachments.length > 0 && { attachments: [...form.attachments] }),
  };
}

type Issue = z.core.$ZodIssue;
const count = (n: number | bigint) => n.toLocaleString('en');
/** "At most 200 characters." from the schema's own bound. */
const atMost = (issue: Issue, what: string) =>
  issue.code === 'too_big' ? `At most ${count(issue.maximum)} ${what}.` : undefined;

/** The request's lists in words, for when one holds more than a request carries. */
const LISTS: Readonly<Record<string, string>> = {
  vitals: 'vital signs',
  bloodPressure: 'blood pressure readings',
  waveforms: 'recordings',
  attachments: 'files',
};

/** The field that shows a schema issue, and what it says there in the form's words. */
function problemOf(issue: Issue, form: Form): [field: string, message: string] {
  const [head, second, third] = issue.path;
  if (head === 'expertId') return ['expert', 'Choose the expert to ask.'];
  if (head === 'patient') {
    switch (second) {
      case 'family':
        return ['family', atMost(issue, 'characters') ?? 'Enter the family name.'];
      case 'given':
        // The list (none, too many) or one name in it (too long).
        if (third === undefined)
          return [
            'given',
            issue.code === 'too_big'
              ? `At most ${count(issue.maximum)} given names.`
              : 'Enter at least one given name.',
          ];
        return ['given', atMost(issue, 'characters in a given name') ?? 'Enter at least one given name.'];
      case 'gender':
        return ['gender', 'Choose the sex (or "Unknown").'];
      case 'birthDate':
        return [
          'birthDate',
          form.birthDate
            ? 'Write the birth date as YYYY-MM-DD, e.g. 1961-04-12.'
            : 'Enter the birth date (YYYY-MM-DD).',
        ];
      case 'identifiers':
        return ['nationalId', atMost(issue, 'characters') ?? 'Enter the national id, or leave it empty.'];
      default:
        break;
    }
  }
  if (head === 'reason') return ['reason', atMost(issue, 'characters') ?? 'Say why you ask: the reason is required.'];
  if (head === 'question') return ['question', atMost(issue, 'characters') ?? 'Shorten the question.'];
  if (head === 'vitals' && typeof second === 'number' && form.vitals[second]) {
    const row = form.vitals[second];
    return third === 'effective'
      ? [`vital-${row.key}-time`, 'Enter when it was measured.']
      : [`vital-${row.key}-value`, 'Enter a number.'];
  }
  if (head === 'bloodPressure') {
    if (third === 'systolic') return ['systolic', 'Systolic pressure: a number from 1 to 400.'];
    if (third === 'diastolic') return ['diastolic', 'Diastolic pressure: a number from 1 to 300.'];
    if (third === 'effective') return ['bpTime', 'Enter when it was measured.'];
  }
  if (head === 'waveforms' && typeof second === 'number' && form.waveforms[second]) {
    const row = form.waveforms[second];
    if (third === 'periodMs')
      return [`wave-${row.key}-period`, 'The time between samples in milliseconds (e.g. 4 for 250 Hz).'];
    if (third === 'effective') return [`wave-${row.key}-time`, 'Enter when it was recorded.'];
    return [
      `wave-${row.key}-file`,
      'This recording cannot be sent: at most 12 channels of 500,000 samples each. Remove it or send a shorter one.',
    ];
  }
  if (
    issue.code === 'too_big' &&
    issue.origin === 'array' &&
    second === undefined &&
    typeof head === 'string' &&
    head in LISTS
  ) {
    return ['form', `A request carries at most ${count(issue.maximum)} ${LISTS[head]}.`];
  }
  if (head === 'attachments')
    return ['attachments', 'Remove the files that cannot be sent: at most 20, each at most 16 MB.'];
  // A rule of the schema that no field above shows (e.g. more vital signs than a request carries): said at Send.
  return ['form', `This request cannot be sent as it is (${issue.path.join(' ') || 'request'}: ${issue.message}).`];
}

/** The request the core is asked to send, or what stands in the way, by field. `now` is when the user pressed Send. */
export function checkConsult(form: Form, now: number): { consult?: ComposeConsult; errors: FormErrors } {
  const errors: FormErrors = {};
  const parsed = consultSchema.safeParse(draftOf(form));
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const [field, message] = problemOf(issue, form);
    errors[field] ??= message;
  }

  // What the schema cannot know: the calendar, the clock, two fields against each other, the id's characters.
  const future = (iso: string) => Date.parse(iso) > now + CLOCK_SLACK_MS;
  const birth = /^(\d{4})-(\d{2})-(\d{2})$/.exec(form.birthDate);
  if (birth && !errors.birthDate) {
    const date = new Date(Date.UTC(Number(birth[1]), Number(birth[2]) - 1, Number(birth[3])));
    if (date.toISOString().slice(0, 10) !== form.birthDate) errors.birthDate = 'This date does not exist.';
    else if (date.getTime() > now) errors.birthDate = 'The birth date is in the future.';
    else if (Number(birth[1]) < 1900) errors.birthDate = 'The birth date is before 1900.';
  }
  if (!errors.nationalId && !/^[A-Za-z0-9-]*$/.test(form.nationalId.trim()))
    errors.nationalId = 'Only letters, digits and hyphens.';
  const notFuture = (field: string, local: string) => {
    const effective = fromLocalInput(local);
    if (!errors[field] && effective && future(effective)) errors[field] = 'This time is in the future.';
  };
  for (const row of form.vitals) notFuture(`vital-${row.key}-time`, row.time);
  for (const row of form.waveforms) notFuture(`wave-${row.key}-time`, row.time);
  if (form.systolic.trim() || form.diastolic.trim()) {
    notFuture('bpTime', form.bpTime);
    if (!errors.systolic && !errors.diastolic && numberOf(form.systolic) <= numberOf(form.diastolic))
      errors.diastolic = 'The diastolic pressure must be below the systolic.';
  }

  return parsed.success && Object.keys(errors).length === 0 ? { consult: parsed.data, errors } : { errors };
}
