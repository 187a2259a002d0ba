import { z } from 'zod';
import {
  caseActionSchema,
  caseBucketSchema,
  caseSummarySchema,
  caseViewSchema,
  priorities,
  reportInputSchema,
} from '../shared/api/index.ts';
import { directoryIdSchema, endpointIdSchema, uuidSchema } from '../shared/protocol/index.ts';
import { FEED_EVENT_TYPES } from './event-feed.ts';

/**
 * The connector's HTTP API as zod schemas: the router validates every request and response with them, and the OpenAPI
 * document (docs/connector-openapi.yaml, served at GET /openapi.yaml) is generated from the same objects, so the two
 * cannot drift (openapi.test.ts fails when the file differs from what these produce).
 */
const isoDateTime = z.string().datetime({ offset: true });

export const problemSchema = z
  .object({
    type: z.string().describe('urn:rts:connector:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z
      .string()
      .describe(
        'machine-readable: invalid-request, unauthorized, not-found, method-not-allowed, not-allowed (the step does not follow from the case), too-large, gone, unsupported-media-type, not-configured, internal-error',
      ),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional().describe('JSON pointer into the request body'),
          line: z.number().int().optional().describe('1-based line of a CSV body'),
          field: z.string().optional(),
          detail: z.string(),
        }),
      )
      .optional(),
  })
  .describe('RFC 9457 problem details');

export const connectionStateSchema = z
  .object({
    status: z.string(),
    since: z.string(),
    reason: z.string().optional(),
  })
  .passthrough();

export const stateSchema = z.object({
  endpointId: endpointIdSchema,
  region: z.string(),
  connection: connectionStateSchema,
  registration: z.object({ state: z.string(), reason: z.string().optional() }).passthrough(),
  directory: z.object({ version: z.number().int().optional(), experts: z.number().int() }),
  outbox: z.object({ waiting: z.number().int(), failed: z.number().int() }),
  refused: z.number().int(),
  practitioners: z.number().int(),
  crl: z.object({ state: z.enum(['current', 'expiring', 'stale']), nextUpdate: z.string().optional() }),
  events: z.object({ first: z.number().int().optional(), last: z.number().int() }),
});

export const publishRequestSchema = z
  .object({
    mode: z
      .enum(['full', 'delta'])
      .describe("full: the clinic's whole list (entries not in it are retired); delta: changes"),
    csv: z
      .string()
      .max(64 * 1024 * 1024)
      .optional()
      .describe('experts as CSV (columns: docs/connector.md); for a delta, the entries to create or replace'),
    bundle: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('a FHIR Bundle of Practitioner, PractitionerRole and Organization'),
    retire: z
      .array(z.string().min(1).max(64))
      .max(100_000)
      .optional()
      .describe('delta only: local or directory ids of experts to retire'),
  })
  .strict()
  .refine(
    (r) =>
      (r.csv === undefined) !== (r.bundle === undefined) ||
      (r.mode === 'delta' && r.csv === undefined && r.bundle === undefined && (r.retire?.length ?? 0) > 0),
    {
      message: 'give exactly one of csv and bundle (a delta may instead only retire)',
    },
  )
  .refine((r) => r.mode === 'delta' || r.retire === undefined, { message: 'retire is for a delta', path: ['retire'] });

