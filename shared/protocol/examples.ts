import type { Bundle } from '@medplum/fhirtypes';
import type { ApplicationProperties } from './application-properties.ts';
import { CONTENT_TYPES } from './message-codec.ts';
import {
  buildConsultReport,
  buildConsultRequest,
  buildConsultStatus,
  buildDirectoryPublish,
  buildDirectorySnapshot,
  buildDirectoryUpdate,
  buildEndpointRegister,
  buildExpertEntry,
  buildHubNotice,
  buildOrganization,
  buildReceipt,
  buildSnapshotRequest,
  type MessageContext,
} from './fhir/message-builders.ts';
import { MESSAGE_TYPES as T, MESSAGE_TYPE_SPECS, type MessageType } from './message-types.ts';
import { PROTOCOL_VERSION } from './protocol-version.ts';

/**
 * One worked example of every message type: its AMQP properties and its (decrypted) FHIR payload. Deterministic, so
 * that docs/examples/ and the conformance vectors can be regenerated and compared.
 */
export interface ProtocolExample {
  readonly type: MessageType;
  readonly title: string;
  readonly amqp: {
    readonly message_id: string;
    readonly user_id: string;
    readonly correlation_id?: string;
    readonly creation_time: string;
    readonly content_type: string;
    readonly durable: true;
  };
  readonly applicationProperties: ApplicationProperties;
  readonly payload: Bundle;
}

export interface ExampleCertificates {
  /** Base64 DER of the expert's signing and encryption certificates, for the directory entries. */
  readonly signing: string;
  readonly encryption: string;
}

const CASE_ID = '6f1c0d52-2a7e-4c61-9b1e-3f5d2a8c7e01';
const BATCH_ID = 'b7a4e2c1-5d3f-4e8a-9c6b-1a2d3e4f5a60';
const APPLICANT = { endpoint: 'ws-applicant-1', practitioner: 'clinic-a.dr-rahman' };
const EXPERT = { endpoint: 'ws-expert-1', practitioner: 'clinic-b.dr-okafor' };
const BASE_TIME = Date.parse('2026-11-20T09:00:00.000Z');

function messageId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

function sequentialIds(prefix: number) {
  let n = 0;
  return () => `${prefix.toString(16).padStart(8, '0')}-0000-4000-a000-${(++n).toString(16).padStart(12, '0')}`;
}

