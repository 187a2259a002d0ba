import type { z } from 'zod';
import { composeConsultSchema, type ComposeConsult } from '../shared/api/index.ts';
import { fromBase64 } from '../shared/pki/index.ts';
import {
  BLOOD_PRESSURE_PANEL,
  ECG_LEADS,
  LOINC,
  MDC,
  VITAL_SIGNS,
  WAVEFORMS,
  type VitalSign,
  type Waveform,
} from '../shared/protocol/fhir/index.ts';

/**
 * A consult request as a clinic system sends it: the FHIR resources of the case (Patient, ServiceRequest, Observations,
 * DocumentReferences), read into the compose form the workstation sends from (shared/api/consult-schemas.ts), so that
 * the connector builds the same consult.request with buildConsultRequest. The inverse of that builder for the
 * resources it writes. Problems name the place by JSON pointer and never quote a value: they are about a patient.
 */
export type ConsultInput = Omit<ComposeConsult, 'expertId'>;
export interface ConsultInputProblem {
  readonly pointer: string;
  readonly detail: string;
}
export type ConsultInputResult = { ok: true; value: ConsultInput } | { ok: false; problems: ConsultInputProblem[] };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const objects = (value: unknown): Json[] =>
  Array.isArray(value) ? value.map((v: unknown) => (isObject(v) ? v : {})) : [];
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

const READ_TYPES = ['Patient', 'ServiceRequest', 'Observation', 'DocumentReference'];
const SIGN_BY_CODE = new Map(Object.entries(VITAL_SIGNS).map(([sign, v]) => [v.code as string, sign as VitalSign]));
const WAVEFORM_BY_CODE = new Map(Object.entries(WAVEFORMS).map(([kind, w]) => [w.code as string, kind as Waveform]));
const LEAD_BY_CODE = new Map(
  Object.entries(ECG_LEADS).map(([lead, code]) => [code as string, lead as keyof typeof ECG_LEADS]),
);
/** Any expert id the schema takes: the expert is the caller's to name, not the resources'. */
const SOME_EXPERT = 'clinic-x.expert';

