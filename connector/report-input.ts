import { reportInputSchema, type ReportInput } from '../shared/api/index.ts';

/**
 * The expert's report sent as FHIR resources, read into the report form the consult service signs: one
 * DiagnosticReport (`conclusion`; `conclusionCode` as diagnoses), at most one Observation of findings (`valueString`),
 * and MedicationRequests (medication, one dose, its timing, route and instructions). The connector writes the Patient
 * (as the request named it) and the Task itself. Problems name the resource by pointer, never quoting its content.
 */
export type ReportResourcesInput = Omit<ReportInput, 'caseId'>;
export interface ReportInputProblem {
  readonly pointer: string;
  readonly detail: string;
}
export type ReportResourcesResult =
  { ok: true; value: ReportResourcesInput } | { ok: false; problems: ReportInputProblem[] };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const textOf = (concept: unknown): string | undefined => {
  if (!isObject(concept)) return undefined;
  if (typeof concept.text === 'string' && concept.text.trim()) return concept.text.trim();
  const display = list(concept.coding).find((c) => typeof c.display === 'string')?.display;
  return typeof display === 'string' ? display : undefined;
};

export function readReportResources(resources: readonly unknown[]): ReportResourcesResult {
  const problems: ReportInputProblem[] = [];
  const fail = (pointer: string, detail: string) => problems.push({ pointer, detail });
  const reports: { resource: Json; at: string }[] = [];
  const findings: { resource: Json; at: string }[] = [];
  const medications: { resource: Json; at: string }[] = [];
  resources.forEach((resource, i) => {
    const at = `/resources/${i}`;
    if (!isObject(resource)) return fail(at, 'a FHIR resource (an object) is expected');
    switch (resource.resourceType) {
      case 'DiagnosticReport':
        return void reports.push({ resource, at });
      case 'Observation':
        return void findings.push({ resource, at });
      case 'MedicationRequest':
        return void medications.push({ resource, at });
      case 'Patient':
      case 'Task':
        return fail(
          `${at}/resourceType`,
          `the connector writes the ${resource.resourceType} itself (the patient as the request named them)`,
        );
      default:
        return fail(
          `${at}/resourceType`,
          'a report carries one DiagnosticReport, at most one Observation of findings, and MedicationRequests',
        );
    }
  });
  if (reports.length !== 1) fail('/resources', `exactly one DiagnosticReport is needed, not ${reports.length}`);
  if (findings.length > 1)
    fail(`${findings[1]!.at}`, 'one Observation carries the findings (valueString); put the others in it');

  const report = reports[0];
  const conclusion = report && typeof report.resource.conclusion === 'string' ? report.resource.conclusion : undefined;
  if (report && conclusion === undefined) fail(`${report.at}/conclusion`, 'the conclusion is required');
  const diagnoses = report
    ? list(report.resource.conclusionCode).map((code, i) => {
        const coding = list(code.coding)[0];
        const text = textOf(code);
        if (!text) fail(`${report.at}/conclusionCode/${i}`, 'a diagnosis needs its text (or a coding with a display)');
        return {
          ...(typeof coding?.system === 'string' && { system: coding.system }),
          ...(typeof coding?.code === 'string' && { code: coding.code }),
          text: text ?? '',
        };
      })
    : [];

  const finding = findings[0];
  const findingsText = finding?.resource.valueString;
  if (finding && typeof findingsText !== 'string')
    fail(`${finding.at}/valueString`, 'the findings are given as valueString');

  const prescriptions = medications.map(({ resource, at }) => {
    const medication = textOf(resource.medicationCodeableConcept);
    if (!medication)
      fail(`${at}/medicationCodeableConcept`, 'the medication is required (text, or a coding with a display)');
    const dosages = list(resource.dosageInstruction);
    if (dosages.length !== 1) fail(`${at}/dosageInstruction`, 'one dosage instruction per MedicationRequest');
    const dosage = dosages[0] ?? {};
    const dose = list(dosage.doseAndRate)[0]?.doseQuantity;
    const repeat = isObject(dosage.timing) && isObject(dosage.timing.repeat) ? dosage.timing.repeat : {};
    if (!isObject(dose) || typeof dose.value !== 'number' || typeof dose.unit !== 'string')
      fail(`${at}/dosageInstruction/0/doseAndRate/0/doseQuantity`, 'the dose needs value and unit');
    if (
      typeof repeat.frequency !== 'number' ||
      typeof repeat.period !== 'number' ||
      typeof repeat.periodUnit !== 'string'
    )
      fail(
        `${at}/dosageInstruction/0/timing/repeat`,
        'the timing needs frequency, period and periodUnit (h, d, wk, mo)',
      );
    const route = textOf(dosage.route);
    return {
      medication: medication ?? '',
      dose: isObject(dose) ? dose.value : undefined,
      unit: isObject(dose) ? dose.unit : undefined,
      frequency: repeat.frequency,
      period: repeat.period,
      periodUnit: repeat.periodUnit,
      ...(route && { route }),
      ...(typeof dosage.text === 'string' && { instructions: dosage.text }),
    };
  });
  if (problems.length > 0) return { ok: false, problems };

  const candidate = {
    conclusion,
    ...(typeof findingsText === 'string' && { findings: findingsText }),
    ...(diagnoses.length > 0 && { diagnoses }),
    ...(prescriptions.length > 0 && { prescriptions }),
  };
  const checked = reportInputSchema.omit({ caseId: true }).safeParse(candidate);
  if (!checked.success) {
    // Back to where each value came from: the report, the findings, or the n-th MedicationRequest.
    const where = (path: readonly PropertyKey[]) =>
      path[0] === 'prescriptions'
        ? (medications[Number(path[1])]?.at ?? '/resources')
        : path[0] === 'findings'
          ? (finding?.at ?? '/resources')
          : (report?.at ?? '/resources');
    return {
      ok: false,
      problems: checked.error.issues.map((issue) => ({
        pointer: where(issue.path),
        detail: `${issue.path.join('.')}: ${issue.message}`,
      })),
    };
  }
  return { ok: true, value: checked.data };
}
