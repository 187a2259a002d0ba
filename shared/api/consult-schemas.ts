import { base64String } from '../base64.ts';
import { z } from 'zod';
import { CONSULT_STATUSES } from '../protocol/consult-status.ts';
import { directoryIdSchema, uuidSchema } from '../protocol/identifiers.ts';
import { REASON_CODES } from '../protocol/reason-codes.ts';
import { date as fhirDate } from '../protocol/fhir/fhir-elements.ts';
import { ECG_LEADS, VITAL_SIGNS, WAVEFORMS } from '../protocol/fhir/vital-signs.ts';

/**
 * What crosses the bridge about consultations: the applicant's compose form, the expert's answers, and the views of a
 * case the renderer shows. Patient data appears only in `CaseView`, which the core builds by decrypting on open.
 */
const consultStatusSchema = z.enum(Object.values(CONSULT_STATUSES) as [string, ...string[]]);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD');
const isoDateTime = z.string().datetime({ offset: true });
const MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024;

export const patientSchema = z.object({
  family: z.string().trim().min(1).max(200),
  given: z.array(z.string().trim().min(1).max(200)).min(1).max(5),
  gender: z.enum(['male', 'female', 'other', 'unknown']),
  birthDate: isoDate,
  identifiers: z
    .array(z.object({ system: z.string().min(1).max(200), value: z.string().min(1).max(100) }))
    .max(5)
    .optional(),
});

export const attachmentSchema = z.object({
  title: z.string().trim().min(1).max(200),
  contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/),
  base64: base64String('base64', { maxLength: Math.ceil(MAX_ATTACHMENT_BYTES / 3) * 4 }),
  size: z.number().int().min(0).max(MAX_ATTACHMENT_BYTES),
});

export const vitalSchema = z.object({
  sign: z.enum(Object.keys(VITAL_SIGNS) as [keyof typeof VITAL_SIGNS, ...(keyof typeof VITAL_SIGNS)[]]),
  value: z.number().finite(),
  effective: isoDateTime,
});

export const bloodPressureSchema = z.object({
  systolic: z.number().positive().max(400),
  diastolic: z.number().positive().max(300),
  effective: isoDateTime,
});

export const waveformSchema = z.object({
  kind: z.enum(Object.keys(WAVEFORMS) as [keyof typeof WAVEFORMS, ...(keyof typeof WAVEFORMS)[]]),
  effective: isoDateTime,
  periodMs: z.number().positive().max(10_000),
  series: z
    .array(
      z.object({
        lead: z.enum(Object.keys(ECG_LEADS) as [keyof typeof ECG_LEADS, ...(keyof typeof ECG_LEADS)[]]).optional(),
        samples: z.array(z.number().finite()).min(1).max(500_000),
      }),
    )
    .min(1)
    .max(12),
});

export const priorities = ['routine', 'urgent', 'asap', 'stat'] as const;

export const composeConsultSchema = z.object({
  expertId: directoryIdSchema,
  patient: patientSchema,
  priority: z.enum(priorities),
  reason: z.string().trim().min(1).max(2_000),
  question: z.string().trim().max(10_000).optional(),
  vitals: z.array(vitalSchema).max(1_000).optional(),
  bloodPressure: z.array(bloodPressureSchema).max(1_000).optional(),
  waveforms: z.array(waveformSchema).max(20).optional(),
  attachments: z.array(attachmentSchema).max(20).optional(),
});
export type ComposeConsult = z.infer<typeof composeConsultSchema>;

/**
 * The content of a request as the compose form takes it again: the create command's input without the expert, and
 * with only those parts of the patient that would pass (a peer may have written a partial birth date).
 */
export const requestContentSchema = composeConsultSchema
  .omit({ expertId: true, patient: true, reason: true })
  .extend({ patient: patientSchema.partial(), reason: z.string().max(2_000) });
export type RequestContent = z.infer<typeof requestContentSchema>;

