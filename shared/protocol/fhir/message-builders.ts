import type {
  Bundle,
  BundleEntry,
  DiagnosticReport,
  DocumentReference,
  Endpoint,
  MedicationRequest,
  MessageHeader,
  Observation,
  OperationOutcome,
  Organization,
  Parameters,
  Patient,
  Practitioner,
  PractitionerRole,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { fromBase64, toBase64 } from '../../pki/bytes.ts';
import { TASK_STATUS_OF, type ConsultStatusUpdate } from '../consult-status.ts';
import { RTS_URIS } from '../identifiers.ts';
import { MESSAGE_TYPES as T, type MessageType } from '../message-types.ts';
import { PROTOCOL_MAJOR } from '../protocol-version.ts';
import { REASON_CODE_SYSTEM, type ReasonCode } from '../reason-codes.ts';
import {
  BLOOD_PRESSURE_PANEL,
  ECG_LEADS,
  LOINC,
  MDC,
  UCUM,
  VITAL_SIGNS,
  WAVEFORMS,
  type VitalSign,
  type Waveform,
} from './vital-signs.ts';

/**
 * Builders of the FHIR payload of every message type, in the form the RTS profiles require. They produce plain
 * JSON-able objects; signing, encryption and AMQP properties are the caller's.
 */
export interface MessageContext {
  readonly messageId: string;
  readonly timestamp: Date;
  /** Sending endpoint id. */
  readonly sender: string;
  /** Makes the urn:uuid: fullUrls; defaults to crypto.randomUUID (pass a fixed one for reproducible examples). */
  readonly newId?: () => string;
}

export interface PractitionerAddress {
  readonly practitionerId: string;
}

const practitionerRef = (id: string) => ({ identifier: { system: RTS_URIS.practitionerSystem, value: id } });
const caseIdentifier = (caseId: string) => ({ system: RTS_URIS.caseSystem, value: caseId });
const businessStatus = (code: string) => ({ coding: [{ system: RTS_URIS.consultStatusSystem, code }] });

function entryFactory(context: MessageContext) {
  const newId = context.newId ?? (() => crypto.randomUUID());
  return <R extends Resource>(resource: R): BundleEntry<R> & { fullUrl: string } => ({
    fullUrl: `urn:uuid:${newId()}`,
    resource,
  });
}

function messageBundle(
  context: MessageContext,
  header: Omit<MessageHeader, 'resourceType' | 'eventCoding' | 'source'>,
  type: MessageType,
  entries: BundleEntry[],
): Bundle {
  const entry = entryFactory(context);
  const messageHeader: MessageHeader = {
    resourceType: 'MessageHeader',
    eventCoding: { system: RTS_URIS.messageTypeSystem, code: type },
    source: { endpoint: RTS_URIS.endpoint(context.sender) },
    ...header,
  };
  return {
    resourceType: 'Bundle',
    type: 'message',
    identifier: { system: RTS_URIS.uuidIdentifierSystem, value: `urn:uuid:${context.messageId}` },
    timestamp: context.timestamp.toISOString(),
    entry: [entry(messageHeader), ...entries],
  };
}

const focusOn = (...entries: { fullUrl: string }[]) => entries.map((e) => ({ reference: e.fullUrl }));
const HUB_DESTINATION = [{ endpoint: 'urn:rts:hub' }];

// --- consults ------------------------------------------------------------------------------------------------------

export interface PatientDetails {
  readonly family: string;
  readonly given: readonly string[];
  /** The whole name as text, as another system may send it (then family and given may be empty). */
  readonly text?: string;
  readonly gender: 'male' | 'female' | 'other' | 'unknown';
  /** A FHIR date (YYYY, YYYY-MM or YYYY-MM-DD); empty when the sender gave none. */
  readonly birthDate: string;
  /** Local identifiers (e.g. a national id): they travel only inside the encrypted payload. */
  readonly identifiers?: readonly { system?: string; value: string }[];
}

export interface VitalMeasurement {
  readonly sign: VitalSign;
  readonly value: number;
  readonly effective: Date;
}
export interface BloodPressure {
  readonly systolic: number;
  readonly diastolic: number;
  readonly effective: Date;
}
export interface WaveformRecording {
  readonly kind: Waveform;
  readonly effective: Date;
  /** Milliseconds between samples. */
  readonly periodMs: number;
  /** One series per ECG lead, or one series for a plethysmogram. */
  readonly series: readonly { readonly lead?: keyof typeof ECG_LEADS; readonly samples: readonly number[] }[];
}
export interface AttachedFile {
  readonly title: string;
  readonly contentType: string;
  readonly base64: string;
  readonly size: number;
}

export interface ConsultRequestInput {
  readonly caseId: string;
  readonly from: string;
  readonly to: string;
  /** rtsSequence of the message (per case and sending endpoint, 1, 2, 3…). */
  readonly sequence: number;
  /** The endpoint the applicant addresses, when it picked one; otherwise the hub delivers to all of the expert's. */
  readonly toEndpoint?: string;
  readonly patient: PatientDetails;
  readonly priority: 'routine' | 'urgent' | 'asap' | 'stat';
  readonly reason: string;
  readonly question?: string;
  readonly vitals?: readonly VitalMeasurement[];
  readonly bloodPressure?: readonly BloodPressure[];
  readonly waveforms?: readonly WaveformRecording[];
  readonly attachments?: readonly AttachedFile[];
}

/** The patient as the request named them: a report repeats another system's forms (name text, partial date) as sent. */
function patientResource(details: PatientDetails): Patient {
  return {
    resourceType: 'Patient',
    name: [
      {
        ...(details.family && { family: details.family }),
        ...(details.given.length > 0 && { given: [...details.given] }),
        ...(details.text && { text: details.text }),
      },
    ],
    gender: details.gender,
    ...(details.birthDate && { birthDate: details.birthDate }),
    ...(details.identifiers &&
      details.identifiers.length > 0 && { identifier: details.identifiers.map((i) => ({ ...i })) }),
  };
}

const VITAL_CATEGORY = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] },
];
const PROCEDURE_CATEGORY = [
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'procedure' }] },
];

