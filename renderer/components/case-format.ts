import type { CaseView } from '../../shared/api/index.ts';
import type { ConsultStatus } from '../../shared/protocol/index.ts';
import { VITAL_SIGNS, type VitalSign, type Waveform } from '../../shared/protocol/fhir/index.ts';

/** Words and tones for what a case shows: statuses, urgencies, message states, units, measures. */
export type Tone = 'ok' | 'warn' | 'bad' | undefined;
export type Priority = NonNullable<CaseView['priority']>;
export type MessageState = CaseView['messages'][number]['state'];

export const PRIORITIES: readonly Priority[] = ['routine', 'urgent', 'asap', 'stat'];

export const PRIORITY_LABEL: Readonly<Record<Priority, string>> = {
  routine: 'Routine',
  urgent: 'Urgent',
  asap: 'ASAP',
  stat: 'STAT',
};
export const PRIORITY_TONE: Readonly<Record<Priority, Tone>> = {
  routine: undefined,
  urgent: 'warn',
  asap: 'bad',
  stat: 'bad',
};

export const STATUS_LABEL: Readonly<Record<ConsultStatus, string>> = {
  requested: 'Requested',
  accepted: 'Accepted',
  declined: 'Declined',
  'more-information-needed': 'More information needed',
  'information-provided': 'Information provided',
  redirected: 'Redirected',
  cancelled: 'Cancelled',
  completed: 'Completed',
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

export function statusLabel(status: string): string {
  return STATUS_LABEL[status as ConsultStatus] ?? status;
}

export function statusTone(status: string): Tone {
  return STATUS_TONE[status as ConsultStatus];
}

/** A message's delivery state: a short word for the badge and what it means. */
export const STATE_TEXT: Readonly<Record<MessageState, { word: string; meaning: string; tone: Tone }>> = {
  queued: { word: 'queued', meaning: 'waits in the outbox', tone: 'warn' },
  sent: { word: 'sent', meaning: 'on its way to the hub', tone: undefined },
  delivered: { word: 'delivered', meaning: 'the hub passed it on', tone: undefined },
  processed: { word: 'processed', meaning: 'the other workstation took it', tone: 'ok' },
  rejected: { word: 'rejected', meaning: 'refused', tone: 'bad' },
  failed: { word: 'failed', meaning: 'could not be sent', tone: 'bad' },
  verified: { word: 'verified', meaning: 'received, signature checked', tone: 'ok' },
};

export const MESSAGE_TYPE_LABEL: Readonly<Record<CaseView['messages'][number]['type'], string>> = {
  'consult.request': 'Request',
  'consult.status': 'Status',
  'consult.report': 'Report',
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

const SHORT_VITAL_LABEL: Readonly<Record<VitalSign, string>> = {
  heartRate: 'Heart rate',
  respiratoryRate: 'Respiratory rate',
  bodyTemperature: 'Body temperature',
  oxygenSaturation: 'Oxygen saturation (SpO2)',
  bodyWeight: 'Body weight',
  bloodGlucose: 'Blood glucose',
  systolicBloodPressure: 'Systolic blood pressure',
  diastolicBloodPressure: 'Diastolic blood pressure',
};

export function vitalLabel(sign: VitalSign): string {
  return SHORT_VITAL_LABEL[sign];
}

/** The short name of a measure received by its LOINC code, or the display it came with. */
export function vitalLabelByCode(code: string, display: string): string {
  const sign = (Object.keys(VITAL_SIGNS) as VitalSign[]).find((s) => VITAL_SIGNS[s].code === code);
  return sign ? SHORT_VITAL_LABEL[sign] : display;
}

export function waveformLabel(kind: Waveform): string {
  return kind === 'ecg' ? 'ECG' : 'SpO2 plethysmogram';
}

export function formatDateTime(iso: string | number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function formatNumber(value: number, digits = 3): string {
  return value.toLocaleString(undefined, { maximumFractionDigits: digits });
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

export const GENDER_LABEL: Readonly<Record<string, string>> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  unknown: 'Unknown',
};

/** Identifier systems the region uses, by name. */
export const NATIONAL_ID_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';
export function identifierLabel(system: string | undefined): string {
  return system === NATIONAL_ID_SYSTEM ? 'National id' : (system ?? 'Identifier');
}

/** The patient's name as the sender wrote it: given and family names, or the name as one text. */
export function patientDisplayName(patient: NonNullable<CaseView['patient']>): string {
  const parts = `${patient.given.join(' ')} ${patient.family}`.trim();
  return parts || patient.text || 'No name given';
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

export const PERIOD_UNIT_LABEL: Readonly<Record<'h' | 'd' | 'wk' | 'mo', { one: string; many: string }>> = {
  h: { one: 'hour', many: 'hours' },
  d: { one: 'day', many: 'days' },
  wk: { one: 'week', many: 'weeks' },
  mo: { one: 'month', many: 'months' },
};

/** "2 times per 1 day", "once per 8 hours". */
export function frequencyText(frequency: number, period: number, periodUnit: 'h' | 'd' | 'wk' | 'mo'): string {
  const times = frequency === 1 ? 'once' : `${frequency} times`;
  const unit = PERIOD_UNIT_LABEL[periodUnit];
  return period === 1 ? `${times} per ${unit.one}` : `${times} every ${formatNumber(period)} ${unit.many}`;
}

export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';

/** How long something has waited, as a clinician says it: "4 min", "2 h 05 min", "3 d 4 h". */
export function waitingText(sinceIso: string, now: Date): string {
  const minutes = Math.max(0, Math.floor((now.getTime() - new Date(sinceIso).getTime()) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "67 y F": age from a full birth date (a year alone gives an age within a year, marked "≈"), and sex. */
export function ageSexText(birthDate: string | undefined, gender: string | undefined, today: Date): string {
  let age = birthDate === undefined ? undefined : ageInYears(birthDate, today)?.toString();
  if (age === undefined && birthDate && /^\d{4}(-\d{2})?$/.test(birthDate)) {
    const years = today.getFullYear() - Number(birthDate.slice(0, 4));
    if (years >= 0) age = `≈${years}`;
  }
  const sex = { female: 'F', male: 'M', other: 'other', unknown: '' }[gender ?? 'unknown'] ?? '';
  return [age !== undefined ? `${age} y` : '', sex].filter(Boolean).join(' ');
}