/** A lifecycle step the user takes; who may take which is the protocol's (docs/protocol.md §5.2). */
export const caseActionSchema = z.discriminatedUnion('action', [
  z.object({ caseId: uuidSchema, action: z.literal('accept') }),
  z.object({ caseId: uuidSchema, action: z.literal('decline'), note: z.string().trim().min(1).max(5_000) }),
  z.object({ caseId: uuidSchema, action: z.literal('request-information'), note: z.string().trim().min(1).max(5_000) }),
  z.object({
    caseId: uuidSchema,
    action: z.literal('redirect'),
    suggestedPractitioner: directoryIdSchema,
    note: z.string().trim().max(5_000).optional(),
  }),
  z.object({
    caseId: uuidSchema,
    action: z.literal('provide-information'),
    note: z.string().trim().min(1).max(10_000),
    attachments: z.array(attachmentSchema).max(20).optional(),
  }),
  z.object({ caseId: uuidSchema, action: z.literal('cancel'), note: z.string().trim().min(1).max(5_000) }),
]);
export type CaseAction = z.infer<typeof caseActionSchema>;

export const prescriptionSchema = z.object({
  medication: z.string().trim().min(1).max(300),
  dose: z.number().positive().max(100_000),
  unit: z.string().trim().min(1).max(30),
  frequency: z.number().int().min(1).max(48),
  period: z.number().positive().max(365),
  periodUnit: z.enum(['h', 'd', 'wk', 'mo']),
  route: z.string().trim().max(100).optional(),
  instructions: z.string().trim().max(2_000).optional(),
});

export const reportInputSchema = z.object({
  caseId: uuidSchema,
  findings: z.string().trim().max(20_000).optional(),
  conclusion: z.string().trim().min(1).max(20_000),
  diagnoses: z
    .array(
      z.object({ system: z.string().optional(), code: z.string().optional(), text: z.string().trim().min(1).max(500) }),
    )
    .max(20)
    .optional(),
  prescriptions: z.array(prescriptionSchema).max(30).optional(),
});
export type ReportInput = z.infer<typeof reportInputSchema>;

export const messageStateSchema = z.enum([
  'queued',
  'sent',
  'delivered',
  'processed',
  'rejected',
  'failed',
  'verified',
]);
const reasonSchema = z.enum(Object.values(REASON_CODES) as [string, ...string[]]);

/** The inbox's tabs: new requests (to an expert), in progress, waiting for information, done. */
export const caseBucketSchema = z.enum(['new', 'progress', 'waiting', 'done']);
export type CaseBucket = z.infer<typeof caseBucketSchema>;

/**
 * Why a case needs the user's eye: a received message refused here, one of ours refused (each with the refusal's reason
 * code, shared/protocol REASON_CODES, when there is one), or one that could not be sent. The renderer words it.
 */
export const caseAttentionSchema = z.object({
  kind: z.enum(['received-refused', 'sent-refused', 'not-sent']),
  reason: z.string().optional(),
});
export type CaseAttention = z.infer<typeof caseAttentionSchema>;

/** One row of the inbox: no patient data, so that the list needs no decryption. */
export const caseSummarySchema = z.object({
  caseId: uuidSchema,
  role: z.enum(['applicant', 'expert']),
  status: consultStatusSchema,
  priority: z.enum(priorities).optional(),
  applicantId: directoryIdSchema,
  expertId: directoryIdSchema,
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  unread: z.boolean(),
  /** A message of this case was refused (by us, the hub or the peer): the user must see why. */
  attention: caseAttentionSchema.optional(),
});
export type CaseSummary = z.infer<typeof caseSummarySchema>;

/** A practitioner as a list shows them: the directory's name and hospital (absent when no longer listed). */
export const casePartySchema = z.object({
  practitionerId: directoryIdSchema,
  name: z.string().optional(),
  specialties: z.string().optional(),
  hospital: z.string().optional(),
});
export type CaseParty = z.infer<typeof casePartySchema>;

export const waitingOnSchema = z.enum(['me', 'them', 'nobody']);
export const caseSortSchema = z.enum(['inbox', 'urgency', 'waiting', 'newest', 'patient']);

/**
 * One row of this workstation's inbox, for triage without opening the case: the summary, the patient and reason (patient
 * data, read when the case arrived and kept in the encrypted store; never in events, logs or notifications), the other
 * party by name, on whom the case waits and since when, and whether an urgent request waits too long to be accepted.
 */
export const inboxRowSchema = caseSummarySchema.extend({
  patient: z
    .object({ name: z.string(), birthDate: z.string().max(10).optional(), gender: z.string().max(20).optional() })
    .optional(),
  reason: z.string().optional(),
  otherParty: casePartySchema,
  waitingOn: waitingOnSchema,
  statusSince: isoDateTime,
  escalated: z.boolean(),
});
export type InboxRow = z.infer<typeof inboxRowSchema>;