function vitalObservation(v: VitalMeasurement, subject: string): Observation {
  const sign = VITAL_SIGNS[v.sign];
  return {
    resourceType: 'Observation',
    status: 'final',
    category: VITAL_CATEGORY,
    code: { coding: [{ system: LOINC, code: sign.code, display: sign.display }], text: sign.display },
    subject: { reference: subject },
    effectiveDateTime: v.effective.toISOString(),
    valueQuantity: { value: v.value, unit: sign.unit, system: UCUM, code: sign.unit },
  };
}

function bloodPressureObservation(bp: BloodPressure, subject: string): Observation {
  const component = (sign: 'systolicBloodPressure' | 'diastolicBloodPressure', value: number) => ({
    code: { coding: [{ system: LOINC, code: VITAL_SIGNS[sign].code, display: VITAL_SIGNS[sign].display }] },
    valueQuantity: { value, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
  });
  return {
    resourceType: 'Observation',
    status: 'final',
    category: VITAL_CATEGORY,
    code: { coding: [{ system: LOINC, ...BLOOD_PRESSURE_PANEL }], text: 'Blood pressure' },
    subject: { reference: subject },
    effectiveDateTime: bp.effective.toISOString(),
    component: [component('systolicBloodPressure', bp.systolic), component('diastolicBloodPressure', bp.diastolic)],
  };
}

function waveformObservation(w: WaveformRecording, subject: string): Observation {
  const kind = WAVEFORMS[w.kind];
  const sampled = (samples: readonly number[]) => ({
    origin: { value: 0, unit: kind.unit },
    period: w.periodMs,
    dimensions: 1,
    data: samples.join(' '),
  });
  return {
    resourceType: 'Observation',
    status: 'final',
    category: PROCEDURE_CATEGORY,
    code: {
      coding: [{ system: MDC, code: kind.code, display: kind.display }],
      text: w.kind === 'ecg' ? 'ECG' : 'Plethysmogram',
    },
    subject: { reference: subject },
    effectiveDateTime: w.effective.toISOString(),
    component: w.series.map((s) => ({
      code: {
        coding: [
          {
            system: MDC,
            code: s.lead ? ECG_LEADS[s.lead] : kind.code,
            display: s.lead ? `Lead ${s.lead}` : kind.display,
          },
        ],
      },
      valueSampledData: sampled(s.samples),
    })),
  };
}

function documentReference(file: AttachedFile, subject: string, date: Date): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    subject: { reference: subject },
    date: date.toISOString(),
    description: file.title,
    content: [{ attachment: { contentType: file.contentType, data: file.base64, title: file.title, size: file.size } }],
  };
}

