import type { Bundle, DocumentReference, Observation, Resource, SampledData } from '@medplum/fhirtypes';
import type { CaseView, PatientView } from '../../../shared/api/index.ts';
import { ECG_LEADS, VITAL_SIGNS, type Prescription } from '../../../shared/protocol/fhir/index.ts';
import type { ConsultMessageType } from './case-store.ts';

/**
 * Reads the verified FHIR payload of a consult message back into the plain shapes the renderer shows: the inverse of
 * the builders in shared/protocol/fhir/message-builders.ts. The payload profiles guarantee the structure read here,
 * but a peer built by others may fill it in any way the profiles allow; what this app would not have written is shown
 * as sent (a partial birth date, a sample without a value as a gap), never made to fail the case (the views of
 * shared/api/consult-schemas.ts take it).
 */
type Attachment = CaseView['attachments'][number];
type Report = Omit<NonNullable<CaseView['report']>, 'signer' | 'verified' | 'envelopeSha256'>;

export type CaseMessageContent =
  | {
      kind: 'request';
      patient: PatientView;
      reason: string;
      question?: string;
      vitals: CaseView['vitals'];
      bloodPressure: CaseView['bloodPressure'];
      waveforms: CaseView['waveforms'];
      attachments: Attachment[];
    }
  | { kind: 'status'; note?: string; suggestedPractitioner?: string; attachments: Attachment[] }
  | { kind: 'report'; report: Report };

type OfType<T extends Resource['resourceType']> = Extract<Resource, { resourceType: T }>;

function ofType<T extends Resource['resourceType']>(all: readonly Resource[], type: T): OfType<T>[] {
  return all.filter((r): r is OfType<T> => r.resourceType === type);
}

/** Bytes of base64 text (for a file whose size the sender left out). */
const decodedSize = (base64: string) =>
  Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);

function attachmentsOf(all: readonly Resource[]): Attachment[] {
  return ofType(all, 'DocumentReference').map((d: DocumentReference) => {
    const a = d.content[0]?.attachment ?? {};
    const base64 = a.data ?? '';
    return {
      title: a.title ?? d.description ?? 'attachment',
      contentType: a.contentType ?? 'application/octet-stream',
      base64,
      size: a.size ?? decodedSize(base64),
    };
  });
}

const LEAD_BY_CODE = new Map<string, keyof typeof ECG_LEADS>(
  Object.entries(ECG_LEADS).map(([lead, code]) => [code, lead as keyof typeof ECG_LEADS]),
);
const VITAL_CODES = new Set<string>(Object.values(VITAL_SIGNS).map((v) => v.code));
const codeOf = (o: Observation) => o.code.coding?.[0]?.code ?? '';

/** The values of a SampledData (origin + factor × data point); null where the device had none ("E", "L", "U"). */
function samplesOf(data: SampledData): (number | null)[] {
  const origin = data.origin.value ?? 0;
  const factor = data.factor ?? 1;
  return (data.data ?? '')
    .split(' ')
    .filter(Boolean)
    .map((point) => {
      const value = Number(point);
      return Number.isFinite(value) ? origin + factor * value : null;
    });
}

function request(all: readonly Resource[]): CaseMessageContent {
  const patient = ofType(all, 'Patient')[0];
  const service = ofType(all, 'ServiceRequest')[0];
  const observations = ofType(all, 'Observation');
  const name = patient?.name?.[0] ?? {};
  const question = service?.note?.[0]?.text;
  // An identifier without a value has nothing to show.
  const identifiers = (patient?.identifier ?? []).flatMap((i) =>
    i.value ? [{ ...(i.system && { system: i.system }), value: i.value }] : [],
  );
  return {
    kind: 'request',
    patient: {
      family: name.family ?? '',
      given: name.given ?? [],
      ...(name.text && { text: name.text }),
      gender: patient?.gender ?? 'unknown',
      birthDate: patient?.birthDate ?? '',
      ...(identifiers.length > 0 && { identifiers }),
    },
    reason: service?.reasonCode?.[0]?.text ?? '',
    ...(question && { question }),
    vitals: observations
      .filter((o) => o.valueQuantity && VITAL_CODES.has(codeOf(o)))
      .map((o) => ({
        code: codeOf(o),
        display: o.code.coding?.[0]?.display ?? o.code.text ?? '',
        value: o.valueQuantity?.value ?? Number.NaN,
        unit: o.valueQuantity?.unit ?? o.valueQuantity?.code ?? '',
        effective: o.effectiveDateTime ?? '',
      })),
    bloodPressure: observations
      .filter((o) => o.component?.length === 2 && o.component.every((c) => c.valueQuantity))
      .map((o) => ({
        systolic: o.component![0]!.valueQuantity!.value ?? Number.NaN,
        diastolic: o.component![1]!.valueQuantity!.value ?? Number.NaN,
        effective: o.effectiveDateTime ?? '',
      })),
    waveforms: observations.flatMap((o) => {
      const sampled = (o.component ?? []).filter((c) => c.valueSampledData);
      if (sampled.length === 0) return [];
      return [
        {
          kind: o.code.text === 'ECG' ? ('ecg' as const) : ('pleth' as const),
          effective: o.effectiveDateTime ?? '',
          periodMs: sampled[0]!.valueSampledData!.period,
          series: sampled.map((c) => {
            const lead = LEAD_BY_CODE.get(c.code.coding?.[0]?.code ?? '');
            return { ...(lead && { lead }), samples: samplesOf(c.valueSampledData!) };
          }),
        },
      ];
    }),
    attachments: attachmentsOf(all),
  };
}

function status(all: readonly Resource[]): CaseMessageContent {
  const task = ofType(all, 'Task')[0];
  const note = task?.note?.[0]?.text;
  const suggested = task?.output?.find((o) => o.type.text === 'suggested-practitioner')?.valueIdentifier?.value;
  return {
    kind: 'status',
    ...(note && { note }),
    ...(suggested && { suggestedPractitioner: suggested }),
    attachments: attachmentsOf(all),
  };
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
        return {
          text: c.text ?? coding?.display ?? '',
          ...(coding?.system && { system: coding.system }),
          ...(coding?.code && { code: coding.code }),
        };
      }),
      prescriptions: ofType(all, 'MedicationRequest').map((m) => {
        const dosage = m.dosageInstruction?.[0] ?? {};
        const repeat = dosage.timing?.repeat ?? {};
        const dose = dosage.doseAndRate?.[0]?.doseQuantity ?? {};
        const medication = m.medicationCodeableConcept;
        return {
          medication: medication?.text ?? medication?.coding?.[0]?.display ?? medication?.coding?.[0]?.code ?? '',
          dose: dose.value ?? Number.NaN,
          unit: dose.unit ?? dose.code ?? '',
          frequency: repeat.frequency ?? 1,
          period: repeat.period ?? 1,
          periodUnit: (repeat.periodUnit ?? 'd') as Prescription['periodUnit'],
          ...(dosage.route?.text && { route: dosage.route.text }),
          ...(dosage.text && { instructions: dosage.text }),
        };
      }),
    },
  };
}

export function readCaseMessage(type: ConsultMessageType, payload: Record<string, unknown>): CaseMessageContent {
  const all = ((payload as unknown as Bundle).entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Resource => r !== undefined);
  return type === 'consult.request' ? request(all) : type === 'consult.status' ? status(all) : report(all);
}