export function protocolExamples(certificates: ExampleCertificates): ProtocolExample[] {
  const examples: ProtocolExample[] = [];
  const add = (
    n: number,
    type: MessageType,
    title: string,
    sender: string,
    userId: string,
    props: Omit<ApplicationProperties, 'rtsType' | 'rtsVersion' | 'rtsSender'>,
    build: (context: MessageContext) => Bundle,
    correlationId?: string,
  ) => {
    const context: MessageContext = {
      messageId: messageId(n),
      timestamp: new Date(BASE_TIME + n * 60_000),
      sender,
      newId: sequentialIds(n),
    };
    examples.push({
      type,
      title,
      amqp: {
        message_id: context.messageId,
        user_id: userId,
        creation_time: context.timestamp.toISOString(),
        content_type:
          MESSAGE_TYPE_SPECS[type].envelope === 'signed' ? CONTENT_TYPES.signed : CONTENT_TYPES.authEnveloped,
        durable: true,
        ...(correlationId && { correlation_id: correlationId }),
      },
      applicationProperties: {
        rtsType: type,
        rtsVersion: PROTOCOL_VERSION,
        rtsSender: sender,
        ...props,
      } as ApplicationProperties,
      payload: build(context),
    });
  };

  const hospital = buildOrganization({
    id: 'clinic-b.central-hospital',
    name: 'Central District Hospital',
    city: 'Mymensingh',
    district: 'Mymensingh',
    state: 'Mymensingh Division',
    country: 'BD',
  });
  const expert = buildExpertEntry({
    practitionerId: EXPERT.practitioner,
    family: 'Okafor',
    given: ['Adaeze'],
    prefix: 'Dr',
    languages: ['en', 'bn'],
    specialties: [{ system: 'http://snomed.info/sct', code: '394579002', text: 'Cardiology' }],
    organizationId: hospital.id!,
    endpoints: [EXPERT.endpoint],
    signingCertificate: certificates.signing,
    encryptionCertificate: certificates.encryption,
  });
  const patient = {
    family: 'Begum',
    given: ['Nasrin'],
    gender: 'female' as const,
    birthDate: '1968-04-12',
    identifiers: [{ system: 'urn:oid:2.16.50.1', value: '1968123456789' }],
  };

  add(1, T.endpointRegister, 'A new workstation asks to join the region', EXPERT.endpoint, EXPERT.endpoint, {}, (c) =>
    buildEndpointRegister(c, {
      kind: 'workstation',
      name: 'Cardiology workstation 1',
      organization: 'Central District Hospital',
    }),
  );
  add(
    2,
    T.directoryPublish,
    'Clinic B publishes its full expert list (one batch)',
    'clinic-b',
    'clinic-b',
    { rtsDirectoryMode: 'full', rtsBatchId: BATCH_ID, rtsBatchIndex: 1, rtsBatchCount: 1 },
    (c) => buildDirectoryPublish(c, { full: [hospital, ...expert] }),
  );
  add(
    3,
    T.directoryPublish,
    'Clinic B retires one expert (delta)',
    'clinic-b',
    'clinic-b',
    {
      rtsDirectoryMode: 'delta',
      rtsBatchId: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
      rtsBatchIndex: 1,
      rtsBatchCount: 1,
    },
    (c) => buildDirectoryPublish(c, { delta: [{ retire: 'PractitionerRole/clinic-b.dr-former' }] }),
  );
  add(
    4,
    T.directorySnapshotRequest,
    'A workstation asks for a full snapshot after a version gap',
    APPLICANT.endpoint,
    APPLICANT.endpoint,
    {},
    (c) => buildSnapshotRequest(c, { knownVersion: 41 }),
  );
  add(
    5,
    T.directoryUpdate,
    'The hub fans out directory change 42',
    'hub',
    'rts-hub',
    { rtsDirectoryBaseVersion: 41, rtsDirectoryVersion: 42 },
    (c) => buildDirectoryUpdate(c, [{ upsert: hospital }, ...expert.map((upsert) => ({ upsert }))]),
  );
  add(
    6,
    T.directorySnapshot,
    'Batch 1 of 1 of a snapshot at version 42',
    'hub',
    'rts-hub',
    {
      rtsBatchId: BATCH_ID,
      rtsBatchIndex: 1,
      rtsBatchCount: 1,
      rtsDirectoryVersion: 42,
      rtsToEndpoint: APPLICANT.endpoint,
    },
    (c) => buildDirectorySnapshot(c, { toEndpoint: APPLICANT.endpoint, entries: [hospital, ...expert] }),
  );

  const consultProps = (sequence: number, from: string, to: string) => ({
    rtsCase: CASE_ID,
    rtsFromPractitioner: from,
    rtsToPractitioner: to,
    rtsSequence: sequence,
  });
  add(
    7,
    T.consultRequest,
    'An applicant asks a cardiologist about chest pain, with vitals and a 3-lead ECG',
    APPLICANT.endpoint,
    APPLICANT.endpoint,
    consultProps(1, APPLICANT.practitioner, EXPERT.practitioner),
    (c) =>
      buildConsultRequest(c, {
        caseId: CASE_ID,
        from: APPLICANT.practitioner,
        to: EXPERT.practitioner,
        sequence: 1,
        patient,
        priority: 'urgent',
        reason: 'Intermittent chest pain for two days, worse on exertion',
        question: 'Is this ECG consistent with ischaemia? Refer or treat locally?',
        vitals: [
          { sign: 'heartRate', value: 96, effective: c.timestamp },
          { sign: 'oxygenSaturation', value: 95, effective: c.timestamp },
          { sign: 'bodyTemperature', value: 37.1, effective: c.timestamp },
        ],
        bloodPressure: [{ systolic: 152, diastolic: 94, effective: c.timestamp }],
        waveforms: [
          {
            kind: 'ecg',
            effective: c.timestamp,
            periodMs: 4,
            series: (['I', 'II', 'III'] as const).map((lead, i) => ({
              lead,
              samples: Array.from({ length: 24 }, (_, k) => Math.round(100 * Math.sin((k + i * 3) / 3))),
            })),
          },
        ],
        attachments: [
          {
            title: 'Referral letter',
            contentType: 'text/plain',
            base64: btoa('Referred for cardiology opinion.'),
            size: 31,
          },
        ],
      }),
  );
  add(
    8,
    T.consultStatus,
    'The expert asks for more information',
    EXPERT.endpoint,
    EXPERT.endpoint,
    { ...consultProps(1, EXPERT.practitioner, APPLICANT.practitioner), rtsStatus: 'more-information-needed' },
    (c) =>
      buildConsultStatus(c, {
        caseId: CASE_ID,
        from: EXPERT.practitioner,
        to: APPLICANT.practitioner,
        sequence: 1,
        status: 'more-information-needed',
        note: 'Please send a troponin result if available.',
      }),
  );
  add(
    9,
    T.consultReport,
    "The expert's signed report with a prescription",
    EXPERT.endpoint,
    EXPERT.endpoint,
    consultProps(2, EXPERT.practitioner, APPLICANT.practitioner),
    (c) =>
      buildConsultReport(c, {
        caseId: CASE_ID,
        from: EXPERT.practitioner,
        to: APPLICANT.practitioner,
        sequence: 2,
        patient,
        findings: 'Sinus rhythm, ST depression in leads II and III.',
        conclusion: 'Probable unstable angina. Start treatment and refer to the district hospital within 24 hours.',
        diagnoses: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I20.0', text: 'Unstable angina' }],
        prescriptions: [
          {
            medication: 'Aspirin 75 mg tablet',
            dose: 75,
            unit: 'mg',
            frequency: 1,
            period: 1,
            periodUnit: 'd',
            route: 'oral',
            instructions: 'Once daily after food',
          },
          {
            medication: 'Atorvastatin 40 mg tablet',
            dose: 40,
            unit: 'mg',
            frequency: 1,
            period: 1,
            periodUnit: 'd',
            route: 'oral',
          },
        ],
      }),
  );
  add(
    10,
    T.receipt,
    'The expert workstation confirms it processed the request',
    EXPERT.endpoint,
    EXPERT.endpoint,
    { rtsReceipt: 'processed', rtsToEndpoint: APPLICANT.endpoint },
    (c) => buildReceipt(c, { toEndpoint: APPLICANT.endpoint, originalMessageId: messageId(7), outcome: 'processed' }),
    messageId(7),
  );
  add(
    11,
    T.receipt,
    'The hub rejects a consult to a retired expert',
    'hub',
    'rts-hub',
    { rtsReceipt: 'rejected', rtsToEndpoint: APPLICANT.endpoint, rtsReason: 'retired-expert' },
    (c) =>
      buildReceipt(c, {
        toEndpoint: APPLICANT.endpoint,
        originalMessageId: messageId(7),
        outcome: 'rejected',
        reasons: [{ code: 'retired-expert', text: 'clinic-b.dr-former has been retired from the directory.' }],
      }),
    messageId(7),
  );
  add(
    12,
    T.hubNotice,
    'The hub confirms a registration',
    'hub',
    'rts-hub',
    { rtsNotice: 'registration-accepted', rtsToEndpoint: EXPERT.endpoint },
    (c) =>
      buildHubNotice(c, {
        notice: 'registration-accepted',
        text: 'Welcome to the region. A directory snapshot follows.',
        toEndpoint: EXPERT.endpoint,
      }),
  );
  return examples;
}
