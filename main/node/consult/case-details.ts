import type { PatientView } from '../../../shared/api/index.ts';
import { personName } from '../../../shared/i18n/index.ts';
import type { CaseMessageContent } from './case-payloads.ts';
import type { DirectoryMirror } from '../directory/directory-mirror.ts';
import type { CaseDetails } from './case-store.ts';

/** The patient's name as one line: the sender's text if it gave one, else its parts (family first in Han script). */
export function patientNameOf(patient: Pick<PatientView, 'family' | 'given' | 'text'>): string {
  return (patient.text ?? personName(patient)).trim();
}

/** At most this much of the reason's first line is kept for the inbox row (the case holds all of it). */
const REASON_CHARS = 200;

/** What the inbox and the case search keep of a verified request or report. */
export function detailsOf(content: CaseMessageContent): CaseDetails {
  if (content.kind === 'request') {
    const firstLine = content.reason.split(/\r?\n/).find((line) => line.trim()) ?? '';
    return {
      patientName: patientNameOf(content.patient),
      ...(content.patient.birthDate && { patientBirthDate: content.patient.birthDate }),
      patientGender: content.patient.gender,
      reason: firstLine.trim().slice(0, REASON_CHARS),
    };
  }
  if (content.kind === 'report') {
    const { report } = content;
    const diagnoses = (report.diagnoses ?? []).map((d) => [d.code, d.text].filter(Boolean).join(' '));
    return { diagnosis: [report.conclusion, ...diagnoses].filter(Boolean).join('\n') };
  }
  return {};
}

/** The other party as the directory names them now: kept with the case, for when the directory no longer does. */
export function peerDetailsOf(mirror: Pick<DirectoryMirror, 'people'>, practitionerId: string): CaseDetails {
  const person = mirror.people([practitionerId]).get(practitionerId);
  return {
    ...(person?.name && { peerName: person.name }),
    ...(person?.organization && { peerHospital: person.organization }),
  };
}