function consultHeader(
  input: { from: string; to: string; toEndpoint?: string; sequence: number },
  focus: { fullUrl: string }[],
) {
  return {
    // rtsSequence, signed: a forwarding hub cannot make a step look newer or older than its sender made it.
    extension: [{ url: RTS_URIS.sequenceExtension, valuePositiveInt: input.sequence }],
    sender: practitionerRef(input.from),
    destination: [
      {
        endpoint: input.toEndpoint ? RTS_URIS.endpoint(input.toEndpoint) : RTS_URIS.practitionerAddress(input.to),
        receiver: practitionerRef(input.to),
      },
    ],
    focus: focusOn(...focus),
  };
}

export function buildConsultRequest(context: MessageContext, input: ConsultRequestInput): Bundle {
  const entry = entryFactory(context);
  const patient = entry(patientResource(input.patient));
  const subject = patient.fullUrl;
  const supporting = [
    ...(input.vitals ?? []).map((v) => entry(vitalObservation(v, subject))),
    ...(input.bloodPressure ?? []).map((bp) => entry(bloodPressureObservation(bp, subject))),
    ...(input.waveforms ?? []).map((w) => entry(waveformObservation(w, subject))),
    ...(input.attachments ?? []).map((f) => entry(documentReference(f, subject, context.timestamp))),
  ];
  const authoredOn = context.timestamp.toISOString();
  const serviceRequest = entry<ServiceRequest>({
    resourceType: 'ServiceRequest',
    identifier: [caseIdentifier(input.caseId)],
    status: 'active',
    intent: 'order',
    priority: input.priority,
    code: {
      coding: [{ system: 'http://snomed.info/sct', code: '11429006', display: 'Consultation' }],
      text: 'Teleconsultation',
    },
    subject: { reference: subject },
    authoredOn,
    requester: practitionerRef(input.from),
    performer: [practitionerRef(input.to)],
    reasonCode: [{ text: input.reason }],
    ...(input.question && { note: [{ text: input.question }] }),
    ...(supporting.length > 0 && { supportingInfo: focusOn(...supporting) }),
  });
  const task = entry<Task>({
    resourceType: 'Task',
    identifier: [caseIdentifier(input.caseId)],
    status: 'requested',
    businessStatus: businessStatus('requested'),
    intent: 'order',
    authoredOn,
    lastModified: authoredOn,
    requester: practitionerRef(input.from),
    owner: practitionerRef(input.to),
    focus: { reference: serviceRequest.fullUrl },
    for: { reference: subject },
  });
  return messageBundle(context, consultHeader(input, [serviceRequest, task]), T.consultRequest, [
    serviceRequest,
    task,
    patient,
    ...supporting,
  ]);
}

export interface ConsultStatusInput {
  readonly caseId: string;
  readonly from: string;
  readonly to: string;
  /** rtsSequence of the message (per case and sending endpoint, 1, 2, 3…). */
  readonly sequence: number;
  readonly status: ConsultStatusUpdate;
  /** The question (more information needed), the reason (declined, cancelled) or the answer (information provided). */
  readonly note?: string;
  /** Redirected: the practitioner the expert suggests instead. */
  readonly suggestedPractitioner?: string;
  /** Information provided: files that answer the question. */
  readonly attachments?: readonly AttachedFile[];
}

export function buildConsultStatus(context: MessageContext, input: ConsultStatusInput): Bundle {
  const entry = entryFactory(context);
  const now = context.timestamp.toISOString();
  const task = entry<Task>({
    resourceType: 'Task',
    identifier: [caseIdentifier(input.caseId)],
    status: TASK_STATUS_OF[input.status] as Task['status'],
    businessStatus: businessStatus(input.status),
    intent: 'order',
    lastModified: now,
    ...(input.note && { note: [{ text: input.note, time: now }] }),
    ...(input.suggestedPractitioner && {
      output: [
        {
          type: { text: 'suggested-practitioner' },
          valueIdentifier: { system: RTS_URIS.practitionerSystem, value: input.suggestedPractitioner },
        },
      ],
    }),
  });
  const extra = (input.attachments ?? []).map((file) =>
    entry<DocumentReference>({
      resourceType: 'DocumentReference',
      status: 'current',
      date: now,
      description: file.title,
      content: [
        { attachment: { contentType: file.contentType, data: file.base64, title: file.title, size: file.size } },
      ],
    }),
  );
  return messageBundle(context, consultHeader(input, [task]), T.consultStatus, [task, ...extra]);
}

