import type { CaseView } from '../../shared/api/index.ts';
import type { ConsultStatus } from '../../shared/protocol/index.ts';
import { VITAL_SIGNS, type VitalSign, type Waveform } from '../../shared/protocol/fhir/index.ts';
import { personName, type MessageId } from '../../shared/i18n/index.ts';
import type { IntlShape } from 'react-intl';

/**
 * Words and tones for what a case shows: statuses, urgencies, message states, units, measures. The words are message
 * ids of the `common` catalogue (`t(PRIORITY_LABEL[p])`); what is built from values takes the user's `IntlShape`.
 */
export type Tone = 'ok' | 'warn' | 'bad' | undefined;
export type Priority = NonNullable<CaseView['priority']>;
export type MessageState = CaseView['messages'][number]['state'];

export const PRIORITIES: readonly Priority[] = ['routine', 'urgent', 'asap', 'stat'];

export const PRIORITY_LABEL: Readonly<Record<Priority, MessageId>> = {
  routine: 'common.priority.routine',
  urgent: 'common.priority.urgent',
  asap: 'common.priority.asap',
  stat: 'common.priority.stat',
};
export const PRIORITY_TONE: Readonly<Record<Priority, Tone>> = {
  routine: undefined,
  urgent: 'warn',
  asap: 'bad',
  stat: 'bad',
};

export const STATUS_LABEL: Readonly<Record<ConsultStatus, MessageId>> = {
  requested: 'common.status.requested',
  accepted: 'common.status.accepted',
  declined: 'common.status.declined',
  'more-information-needed': 'common.status.moreInformationNeeded',
  'information-provided': 'common.status.informationProvided',
  redirected: 'common.status.redirected',
  cancelled: 'common.status.cancelled',
  completed: 'common.status.completed',
};

export const STATUS_TONE: Readonly<Record<ConsultStatus, Tone>> = {
  requested: 'warn',
  accepted: undefined,
  declined: 'bad',
  'more-information-needed': 'warn',
  'information-provided': undefined,
  redirected: 'bad',
  cancelled: 'bad',
  completed: 'ok',
};

/** A status's words; a status this version does not know (a newer peer's) as it came. */
export function statusLabel(intl: IntlShape, status: string): string {
  const id = STATUS_LABEL[status as ConsultStatus] as MessageId | undefined;
  return id ? intl.formatMessage({ id }) : status;
}

export function statusTone(status: string): Tone {
  return STATUS_TONE[status as ConsultStatus];
}

/** A message's delivery state: a short word for the badge and what it means. */
export const STATE_TEXT: Readonly<Record<MessageState, { word: MessageId; meaning: MessageId; tone: Tone }>> = {
  queued: { word: 'common.state.queued', meaning: 'common.state.queuedMeaning', tone: 'warn' },
  sent: { word: 'common.state.sent', meaning: 'common.state.sentMeaning', tone: undefined },
  delivered: { word: 'common.state.delivered', meaning: 'common.state.deliveredMeaning', tone: undefined },
  processed: { word: 'common.state.processed', meaning: 'common.state.processedMeaning', tone: 'ok' },
  rejected: { word: 'common.state.rejected', meaning: 'common.state.rejectedMeaning', tone: 'bad' },
  failed: { word: 'common.state.failed', meaning: 'common.state.failedMeaning', tone: 'bad' },
  verified: { word: 'common.state.verified', meaning: 'common.state.verifiedMeaning', tone: 'ok' },
};

export const MESSAGE_TYPE_LABEL: Readonly<Record<CaseView['messages'][number]['type'], MessageId>> = {
  'consult.request': 'common.messageType.request',
  'consult.status': 'common.messageType.status',
  'consult.report': 'common.messageType.report',
};

const UNIT_DISPLAY: Readonly<Record<string, string>> = {
  Cel: '°C',
  'mm[Hg]': 'mmHg',
  '{absorbance}': '',
  '/min': '/min',
};

/** UCUM units as people write them. */
export function unitDisplay(unit: string): string {
  return UNIT_DISPLAY[unit] ?? unit;
}

const SHORT_VITAL_LABEL: Readonly<Record<VitalSign, MessageId>> = {
  heartRate: 'common.vital.heartRate',
  respiratoryRate: 'common.vital.respiratoryRate',
  bodyTemperature: 'common.vital.bodyTemperature',
  oxygenSaturation: 'common.vital.oxygenSaturation',
  bodyWeight: 'common.vital.bodyWeight',
  bloodGlucose: 'common.vital.bloodGlucose',
  systolicBloodPressure: 'common.vital.systolicBloodPressure',
  diastolicBloodPressure: 'common.vital.diastolicBloodPressure',
};

export function vitalLabel(intl: IntlShape, sign: VitalSign): string {
  return intl.formatMessage({ id: SHORT_VITAL_LABEL[sign] });
}

/** The short name of a measure received by its LOINC code, or the display it came with. */
export function vitalLabelByCode(intl: IntlShape, code: string, display: string): string {
  const sign = (Object.keys(VITAL_SIGNS) as VitalSign[]).find((s) => VITAL_SIGNS[s].code === code);
  return sign ? vitalLabel(intl, sign) : display;
}

