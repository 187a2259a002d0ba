import { z } from 'zod';
import { CONSULT_STATUS_UPDATES } from './consult-status.ts';
import { directoryIdSchema, endpointIdSchema, uuidSchema } from './identifiers.ts';
import { MESSAGE_TYPES as T } from './message-types.ts';
import { REASON_CODES } from './reason-codes.ts';

/**
 * AMQP application properties of each message type: the clear-text routing metadata. It never carries a patient
 * identifier. Names are valid Java identifiers so that JMS clients can read them as message properties. Unknown
 * properties are ignored (a minor protocol version may add optional ones).
 */
const positiveInt = z.number().int().min(1).max(2_147_483_647);
const version = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `rtsVersion`: major.minor. A value of another form is `malformed-properties`; another major, `unsupported-version`. */
export const VERSION_PATTERN = /^\d{1,3}\.\d{1,3}$/;

const common = {
  rtsVersion: z.string().regex(VERSION_PATTERN, 'major.minor'),
  /** The sending endpoint; on the uplink it must equal the sender the broker vouches for, and the routing key. */
  rtsSender: endpointIdSchema,
};

const batch = {
  rtsBatchId: uuidSchema,
  rtsBatchIndex: positiveInt,
  rtsBatchCount: positiveInt,
};

const consult = {
  rtsCase: uuidSchema,
  rtsFromPractitioner: directoryIdSchema,
  rtsToPractitioner: directoryIdSchema,
  /** Per case and sending endpoint, 1, 2, 3…: lets receivers detect stale or reordered steps. */
  rtsSequence: positiveInt,
};

export const applicationPropertiesSchema = z.discriminatedUnion('rtsType', [
  z.object({ rtsType: z.literal(T.endpointRegister), ...common }),
  z.object({
    rtsType: z.literal(T.directoryPublish),
    ...common,
    rtsDirectoryMode: z.enum(['full', 'delta']),
    // A full list travels in numbered batches; a delta is one batch (index 1 of 1).
    ...batch,
  }),
  z.object({ rtsType: z.literal(T.directorySnapshotRequest), ...common }),
  z.object({
    rtsType: z.literal(T.directoryUpdate),
    ...common,
    rtsDirectoryBaseVersion: version,
    rtsDirectoryVersion: version,
  }),
  z.object({
    rtsType: z.literal(T.directorySnapshot),
    ...common,
    ...batch,
    rtsDirectoryVersion: version,
    rtsToEndpoint: endpointIdSchema,
  }),
  z.object({ rtsType: z.literal(T.consultRequest), ...common, ...consult }),
  z.object({ rtsType: z.literal(T.consultStatus), ...common, ...consult, rtsStatus: z.enum(CONSULT_STATUS_UPDATES) }),
  z.object({ rtsType: z.literal(T.consultReport), ...common, ...consult }),
  z.object({
    rtsType: z.literal(T.receipt),
    ...common,
    rtsReceipt: z.enum(['delivered', 'processed', 'rejected']),
    /** The endpoint that sent the message this receipt is about. */
    rtsToEndpoint: endpointIdSchema,
    /** The first reason, for rejected receipts (all reasons are in the payload). */
    rtsReason: z.enum(Object.values(REASON_CODES)).optional(),
  }),
  z.object({
    rtsType: z.literal(T.hubNotice),
    ...common,
    rtsNotice: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/),
    /** Absent: a notice to every endpoint. */
    rtsToEndpoint: endpointIdSchema.optional(),
  }),
]);

export type ApplicationProperties = z.infer<typeof applicationPropertiesSchema>;
export type PropertiesOf<M extends ApplicationProperties['rtsType']> = Extract<ApplicationProperties, { rtsType: M }>;