export interface Prescription {
  readonly medication: string;
  readonly medicationCoding?: { system: string; code: string; display?: string };
  readonly dose: number;
  readonly unit: string;
  /** `frequency` times per `period` `periodUnit`, e.g. 3 per 1 d. */
  readonly frequency: number;
  readonly period: number;
  readonly periodUnit: 'h' | 'd' | 'wk' | 'mo';
  readonly route?: string;
  readonly instructions?: string;
}

export interface ConsultReportInput {
  readonly caseId: string;
  readonly from: string;
  readonly to: string;
  /** rtsSequence of the message (per case and sending endpoint, 1, 2, 3…). */
  readonly sequence: number;
  readonly patient: PatientDetails;
  readonly findings?: string;
  readonly conclusion: string;
  readonly diagnoses?: readonly { system?: string; code?: string; text: string }[];
  readonly prescriptions?: readonly Prescription[];
}

export function buildConsultReport(context: MessageContext, input: ConsultReportInput): Bundle {
  const entry = entryFactory(context);
  const now = context.timestamp.toISOString();
  const patient = entry(patientResource(input.patient));
  const findings = input.findings
    ? [
        entry<Observation>({
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'Findings' },
          subject: { reference: patient.fullUrl },
          effectiveDateTime: now,
          valueString: input.findings,
        }),
      ]
    : [];
  const report = entry<DiagnosticReport>({
    resourceType: 'DiagnosticReport',
    status: 'final',
    basedOn: [{ identifier: caseIdentifier(input.caseId) }],
    code: { coding: [{ system: LOINC, code: '11488-4', display: 'Consult note' }], text: 'Teleconsultation report' },
    subject: { reference: patient.fullUrl },
    issued: now,
    performer: [practitionerRef(input.from)],
    conclusion: input.conclusion,
    ...(input.diagnoses &&
      input.diagnoses.length > 0 && {
        conclusionCode: input.diagnoses.map((d) =>
          d.code ? { coding: [{ system: d.system, code: d.code, display: d.text }], text: d.text } : { text: d.text },
        ),
      }),
    ...(findings.length > 0 && { result: focusOn(...findings) }),
  });
  const task = entry<Task>({
    resourceType: 'Task',
    identifier: [caseIdentifier(input.caseId)],
    status: 'completed',
    businessStatus: businessStatus('completed'),
    intent: 'order',
    lastModified: now,
  });
  const prescriptions = (input.prescriptions ?? []).map((p) =>
    entry<MedicationRequest>({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: p.medicationCoding
        ? { coding: [p.medicationCoding], text: p.medication }
        : { text: p.medication },
      subject: { reference: patient.fullUrl },
      authoredOn: now,
      requester: practitionerRef(input.from),
      dosageInstruction: [
        {
          ...(p.instructions && { text: p.instructions }),
          timing: { repeat: { frequency: p.frequency, period: p.period, periodUnit: p.periodUnit } },
          ...(p.route && { route: { text: p.route } }),
          doseAndRate: [{ doseQuantity: { value: p.dose, unit: p.unit } }],
        },
      ],
    }),
  );
  return messageBundle(context, consultHeader(input, [report, task]), T.consultReport, [
    report,
    task,
    patient,
    ...prescriptions,
    ...findings,
  ]);
}

// --- receipts and notices ------------------------------------------------------------------------------------------

export interface ReceiptInput {
  readonly toEndpoint: string;
  readonly originalMessageId: string;
  readonly outcome: 'delivered' | 'processed' | 'rejected';
  readonly reasons?: readonly { code: ReasonCode; text: string }[];
}