export function waveformLabel(intl: IntlShape, kind: Waveform): string {
  return intl.formatMessage({ id: kind === 'ecg' ? 'common.waveform.ecg' : 'common.waveform.pleth' });
}

/** A moment as the user's language writes it (day, short month, year, time to the second). */
export function formatDateTime(intl: IntlShape, iso: string | number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return intl.formatDate(date, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function formatNumber(intl: IntlShape, value: number, digits = 3): string {
  return intl.formatNumber(value, { maximumFractionDigits: digits });
}

/** Whole years between a YYYY-MM-DD birth date and `today`. */
export function ageInYears(birthDate: string, today: Date): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  let age = today.getFullYear() - year;
  if (today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day)) age -= 1;
  return age >= 0 ? age : undefined;
}

export const GENDERS = ['female', 'male', 'other', 'unknown'] as const;
export const GENDER_LABEL: Readonly<Record<(typeof GENDERS)[number], MessageId>> = {
  female: 'common.gender.female',
  male: 'common.gender.male',
  other: 'common.gender.other',
  unknown: 'common.gender.unknown',
};

/** A FHIR administrative gender's word; another code as it came. */
export function genderLabel(intl: IntlShape, gender: string): string {
  const id = GENDER_LABEL[gender as (typeof GENDERS)[number]] as MessageId | undefined;
  return id ? intl.formatMessage({ id }) : gender;
}

/** Identifier systems the region uses, by name. */
export const NATIONAL_ID_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';
export function identifierLabel(intl: IntlShape, system: string | undefined): string {
  if (system === NATIONAL_ID_SYSTEM) return intl.formatMessage({ id: 'common.nationalId' });
  return system ?? intl.formatMessage({ id: 'common.identifier' });
}

/** The patient's name as the sender wrote it: given and family names (family first in Chinese), or the name as text. */
export function patientDisplayName(intl: IntlShape, patient: NonNullable<CaseView['patient']>): string {
  return personName(patient) || patient.text || intl.formatMessage({ id: 'common.noName' });
}

/**
 * Min, max and last of a series, in one pass (a waveform can hold 500,000 samples: no spreading into Math.min); null
 * samples (no value from the device) are skipped.
 */
export function seriesStats(
  values: readonly (number | null)[],
): { min: number; max: number; last: number } | undefined {
  let min = Infinity;
  let max = -Infinity;
  let last: number | undefined;
  for (const v of values) {
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    last = v;
  }
  return last === undefined ? undefined : { min, max, last };
}

export type PeriodUnit = 'h' | 'd' | 'wk' | 'mo';
/** The unit of a dosage's period as a choice in a list ("hours"). */
export const PERIOD_UNIT_LABEL: Readonly<Record<PeriodUnit, MessageId>> = {
  h: 'common.periodUnit.h',
  d: 'common.periodUnit.d',
  wk: 'common.periodUnit.wk',
  mo: 'common.periodUnit.mo',
};
const FREQUENCY: Readonly<Record<PeriodUnit, MessageId>> = {
  h: 'common.frequency.h',
  d: 'common.frequency.d',
  wk: 'common.frequency.wk',
  mo: 'common.frequency.mo',
};

/** "twice a day", "once every 8 hours": the plural rules of the user's language choose the words. */
export function frequencyText(intl: IntlShape, frequency: number, period: number, periodUnit: PeriodUnit): string {
  return intl.formatMessage({ id: FREQUENCY[periodUnit] }, { frequency, period });
}

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';

/** How long something has waited, as a clinician says it: "4 min", "2 h 05 min", "3 d 4 h" (in the user's digits). */
export function waitingText(intl: IntlShape, sinceIso: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - new Date(sinceIso).getTime()) / 60_000));
  if (minutes < 60) return intl.formatMessage({ id: 'common.waited.minutes' }, { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const padded = intl.formatNumber(minutes % 60, { minimumIntegerDigits: 2 });
    return intl.formatMessage({ id: 'common.waited.hours' }, { hours, minutes: padded });
  }
  return intl.formatMessage({ id: 'common.waited.days' }, { days: Math.floor(hours / 24), hours: hours % 24 });
}

/** "67 y F": age from a full birth date (a year alone gives an age within a year, marked "≈"), and sex. */
export function ageSexText(
  intl: IntlShape,
  birthDate: string | undefined,
  gender: string | undefined,
  today: Date,
): string {
  let age = birthDate === undefined ? undefined : ageInYears(birthDate, today);
  let approximate = false;
  if (age === undefined && birthDate && /^\d{4}(-\d{2})?$/.test(birthDate)) {
    const years = today.getFullYear() - Number(birthDate.slice(0, 4));
    if (years >= 0) [age, approximate] = [years, true];
  }
  const ageText =
    age === undefined ? '' : intl.formatMessage({ id: approximate ? 'common.age.about' : 'common.age.years' }, { age });
  const sex = gender && gender !== 'unknown' ? intl.formatMessage({ id: 'common.sexShort' }, { gender }) : '';
  return [ageText, sex].filter(Boolean).join(' ');
}
