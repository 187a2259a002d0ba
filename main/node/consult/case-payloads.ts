import type { Bundle, DocumentReference, Observation, Resource } from '@medplum/fhirtypes';
import type { CaseView } from '../../../shared/api/consult-schemas.ts';
import { ECG_LEADS, VITAL_SIGNS } from '../../../shared/protocol/fhir/vital-signs.ts';
import type { PatientDetails, Prescription } from '../../../shared/protocol/fhir/message-builders.ts';
import type { ConsultMessageType } from './case-store.ts';

/**
 * Reads the verified FHIR payload of a consult message back into the plain shapes the renderer shows: the inverse of
 * the builders in shared/protocol/fhir/message-builders.ts (the payload profiles guarantee the structure read here).
 */
type Attachment = CaseView['attachments'][number];
type Report = Omit<NonNullable<CaseView['report']>, 'signer' | 'verified'>;

export type CaseMessageContent =
  | { kind: 'request'; patient: PatientDetails; reason: string; question?: string; vitals: CaseView['vitals']; bloodPressure: CaseView['bloodPressure']; waveforms: CaseView['waveforms']; attachments: Attachment[] }
  | { kind: 'status'; note?: string; suggestedPractitioner?: string; attachments: Attachment[] }
  | { kind: 'report'; report: Report };

type OfType<T extends Resource['resourceType']> = Extract<Resource, { resourceType: T }>;

function ofType<T extends Resource['resourceType']>(all: readonly Resource[], type: T): OfType<T>[] {
  return all.filter((r): r is OfType<T> => r.resourceType === type);
}

function attachmentsOf(all: readonly Resource[]): Attachment[] {
  return ofType(all, 'DocumentReference').map((d: DocumentReference) => {
    const a = d.content[0]?.attachment ?? {};
    return { title: a.title ?? d.description ?? 'attachment', contentType: a.contentType ?? 'application/octet-stream', base64: a.data ?? '', size: a.size ?? 0 };
  });
}

const LEAD_BY_CODE = new Map<string, keyof typeof ECG_LEADS>(Object.entries(ECG_LEADS).map(([lead, code]) => [code, lead as keyof typeof ECG_LEADS]));
const VITAL_CODES = new Set<string>(Object.values(VITAL_SIGNS).map((v) => v.code));
const codeOf = (o: Observation) => o.code.coding?.[0]?.code ?? '';

function request(all: readonly Resource[]): CaseMessageContent {
  const patient = ofType(all, 'Patient')[0];
  const service = ofType(all, 'ServiceRequest')[0];
  const observations = ofType(all, 'Observation');
  const name = patient?.name?.[0] ?? {};
  const question = service?.note?.[0]?.text;
  return {
    kind: 'request',
    patient: {
      family: name.family ?? '', given: name.given ?? [], gender: patient?.gender ?? 'unknown', birthDate: patient?.birthDate ?? '',
      ...(patient?.identifier && { identifiers: patient.identifier.map((i) => ({ system: i.system ?? '', value: i.value ?? '' })) }),
    },
    reason: service?.reasonCode?.[0]?.text ?? '',
    ...(question && { question }),
    vitals: observations.filter((o) => o.valueQuantity && VITAL_CODES.has(codeOf(o))).map((o) => ({
      code: codeOf(o), display: o.code.coding?.[0]?.display ?? o.code.text ?? '', value: o.valueQuantity?.value ?? Number.NaN,
      unit: o.valueQuantity?.unit ?? o.valueQuantity?.code ?? '', effective: o.effectiveDateTime ?? '',
    })),
    bloodPressure: observations.filter((o) => o.component?.length === 2 && o.component.every((c) => c.valueQuantity)).map((o) => ({
      systolic: o.component![0]!.valueQuantity!.value ?? Number.NaN, diastolic: o.component![1]!.valueQuantity!.value ?? Number.NaN, effective: o.effectiveDateTime ?? '',
    })),
    waveforms: observations.filter((o) => o.component?.some((c) => c.valueSampledData)).map((o) => ({
      kind: o.code.text === 'ECG' ? 'ecg' as const : 'pleth' as const,
      effective: o.effectiveDateTime ?? '',
      periodMs: o.component![0]!.valueSampledData!.period ?? 1,
      series: o.component!.map((c) => {
        const lead = LEAD_BY_CODE.get(c.code.coding?.[0]?.code ?? '');
        return { ...(lead && { lead }), samples: (c.valueSampledData?.data ?? '').split(' ').filter(Boolean).map(Number) };
      }),
    })),
    attachments: attachmentsOf(all),
  };
}

function status(all: readonly Resource[]): CaseMessageContent {
  const task = ofType(all, 'Task')[0];
  const note = task?.note?.[0]?.text;
  const suggested = task?.output?.find((o) => o.type.text === 'suggested-practitioner')?.valueIdentifier?.value;
  return { kind: 'status', ...(note && { note }), ...(suggested && { suggestedPractitioner: suggested }), attachments: attachmentsOf(all) };
}

function report(all: readonly Resource[]): CaseMessageContent {
  const diagnostic = ofType(all, 'DiagnosticReport')[0];
  const findings = ofType(all, 'Observation').find((o) => o.code.text === 'Findings')?.valueString;
  return {
    kind: 'report',
    report: {
      ...(findings && { findings }),
      conclusion: diagnostic?.conclusion ?? '',
      diagnoses: (diagnostic?.conclusionCode ?? []).map((c) => {
        const coding = c.coding?.[0];
        return { text: c.text ?? coding?.display ?? '', ...(coding?.system && { system: coding.system }), ...(coding?.code && { code: coding.code }) };
      }),
      prescriptions: ofType(all, 'MedicationRequest').map((m) => {
        const dosage = m.dosageInstruction?.[0] ?? {};
        const repeat = dosage.timing?.repeat ?? {};
        const dose = dosage.doseAndRate?.[0]?.doseQuantity ?? {};
        return {
          medication: m.medicationCodeableConcept?.text ?? '', dose: dose.value ?? Number.NaN, unit: dose.unit ?? '', frequency: repeat.frequency ?? 1,
          period: repeat.period ?? 1, periodUnit: (repeat.periodUnit ?? 'd') as Prescription['periodUnit'],
          ...(dosage.route?.text && { route: dosage.route.text }), ...(dosage.text && { instructions: dosage.text }),
        };
      }),
    },
  };
}

export function readCaseMessage(type: ConsultMessageType, payload: Record<string, unknown>): CaseMessageContent {
  const all = ((payload as unknown as Bundle).entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  return type === 'consult.request' ? request(all) : type === 'consult.status' ? status(all) : report(all);
}