const batchStateSchema = z.enum(['queued', 'sent', 'processed', 'rejected', 'failed']);
export const publicationSchema = z.object({
  publicationId: uuidSchema,
  mode: z.enum(['full', 'delta']),
  state: z.enum(['queued', 'sent', 'accepted', 'rejected', 'failed']),
  entries: z.number().int(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  reason: z.string().optional().describe("the hub's reason code when rejected"),
  detail: z.string().optional(),
  batches: z.array(
    z.object({
      index: z.number().int(),
      messageId: uuidSchema,
      state: batchStateSchema,
      reason: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});

export const searchQuerySchema = z
  .object({
    text: z.string().max(200).optional(),
    specialty: z.string().max(200).optional(),
    language: z.string().max(35).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    /** Matches to skip, counted after the filters. */
    offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();

export const expertSummarySchema = z.object({
  practitionerId: directoryIdSchema,
  name: z.string(),
  specialties: z.string(),
  organization: z.string(),
  city: z.string(),
  languages: z.string(),
  lookAlikes: z.array(z.string()).optional(),
  /** Absent once the connector found the certificates valid; `unchecked` not judged yet; `failed`: see certificateProblem. */
  certificates: z.enum(['unchecked', 'failed']).optional(),
  certificateProblem: z.string().optional(),
});

export const expertSchema = z.object({
  practitionerId: directoryIdSchema,
  name: z.string().optional(),
  specialties: z.array(z.string()),
  organization: z.string().optional(),
  city: z.string().optional(),
  languages: z.array(z.string()),
  endpoints: z.array(z.string()),
  publisher: z.string(),
  lookAlikes: z.array(z.string()),
});

export const createConsultRequestSchema = z
  .object({
    from: directoryIdSchema.describe("the applicant: one of this connector's practitioners"),
    to: directoryIdSchema.describe('the expert, from the directory'),
    priority: z.enum(priorities).optional(),
    resources: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(2_000)
      .describe(
        'FHIR R4 resources: one Patient, one ServiceRequest (reason, question, priority), Observations (vital signs; ECG/pleth as SampledData), DocumentReferences with inline files',
      ),
  })
  .strict();

export const consultSummarySchema = caseSummarySchema.extend({
  attention: z.string().optional(),
  replayed: z.boolean().optional().describe('true when an Idempotency-Key repeated an earlier request'),
});

export const listConsultsQuerySchema = z
  .object({
    practitioner: directoryIdSchema.optional(),
    role: z.enum(['applicant', 'expert']).optional(),
    bucket: caseBucketSchema.optional(),
    offset: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** The workstation's lifecycle steps, the case named by the path instead of the body. */
export const actionRequestSchema = z.discriminatedUnion(
  'action',
  caseActionSchema.options.map((o) => (o as z.ZodObject).omit({ caseId: true })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);
/** The report as the form's fields, or as FHIR resources (report-input.ts reads them into the same form). */
export const reportRequestSchema = z.union([
  reportInputSchema.omit({ caseId: true }).strict(),
  z
    .object({
      resources: z
        .array(z.record(z.string(), z.unknown()))
        .min(1)
        .max(50)
        .describe(
          'FHIR R4 resources: one DiagnosticReport (conclusion, conclusionCode), at most one Observation of findings (valueString), MedicationRequests',
        ),
    })
    .strict(),
]);

export const consultViewSchema = caseViewSchema.extend({ attention: z.string().optional() });

export const consultMessageSchema = z.object({
  messageId: uuidSchema,
  type: z.enum(['consult.request', 'consult.status', 'consult.report']),
  direction: z.enum(['in', 'out']),
  signer: caseViewSchema.shape.messages.element.shape.signer.unwrap(),
  bundle: z
    .record(z.string(), z.unknown())
    .describe('the FHIR R4 message Bundle as signed by the sender (docs/protocol.md §4)'),
});

export const feedEventSchema = z
  .object({
    cursor: z.number().int(),
    type: z.enum(FEED_EVENT_TYPES),
    at: isoDateTime,
    caseId: z.string().optional(),
    messageId: z.string().optional(),
    publicationId: z.string().optional(),
    messageType: z.string().optional(),
    state: z.string().optional(),
    reason: z.string().optional(),
  })
  .describe('ids, types, states and reason codes only: never patient data');

export const eventsQuerySchema = z
  .object({
    after: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .describe('the cursor of the last event handled (0 or absent: from the oldest kept)'),
    wait: z.coerce
      .number()
      .int()
      .min(0)
      .max(60)
      .optional()
      .describe('seconds to wait for an event when there is none yet (long-poll)'),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

export const eventsSchema = z.object({
  events: z.array(feedEventSchema),
  next: z.number().int().describe('the cursor to give as `after` next time'),
});

export const outboxSchema = z.object({
  counts: z.record(z.string(), z.number()),
  failed: z.array(
    z.object({
      messageId: z.string(),
      type: z.string(),
      caseId: z.string().optional(),
      reason: z.string(),
      at: isoDateTime,
    }),
  ),
});

export const refusedSchema = z.array(
  z.object({
    id: z.number().int(),
    messageId: z.string(),
    reason: z.string(),
    receivedAt: isoDateTime,
    type: z.string().optional(),
    sender: z.string().optional(),
    caseId: z.string().optional(),
  }),
);

export const practitionersSchema = z.array(z.object({ practitionerId: directoryIdSchema, inDirectory: z.boolean() }));