/** The first coding of a CodeableConcept in `system` with one of `codes`. */
function coded(
  concept: unknown,
  system: string,
  codes: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string | undefined {
  return objects(isObject(concept) ? concept.coding : undefined)
    .map((c) => (c.system === system && typeof c.code === 'string' && codes.has(c.code) ? c.code : undefined))
    .find(Boolean);
}

/**
 * Reads the resources into the compose form. Every value is carried over as sent and the form's schema judges it;
 * `sources` maps each place in the form to where it came from, so that the schema's issues are reported in the input.
 */
export function readConsultResources(input: unknown): ConsultInputResult {
  const problems: ConsultInputProblem[] = [];
  const sources = new Map<string, string>();
  const fail = (pointer: string, detail: string) => problems.push({ pointer, detail });
  const from = (path: string, pointer: string) => sources.set(path, pointer);

  if (!isObject(input) || !Array.isArray(input.resources)) {
    return {
      ok: false,
      problems: [
        { pointer: isObject(input) ? '/resources' : '', detail: 'expected { priority?, resources: [FHIR resources] }' },
      ],
    };
  }
  const byType = new Map<string, { resource: Json; pointer: string }[]>(READ_TYPES.map((t) => [t, []]));
  input.resources.forEach((resource: unknown, index) => {
    const pointer = `/resources/${index}`;
    const type = isObject(resource) ? resource.resourceType : undefined;
    const list = typeof type === 'string' ? byType.get(type) : undefined;
    if (list) list.push({ resource: resource as Json, pointer });
    else
      fail(
        `${pointer}/resourceType`,
        `${typeof type === 'string' ? type : 'a resource without a resourceType'} is not read here: give Patient, ServiceRequest, Observation and DocumentReference resources`,
      );
  });
  const one = (type: string) => {
    const [first, ...more] = byType.get(type)!;
    if (!first) fail('/resources', `a ${type} is required`);
    for (const extra of more) fail(extra.pointer, `only one ${type}`);
    return first;
  };

  // Where a required resource is missing, the schema's issues about what it would have given point there.
  from('patient', '/resources');
  from('reason', '/resources');
  const patient = one('Patient');
  const service = one('ServiceRequest');
  const value: Json = { expertId: SOME_EXPERT };
  if (patient) value.patient = readPatient(patient.resource, patient.pointer, fail, from);
  if (service) Object.assign(value, readService(service.resource, service.pointer, fail, from));

  const priority = readPriority(input.priority, service, fail);
  value.priority = priority.value;
  from('priority', priority.pointer);

  const vitals: Json[] = [];
  const bloodPressure: Json[] = [];
  const waveforms: Json[] = [];
  for (const { resource, pointer } of byType.get('Observation')!) {
    const effective = resource.effectiveDateTime ?? resource.effectiveInstant;
    const effectivePointer = `${pointer}/${resource.effectiveDateTime === undefined && resource.effectiveInstant !== undefined ? 'effectiveInstant' : 'effectiveDateTime'}`;
    if (effective === undefined) fail(`${pointer}/effectiveDateTime`, 'the time of the measurement is required');
    const sign = SIGN_BY_CODE.get(coded(resource.code, LOINC, SIGN_BY_CODE) ?? '');
    const kind = WAVEFORM_BY_CODE.get(coded(resource.code, MDC, WAVEFORM_BY_CODE) ?? '');
    if (coded(resource.code, LOINC, new Set([BLOOD_PRESSURE_PANEL.code]))) {
      const path = `bloodPressure/${bloodPressure.length}`;
      bloodPressure.push({ ...readBloodPressure(resource, pointer, fail), effective });
      from(path, pointer);
      from(`${path}/effective`, effectivePointer);
    } else if (sign) {
      const path = `vitals/${vitals.length}`;
      vitals.push({
        sign,
        value: quantity(resource.valueQuantity, VITAL_SIGNS[sign].unit, `${pointer}/valueQuantity`, fail),
        effective,
      });
      from(path, pointer);
      from(`${path}/value`, `${pointer}/valueQuantity/value`);
      from(`${path}/effective`, effectivePointer);
    } else if (kind) {
      const path = `waveforms/${waveforms.length}`;
      waveforms.push({
        ...readWaveform(resource, pointer, kind, fail, (p, source) => from(`${path}/${p}`, source)),
        effective,
      });
      from(path, pointer);
      from(`${path}/effective`, effectivePointer);
    } else {
      fail(
        `${pointer}/code`,
        'not a measurement this connector forwards: a vital sign (LOINC 8867-4, 9279-1, 8310-5, 59408-5, 29463-7, 2339-0, 8480-6, 8462-4), ' +
          `the blood pressure panel (LOINC ${BLOOD_PRESSURE_PANEL.code}) or a waveform (MDC ${WAVEFORMS.ecg.code} ECG, ${WAVEFORMS.pleth.code} plethysmogram)`,
      );
    }
  }
  const attachments = byType
    .get('DocumentReference')!
    .map(({ resource, pointer }, index) =>
      readDocument(resource, pointer, fail, (p, source) => from(`attachments/${index}${p}`, source)),
    );
  for (const [key, list] of [
    ['vitals', vitals],
    ['bloodPressure', bloodPressure],
    ['waveforms', waveforms],
    ['attachments', attachments],
  ] as const) {
    if (list.length > 0) value[key] = list;
    from(key, '/resources');
  }

  const parsed = composeConsultSchema.safeParse(value);
  for (const issue of parsed.error?.issues ?? []) {
    const pointer = sourceOf(issue, sources);
    // What was said of a place already, or of the element around or inside it, is not said again in other words.
    if (problems.some((p) => related(p.pointer, pointer))) continue;
    fail(pointer, /received undefined$/.test(issue.message) ? 'required' : issue.message);
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const { expertId: _named, ...consult } = parsed.data;
  return { ok: true, value: consult };
}

/** The same place, or one inside the other within one resource (not all of /resources). */
function related(a: string, b: string): boolean {
  if (a === b) return true;
  const [outer, inner] = a.length < b.length ? [a, b] : [b, a];
  return /^\/resources\/\d+/.test(outer) && inner.startsWith(`${outer}/`);
}

/** Where in the input a schema issue lies: the source of its path, or of the nearest enclosing place that has one. */
function sourceOf(issue: z.core.$ZodIssue, sources: ReadonlyMap<string, string>): string {
  for (let length = issue.path.length; length > 0; length--) {
    const source = sources.get(issue.path.slice(0, length).map(String).join('/'));
    if (source !== undefined) return source;
  }
  return '';
}

type Fail = (pointer: string, detail: string) => void;
type From = (path: string, pointer: string) => void;

/** What the compose form has one of is read from the first entry; a second is refused, never dropped unread. */
function onlyOne(resource: Json, field: string, pointer: string, fail: Fail): void {
  const list = resource[field];
  if (Array.isArray(list) && list.length > 1)
    fail(`${pointer}/${field}/1`, `only one ${field} is carried; give the others in a note, or as files`);
}

function readPatient(resource: Json, pointer: string, fail: Fail, from: From): Json {
  onlyOne(resource, 'name', pointer, fail);
  const name = objects(resource.name)[0];
  const family = name?.family;
  const given = name?.given;
  if (!name || (text(name.text) && (family === undefined || given === undefined))) {
    fail(
      `${pointer}/name/0`,
      "the patient's family and given names are required (name[0].family and name[0].given; name.text alone is not enough)",
    );
  }
  from('patient', pointer);
  from('patient/family', `${pointer}/name/0/family`);
  from('patient/given', `${pointer}/name/0/given`);
  from('patient/gender', `${pointer}/gender`);
  from('patient/birthDate', `${pointer}/birthDate`);
  const birthDate = resource.birthDate;
  if (typeof birthDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate))
    fail(`${pointer}/birthDate`, 'a full birth date (YYYY-MM-DD) is required');
  const identifiers = objects(resource.identifier).map((identifier, index) => {
    from(`patient/identifiers/${index}`, `${pointer}/identifier/${index}`);
    from(`patient/identifiers/${index}/system`, `${pointer}/identifier/${index}/system`);
    from(`patient/identifiers/${index}/value`, `${pointer}/identifier/${index}/value`);
    return { system: identifier.system, value: identifier.value };
  });
  from('patient/identifiers', `${pointer}/identifier`);
  return {
    family,
    given,
    birthDate,
    // FHIR leaves the gender out when it is not known.
    gender: resource.gender ?? 'unknown',
    ...(identifiers.length > 0 && { identifiers }),
  };
}

function readService(resource: Json, pointer: string, fail: Fail, from: From): Json {
  onlyOne(resource, 'reasonCode', pointer, fail);
  onlyOne(resource, 'note', pointer, fail);
  const reasonCode = objects(resource.reasonCode)[0];
  const coding = objects(reasonCode?.coding)[0];
  const reason = text(reasonCode?.text) ?? coding?.display;
  if (reason === undefined)
    fail(`${pointer}/reasonCode`, 'the reason for the consult is required (reasonCode[0].text)');
  from(
    'reason',
    text(reasonCode?.text) === undefined ? `${pointer}/reasonCode/0/coding/0/display` : `${pointer}/reasonCode/0/text`,
  );
  const note = objects(resource.note)[0];
  from('question', `${pointer}/note/0/text`);
  return { reason, ...(note?.text !== undefined && { question: note.text }) };
}

/** The priority given beside the resources, or the ServiceRequest's; they must not differ. */
function readPriority(
  given: unknown,
  service: { resource: Json; pointer: string } | undefined,
  fail: Fail,
): { value: unknown; pointer: string } {
  const requested = service?.resource.priority;
  if (given !== undefined && requested !== undefined && given !== requested)
    fail('/priority', `differs from ${service!.pointer}/priority: give one, or the same`);
  if (given !== undefined) return { value: given, pointer: '/priority' };
  if (requested !== undefined) return { value: requested, pointer: `${service!.pointer}/priority` };
  return { value: 'routine', pointer: '/priority' };
}

/** A Quantity's value in `unit` (UCUM): another unit is refused rather than taken for this one. */
function quantity(value: unknown, unit: string, pointer: string, fail: Fail): unknown {
  if (!isObject(value)) {
    fail(pointer, `a valueQuantity in ${unit} is required`);
    return undefined;
  }
  const given = value.code ?? value.unit;
  if (given !== unit)
    fail(`${pointer}/${value.code === undefined ? 'unit' : 'code'}`, `the unit must be ${unit} (UCUM)`);
  return value.value;
}

function readBloodPressure(resource: Json, pointer: string, fail: Fail): Json {
  const components = objects(resource.component);
  const part = (sign: 'systolicBloodPressure' | 'diastolicBloodPressure') => {
    const index = components.findIndex((c) => coded(c.code, LOINC, new Set([VITAL_SIGNS[sign].code])));
    if (index < 0) {
      fail(
        `${pointer}/component`,
        `the ${sign === 'systolicBloodPressure' ? 'systolic' : 'diastolic'} component (LOINC ${VITAL_SIGNS[sign].code}) is required`,
      );
      return undefined;
    }
    return quantity(components[index]!.valueQuantity, 'mm[Hg]', `${pointer}/component/${index}/valueQuantity`, fail);
  };
  return { systolic: part('systolicBloodPressure'), diastolic: part('diastolicBloodPressure') };
}

/** One series per component, each a SampledData of one dimension in the waveform's unit, all at one period. */
function readWaveform(resource: Json, pointer: string, kind: Waveform, fail: Fail, from: From): Json {
  const definition = WAVEFORMS[kind];
  let periodMs: unknown;
  const series = objects(resource.component).map((component, index) => {
    const at = `${pointer}/component/${index}`;
    from(`series/${index}`, at);
    const code = coded(
      component.code,
      MDC,
      new Map([...(kind === 'ecg' ? LEAD_BY_CODE : []), [definition.code, undefined]]),
    );
    if (code === undefined)
      fail(
        `${at}/code`,
        kind === 'ecg'
          ? 'an ECG lead (MDC_ECG_ELEC_POTL_*) or MDC 131328 is required'
          : `MDC ${definition.code} is required`,
      );
    const lead = code === undefined ? undefined : LEAD_BY_CODE.get(code);
    const sampled = isObject(component.valueSampledData) ? component.valueSampledData : undefined;
    if (!sampled) {
      fail(`${at}/valueSampledData`, 'a valueSampledData is required');
      return { samples: [] };
    }
    if (index === 0) periodMs = sampled.period;
    else if (sampled.period !== periodMs)
      fail(`${at}/valueSampledData/period`, 'every series of a waveform must have the same period');
    if ((sampled.dimensions ?? 1) !== 1)
      fail(
        `${at}/valueSampledData/dimensions`,
        'only one dimension per series is read: give each lead its own component',
      );
    const origin = isObject(sampled.origin) ? sampled.origin : {};
    const originUnit = origin.code ?? origin.unit;
    if (originUnit !== undefined && originUnit !== definition.unit)
      fail(`${at}/valueSampledData/origin`, `the unit must be ${definition.unit}`);
    const base = typeof origin.value === 'number' ? origin.value : 0;
    const factor = typeof sampled.factor === 'number' ? sampled.factor : 1;
    const points = typeof sampled.data === 'string' ? sampled.data.split(/\s+/).filter(Boolean) : [];
    if (points.some((p) => !Number.isFinite(Number(p))))
      fail(`${at}/valueSampledData/data`, 'every sample must be a number (E, L and U, no value, cannot be forwarded)');
    from(`series/${index}/samples`, `${at}/valueSampledData/data`);
    from(`series/${index}/lead`, `${at}/code`);
    return { ...(lead && { lead }), samples: points.map((p) => base + factor * Number(p)) };
  });
  from('periodMs', `${pointer}/component/0/valueSampledData/period`);
  from('series', `${pointer}/component`);
  return { kind, periodMs, series };
}

function readDocument(resource: Json, pointer: string, fail: Fail, from: From): Json {
  // One file per DocumentReference, as the protocol carries them: a second one is its own DocumentReference.
  onlyOne(resource, 'content', pointer, fail);
  const at = `${pointer}/content/0/attachment`;
  const attachment = objects(resource.content)[0]?.attachment;
  const a = isObject(attachment) ? attachment : {};
  from('', at);
  from(
    '/title',
    a.title === undefined && resource.description !== undefined ? `${pointer}/description` : `${at}/title`,
  );
  from('/contentType', `${at}/contentType`);
  from('/base64', `${at}/data`);
  if (typeof a.data !== 'string') {
    fail(`${at}/data`, 'the file is required as base64 data (a url alone is not read)');
    return {};
  }
  const bytes = fromBase64(a.data);
  if (!bytes) fail(`${at}/data`, 'not base64');
  else if (a.size !== undefined && a.size !== bytes.length)
    fail(`${at}/size`, `differs from the ${bytes.length} bytes of data`);
  return {
    title: a.title ?? resource.description,
    contentType: a.contentType,
    base64: a.data.replace(/\s+/g, ''),
    size: bytes?.length ?? 0,
  };
}
