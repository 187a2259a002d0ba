import type { z } from 'zod';
import { COMMANDS, commandContract, type ComposeConsult } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
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

/** What a field shows about a problem: a message of the `compose` catalogue and its values (the screen words it). */
export interface Problem {
  readonly id: MessageId;
  readonly values?: Readonly<Record<string, string | number>>;
}

/** Problems by field key (`family`, `vital-3-time`, …); `form` for one that no field shows. */
export type FormErrors = Record<string, Problem>;

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
const max = (issue: Issue) => (issue.code === 'too_big' ? Number(issue.maximum) : undefined);
/** "At most 200 characters." from the schema's own bound. */
const atMost = (issue: Issue, id: MessageId): Problem | undefined => {
  const bound = max(issue);
  return bound === undefined ? undefined : { id, values: { max: bound } };
};
const problem = (id: MessageId): Problem => ({ id });

/** The request's lists, for when one holds more than a request carries (the message's `list` choices). */
const LISTS: ReadonlySet<string> = new Set(['vitals', 'bloodPressure', 'waveforms', 'attachments']);

/** The field that shows a schema issue, and what it says there in the form's words. */
function problemOf(issue: Issue, form: Form): [field: string, problem: Problem] {
  const [head, second, third] = issue.path;
  if (head === 'expertId') return ['expert', problem('compose.problem.chooseExpert')];
  if (head === 'patient') {
    switch (second) {
      case 'family':
        return [
          'family',
          atMost(issue, 'compose.problem.atMostCharacters') ?? problem('compose.problem.familyRequired'),
        ];
      case 'given':
        // The list (none, too many) or one name in it (too long).
        if (third === undefined)
          return [
            'given',
            atMost(issue, 'compose.problem.atMostGivenNames') ?? problem('compose.problem.givenRequired'),
          ];
        return [
          'given',
          atMost(issue, 'compose.problem.atMostGivenNameCharacters') ?? problem('compose.problem.givenRequired'),
        ];
      case 'gender':
        return ['gender', problem('compose.problem.genderRequired')];
      case 'birthDate':
        return [
          'birthDate',
          problem(form.birthDate ? 'compose.problem.birthDateFormat' : 'compose.problem.birthDateRequired'),
        ];
      case 'identifiers':
        return [
          'nationalId',
          atMost(issue, 'compose.problem.atMostCharacters') ?? problem('compose.problem.nationalIdInvalid'),
        ];
      default:
        break;
    }
  }
  if (head === 'reason')
    return ['reason', atMost(issue, 'compose.problem.atMostCharacters') ?? problem('compose.problem.reasonRequired')];
  if (head === 'question')
    return [
      'question',
      atMost(issue, 'compose.problem.atMostCharacters') ?? problem('compose.problem.questionTooLong'),
    ];
  if (head === 'vitals' && typeof second === 'number' && form.vitals[second]) {
    const row = form.vitals[second];
    return third === 'effective'
      ? [`vital-${row.key}-time`, problem('compose.problem.measuredWhen')]
      : [`vital-${row.key}-value`, problem('compose.problem.enterNumber')];
  }
  if (head === 'bloodPressure') {
    if (third === 'systolic') return ['systolic', problem('compose.problem.systolicRange')];
    if (third === 'diastolic') return ['diastolic', problem('compose.problem.diastolicRange')];
    if (third === 'effective') return ['bpTime', problem('compose.problem.measuredWhen')];
  }
  if (head === 'waveforms' && typeof second === 'number' && form.waveforms[second]) {
    const row = form.waveforms[second];
    if (third === 'periodMs') return [`wave-${row.key}-period`, problem('compose.problem.samplePeriod')];
    if (third === 'effective') return [`wave-${row.key}-time`, problem('compose.problem.recordedWhen')];
    return [`wave-${row.key}-file`, problem('compose.problem.recordingTooLarge')];
  }
  if (
    issue.code === 'too_big' &&
    issue.origin === 'array' &&
    second === undefined &&
    typeof head === 'string' &&
    LISTS.has(head)
  ) {
    return ['form', { id: 'compose.problem.listTooLong', values: { list: head, max: Number(issue.maximum) } }];
  }
  if (head === 'attachments') return ['attachments', problem('compose.problem.attachments')];
  // A rule of the schema that no field above shows: said at Send, with the schema's own (English) words.
  const path = issue.path.join(' ');
  return [
    'form',
    path
      ? { id: 'compose.problem.otherAt', values: { path, detail: issue.message } }
      : { id: 'compose.problem.other', values: { detail: issue.message } },
  ];
}

/** The request the core is asked to send, or what stands in the way, by field. `now` is when the user pressed Send. */
export function checkConsult(form: Form, now: number): { consult?: ComposeConsult; errors: FormErrors } {
  const errors: FormErrors = {};
  const parsed = consultSchema.safeParse(draftOf(form));
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const [field, found] = problemOf(issue, form);
    errors[field] ??= found;
  }

  // What the schema cannot know: the calendar, the clock, two fields against each other, the id's characters.
  const future = (iso: string) => Date.parse(iso) > now + CLOCK_SLACK_MS;
  const birth = /^(\d{4})-(\d{2})-(\d{2})$/.exec(form.birthDate);
  if (birth && !errors.birthDate) {
    const date = new Date(Date.UTC(Number(birth[1]), Number(birth[2]) - 1, Number(birth[3])));
    if (date.toISOString().slice(0, 10) !== form.birthDate)
      errors.birthDate = problem('compose.problem.dateDoesNotExist');
    else if (date.getTime() > now) errors.birthDate = problem('compose.problem.birthDateInFuture');
    else if (Number(birth[1]) < 1900) errors.birthDate = problem('compose.problem.birthDateBefore1900');
  }
  if (!errors.nationalId && !/^[A-Za-z0-9-]*$/.test(form.nationalId.trim()))
    errors.nationalId = problem('compose.problem.nationalIdCharacters');
  const notFuture = (field: string, local: string) => {
    const effective = fromLocalInput(local);
    if (!errors[field] && effective && future(effective)) errors[field] = problem('compose.problem.timeInFuture');
  };
  for (const row of form.vitals) notFuture(`vital-${row.key}-time`, row.time);
  for (const row of form.waveforms) notFuture(`wave-${row.key}-time`, row.time);
  if (form.systolic.trim() || form.diastolic.trim()) {
    notFuture('bpTime', form.bpTime);
    if (!errors.systolic && !errors.diastolic && numberOf(form.systolic) <= numberOf(form.diastolic))
      errors.diastolic = problem('compose.problem.diastolicBelowSystolic');
  }

  return parsed.success && Object.keys(errors).length === 0 ? { consult: parsed.data, errors } : { errors };
}