export function buildReceipt(context: MessageContext, input: ReceiptInput): Bundle {
  const entry = entryFactory(context);
  const rejected = input.outcome === 'rejected';
  const outcome = entry<OperationOutcome>({
    resourceType: 'OperationOutcome',
    issue: rejected
      ? (input.reasons ?? []).map((r) => ({
          severity: 'error' as const,
          code: 'processing' as const,
          details: { coding: [{ system: REASON_CODE_SYSTEM, code: r.code }], text: r.text },
        }))
      : [
          {
            severity: 'information',
            code: 'informational',
            details: { coding: [{ system: RTS_URIS.receiptOutcomeSystem, code: input.outcome }], text: input.outcome },
          },
        ],
  });
  return messageBundle(
    context,
    {
      destination: [{ endpoint: RTS_URIS.endpoint(input.toEndpoint) }],
      response: {
        identifier: input.originalMessageId,
        code: rejected ? 'fatal-error' : 'ok',
        details: { reference: outcome.fullUrl },
      },
    },
    T.receipt,
    [outcome],
  );
}

/**
 * A notice from the hub. `crl` (DER) rides on `crl-updated`, the region CA's newest revocation list, which every
 * endpoint verifies against its own anchors and applies when it is newer than the one it holds (docs/protocol.md §5.3).
 */
export function buildHubNotice(
  context: MessageContext,
  input: { notice: string; text: string; toEndpoint?: string; crl?: Uint8Array },
): Bundle {
  const entry = entryFactory(context);
  const parameters = entry<Parameters>({
    resourceType: 'Parameters',
    parameter: [
      { name: 'notice', valueCode: input.notice },
      { name: 'text', valueString: input.text },
      ...(input.crl ? [{ name: 'crl', valueBase64Binary: toBase64(input.crl) }] : []),
    ],
  });
  return messageBundle(
    context,
    {
      ...(input.toEndpoint && { destination: [{ endpoint: RTS_URIS.endpoint(input.toEndpoint) }] }),
      focus: focusOn(parameters),
    },
    T.hubNotice,
    [parameters],
  );
}

/** What a `hub.notice` payload says; `crl` is present only if the notice carries a revocation list. */
export interface HubNoticeContent {
  readonly notice: string;
  readonly text: string;
  readonly crl?: Uint8Array;
}

/** Reads a validated `hub.notice` payload (its Parameters is the focus, the bundle's second entry). */
export function readHubNotice(bundle: Bundle): HubNoticeContent {
  const parameters = (bundle.entry?.[1]?.resource as Parameters | undefined)?.parameter ?? [];
  const named = (name: string) => parameters.find((p) => p.name === name);
  const crl = named('crl')?.valueBase64Binary;
  const der = crl === undefined ? undefined : fromBase64(crl);
  return {
    notice: named('notice')?.valueCode ?? '',
    text: named('text')?.valueString ?? '',
    ...(der && { crl: der }),
  };
}

// --- endpoints and the directory -----------------------------------------------------------------------------------

export function buildEndpointRegister(
  context: MessageContext,
  input: { kind: 'workstation' | 'clinic-system'; name: string; organization: string },
): Bundle {
  const entry = entryFactory(context);
  const organization = entry<Organization>({ resourceType: 'Organization', name: input.organization, active: true });
  const endpoint = entry<Endpoint>({
    resourceType: 'Endpoint',
    id: context.sender,
    status: 'active',
    connectionType: { system: RTS_URIS.endpointKindSystem, code: input.kind },
    name: input.name,
    address: RTS_URIS.endpoint(context.sender),
    payloadType: [
      {
        coding: [{ system: RTS_URIS.messageTypeSystem, code: `rts-${PROTOCOL_MAJOR}` }],
        text: `RTS protocol v${PROTOCOL_MAJOR}`,
      },
    ],
    managingOrganization: { reference: organization.fullUrl },
  });
  return messageBundle(context, { destination: HUB_DESTINATION, focus: focusOn(endpoint) }, T.endpointRegister, [
    endpoint,
    organization,
  ]);
}

export type DirectoryResource = Practitioner | PractitionerRole | Organization;

export interface DirectoryChange {
  readonly upsert?: DirectoryResource;
  /** `ResourceType/id` of an entry to retire. */
  readonly retire?: string;
}

function directoryBundle(
  changes: readonly DirectoryChange[] | readonly DirectoryResource[],
  kind: 'collection' | 'transaction',
): Bundle {
  if (kind === 'collection')
    return {
      resourceType: 'Bundle',
      type: 'collection',
      entry: (changes as DirectoryResource[]).map((resource) => ({ resource })),
    };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: (changes as DirectoryChange[]).map((c) =>
      c.upsert
        ? { resource: c.upsert, request: { method: 'PUT' as const, url: `${c.upsert.resourceType}/${c.upsert.id}` } }
        : { request: { method: 'DELETE' as const, url: c.retire! } },
    ),
  };
}