/*
 * What a received case shows is what the protocol's profiles let a peer send (shared/protocol/fhir/payload-profiles.ts),
 * which is wider than what this app's own forms above produce: a birth date of "1957", a patient named only in
 * `name.text`, a sample "E" (no value), a dose without a unit. A case stored as processed must always open, so these
 * views take every profile-valid value, kept as text where the screen cannot read more into it (issue #16 item 7).
 */
export const patientViewSchema = z.object({
  family: z.string(),
  given: z.array(z.string()),
  /** The name as one text, when the sender gave it so. */
  text: z.string().optional(),
  gender: patientSchema.shape.gender,
  /** A FHIR date: year, year-month, or full date. */
  birthDate: fhirDate,
  identifiers: z.array(z.object({ system: z.string().optional(), value: z.string() })).optional(),
});
export type PatientView = z.infer<typeof patientViewSchema>;

export const attachmentViewSchema = z.object({
  title: z.string(),
  contentType: z.string(),
  base64: base64String('base64'),
  size: z.number().int().min(0),
});

export const bloodPressureViewSchema = z.object({ systolic: z.number(), diastolic: z.number(), effective: z.string() });

export const waveformViewSchema = z.object({
  kind: waveformSchema.shape.kind,
  effective: z.string(),
  periodMs: z.number().positive(),
  series: z
    .array(
      z.object({
        lead: waveformSchema.shape.series.element.shape.lead,
        /** null where the device gave no value (FHIR SampledData "E", "L", "U"): a gap in the trace. */
        samples: z.array(z.number().nullable()),
      }),
    )
    .min(1),
});

export const prescriptionViewSchema = prescriptionSchema.extend({
  medication: z.string(),
  dose: z.number(),
  unit: z.string(),
  frequency: z.number(),
  period: z.number(),
  route: z.string().optional(),
  instructions: z.string().optional(),
});

/**
 * Who signed a message: the certificate's subject and the signing time, and the person the certificate names (its
 * common name is their directory id, docs/protocol.md §3) with their name from the directory, where it lists them.
 */
const signerSchema = z.object({
  subject: z.string(),
  signedAt: isoDateTime,
  practitionerId: z.string().optional(),
  name: z.string().optional(),
  /** The signer's hospital as the directory lists it now. */
  hospital: z.string().optional(),
  /** The signing certificate's serial number (hex) and issuer (the region's CA), for the signature block. */
  serialNumber: z.string().optional(),
  issuer: z.string().optional(),
});

export const caseMessageViewSchema = z.object({
  messageId: uuidSchema,
  direction: z.enum(['in', 'out']),
  type: z.enum(['consult.request', 'consult.status', 'consult.report']),
  status: consultStatusSchema,
  at: isoDateTime,
  state: messageStateSchema,
  reason: reasonSchema.optional(),
  detail: z.string().optional(),
  /** The verified signer. Absent for a refused message. */
  signer: signerSchema.optional(),
  note: z.string().optional(),
  suggestedPractitioner: z.string().optional(),
  attachments: z.array(attachmentViewSchema).optional(),
});

export const caseViewSchema = caseSummarySchema.extend({
  /** The other party by name and hospital (the directory's now, or as it was when the case began). */
  otherParty: casePartySchema.optional(),
  /** Both parties by name and hospital, for the printed report. */
  people: z.object({ applicant: casePartySchema, expert: casePartySchema }).optional(),
  patient: patientViewSchema.optional(),
  reason: z.string().optional(),
  question: z.string().optional(),
  vitals: z.array(
    z.object({ code: z.string(), display: z.string(), value: z.number(), unit: z.string(), effective: z.string() }),
  ),
  bloodPressure: z.array(bloodPressureViewSchema),
  waveforms: z.array(waveformViewSchema),
  attachments: z.array(attachmentViewSchema),
  report: z
    .object({
      findings: z.string().optional(),
      conclusion: z.string(),
      diagnoses: z.array(z.object({ system: z.string().optional(), code: z.string().optional(), text: z.string() })),
      prescriptions: z.array(prescriptionViewSchema),
      signer: signerSchema,
      verified: z.literal(true),
      /** SHA-256 (hex) of the envelope the report arrived in: what a printout's reader can check it against. */
      envelopeSha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .optional(),
  messages: z.array(caseMessageViewSchema),
});
export type CaseView = z.infer<typeof caseViewSchema>;