export function buildDirectoryPublish(
  context: MessageContext,
  input: { full: readonly DirectoryResource[] } | { delta: readonly DirectoryChange[] },
): Bundle {
  const entry = entryFactory(context);
  const inner = entry(
    'full' in input ? directoryBundle(input.full, 'collection') : directoryBundle(input.delta, 'transaction'),
  );
  return messageBundle(context, { destination: HUB_DESTINATION, focus: focusOn(inner) }, T.directoryPublish, [inner]);
}

export function buildDirectoryUpdate(context: MessageContext, changes: readonly DirectoryChange[]): Bundle {
  const entry = entryFactory(context);
  const inner = entry(directoryBundle(changes, 'transaction'));
  return messageBundle(context, { focus: focusOn(inner) }, T.directoryUpdate, [inner]);
}

export function buildDirectorySnapshot(
  context: MessageContext,
  input: { toEndpoint: string; entries: readonly DirectoryResource[] },
): Bundle {
  const entry = entryFactory(context);
  const inner = entry(directoryBundle(input.entries, 'collection'));
  return messageBundle(
    context,
    { destination: [{ endpoint: RTS_URIS.endpoint(input.toEndpoint) }], focus: focusOn(inner) },
    T.directorySnapshot,
    [inner],
  );
}

export function buildSnapshotRequest(context: MessageContext, input: { knownVersion?: number }): Bundle {
  const entry = entryFactory(context);
  const parameters = entry<Parameters>({
    resourceType: 'Parameters',
    ...(input.knownVersion !== undefined && {
      parameter: [{ name: 'knownVersion', valueInteger: input.knownVersion }],
    }),
  });
  return messageBundle(
    context,
    { destination: HUB_DESTINATION, focus: focusOn(parameters) },
    T.directorySnapshotRequest,
    [parameters],
  );
}

/** One expert as the directory carries it: practitioner (with certificates), role, and the hospital. */
export interface ExpertEntryInput {
  readonly practitionerId: string;
  readonly family: string;
  readonly given: readonly string[];
  readonly prefix?: string;
  readonly languages: readonly string[];
  readonly specialties: readonly { system?: string; code?: string; text: string }[];
  readonly organizationId: string;
  readonly endpoints: readonly string[];
  readonly signingCertificate: string;
  readonly encryptionCertificate: string;
  readonly active?: boolean;
}

export function buildExpertEntry(input: ExpertEntryInput): [Practitioner, PractitionerRole] {
  const certificate = (use: 'signing' | 'encryption', base64: string) => ({
    url: RTS_URIS.certificateExtension,
    extension: [
      { url: 'use', valueCode: use },
      { url: 'certificate', valueBase64Binary: base64 },
    ],
  });
  const active = input.active ?? true;
  return [
    {
      resourceType: 'Practitioner',
      id: input.practitionerId,
      active,
      name: [{ family: input.family, given: [...input.given], ...(input.prefix && { prefix: [input.prefix] }) }],
      communication: input.languages.map((code) => ({ coding: [{ system: 'urn:ietf:bcp:47', code }] })),
      extension: [
        certificate('signing', input.signingCertificate),
        certificate('encryption', input.encryptionCertificate),
      ],
    },
    {
      resourceType: 'PractitionerRole',
      id: input.practitionerId,
      active,
      practitioner: { reference: `Practitioner/${input.practitionerId}` },
      organization: { reference: `Organization/${input.organizationId}` },
      specialty: input.specialties.map((s) =>
        s.code ? { coding: [{ system: s.system, code: s.code, display: s.text }], text: s.text } : { text: s.text },
      ),
      endpoint: input.endpoints.map((id) => ({ identifier: { system: 'urn:rts:endpoint', value: id } })),
    },
  ];
}

export function buildOrganization(input: {
  id: string;
  name: string;
  city?: string;
  district?: string;
  state?: string;
  country?: string;
}): Organization {
  const { id, name, ...address } = input;
  return {
    resourceType: 'Organization',
    id,
    active: true,
    name,
    ...(Object.keys(address).length > 0 && { address: [address] }),
  };
}
