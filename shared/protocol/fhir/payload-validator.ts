import type { z } from 'zod';
import { RTS_URIS } from '../identifiers.ts';
import type { MessageMetadata } from '../message-codec.ts';
import { PROTOCOL_LIMITS } from '../limits.ts';
import { jsonDeeperThan } from '../json-depth.ts';
import { MESSAGE_TYPES } from '../message-types.ts';
import { REASON_CODES, REASON_CODE_SYSTEM, type ReasonCode } from '../reason-codes.ts';
import { validateFhirResource, type FhirIssue } from './fhir-base-validation.ts';
import { PAYLOAD_PROFILES } from './payload-profiles.ts';

export interface PayloadViolation {
  readonly code: ReasonCode;
  /** Names the element at fault (a FHIRPath-like path); never quotes payload values. */
  readonly detail: string;
}

export type PayloadResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: PayloadViolation };

const refused = (code: ReasonCode, detail: string) => ({ ok: false, error: { code, detail } }) as const;

function path(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>(
    (p, s) => (typeof s === 'number' ? `${p}[${s}]` : p ? `${p}.${String(s)}` : String(s)),
    'Bundle',
  );
}

interface HeaderView {
  identifier: { value: string };
  timestamp: string;
  entry: [
    {
      resource: {
        eventCoding: { code: string };
        source: { endpoint: string };
        sender?: PractitionerRef;
        destination?: { endpoint?: string; receiver?: PractitionerRef }[];
        extension?: { url: string; valuePositiveInt?: number }[];
        response?: { identifier?: string; code?: string };
      };
    },
    ...{ resource: Record<string, unknown> }[],
  ];
}
interface OutcomeView {
  issue: [{ details: { coding: [{ system: string; code: string }] } }];
}
interface PractitionerRef {
  identifier: { value: string };
}

/** What a receipt's signed OperationOutcome says: the reason code of a rejection, or the outcome. */
function receiptCheck(
  bundle: HeaderView,
  props: Extract<MessageMetadata['properties'], { rtsType: 'receipt' }>,
): string | undefined {
  const rejected = props.rtsReceipt === 'rejected';
  if (bundle.entry[0].resource.response?.code !== (rejected ? 'fatal-error' : 'ok'))
    return 'MessageHeader.response.code differs from rtsReceipt';
  const [first] = (bundle.entry[1]!.resource as unknown as OutcomeView).issue[0].details.coding;
  const expected = rejected
    ? { system: REASON_CODE_SYSTEM, code: props.rtsReason }
    : { system: RTS_URIS.receiptOutcomeSystem, code: props.rtsReceipt };
  if (first.system !== expected.system || first.code !== expected.code)
    return `the OperationOutcome's first code differs from ${rejected ? 'rtsReason' : 'rtsReceipt'}`;
  if (!rejected && props.rtsReason !== undefined) return 'rtsReason on a receipt that is not rejected';
  return undefined;
}

/**
 * What the signed payload says about itself must match what the AMQP message claims: otherwise a validly signed
 * payload could be re-sent under another message id, case, sender or recipient, or a forwarding hub could change a
 * step's sequence, a message's creation time or a peer's receipt outcome.
 */
function crossCheck(bundle: HeaderView, metadata: MessageMetadata): string | undefined {
  const props = metadata.properties;
  const header = bundle.entry[0].resource;
  if (bundle.identifier.value !== `urn:uuid:${metadata.messageId}`) return 'Bundle.identifier differs from message_id';
  if (Date.parse(bundle.timestamp) !== metadata.creationTime.getTime())
    return 'Bundle.timestamp differs from creation_time';
  if (header.eventCoding.code !== props.rtsType) return 'MessageHeader.eventCoding differs from rtsType';
  if (header.source.endpoint !== RTS_URIS.endpoint(props.rtsSender))
    return 'MessageHeader.source.endpoint differs from rtsSender';
  if ('rtsToEndpoint' in props && props.rtsToEndpoint !== undefined) {
    if (header.destination?.[0]?.endpoint !== RTS_URIS.endpoint(props.rtsToEndpoint))
      return 'MessageHeader.destination differs from rtsToEndpoint';
  }
  if ('rtsCase' in props) {
    if (header.sender?.identifier.value !== props.rtsFromPractitioner)
      return 'MessageHeader.sender differs from rtsFromPractitioner';
    if (header.destination?.[0]?.receiver?.identifier.value !== props.rtsToPractitioner)
      return 'MessageHeader.destination.receiver differs from rtsToPractitioner';
    const resources = bundle.entry.slice(1) as { resource: Record<string, unknown> }[];
    const caseIds = resources.flatMap(({ resource }) => {
      const identifiers = (resource.identifier ??
        (resource.basedOn as { identifier?: unknown }[] | undefined)?.map((b) => b.identifier)) as
        { system?: string; value?: string }[] | undefined;
      return (identifiers ?? []).filter((i) => i?.system === RTS_URIS.caseSystem).map((i) => i.value);
    });
    if (caseIds.length === 0 || caseIds.some((id) => id !== props.rtsCase))
      return 'case identifiers differ from rtsCase';
    if (header.extension?.[0]?.valuePositiveInt !== props.rtsSequence)
      return 'MessageHeader sequence extension differs from rtsSequence';
    if (props.rtsType === 'consult.status') {
      const task = bundle.entry[1]?.resource as { businessStatus?: { coding?: { code?: string }[] } } | undefined;
      if (task?.businessStatus?.coding?.[0]?.code !== props.rtsStatus)
        return 'Task.businessStatus differs from rtsStatus';
    }
  }
  if (props.rtsType === MESSAGE_TYPES.receipt) {
    if (header.response?.identifier !== metadata.correlationId)
      return 'MessageHeader.response.identifier differs from correlation_id';
    return receiptCheck(bundle, props);
  }
  return undefined;
}

const DIRECTORY_TYPES: ReadonlySet<string> = new Set([
  MESSAGE_TYPES.directoryPublish,
  MESSAGE_TYPES.directoryUpdate,
  MESSAGE_TYPES.directorySnapshot,
]);

/** The types whose profile checks their DocumentReferences' attachments whole (payload-profiles.ts). */
const FILE_TYPES: ReadonlySet<string> = new Set([MESSAGE_TYPES.consultRequest, MESSAGE_TYPES.consultStatus]);

interface DirectoryView {
  entry: [unknown, { resource: { entry?: { resource?: { resourceType?: string; extension?: unknown } }[] } }];
}

interface BundleView {
  entry?: { resource?: { resourceType?: string; extension?: unknown; content?: { attachment?: object }[] } }[];
}

/**
 * A payload as base FHIR validation needs to see it, without what the profile (which has passed) has checked whole.
 * A directory payload's Practitioners without their extensions: the profile allows there only the certificate
 * extension in an exact, strict form, and validating it again was two thirds of the cost of a directory entry. A
 * consult's files (the DocumentReferences among its entries, which the profile requires to be `documentReference` or
 * `followUpDocument`) without their attachments' base64 `data`: the profile checked it (isBase64), and Medplum's own
 * pass over a 1 MiB file cost P2 6 % of its CPU. Everything else is validated as sent.
 */
function forBaseValidation(json: unknown, type: string): unknown {
  if (DIRECTORY_TYPES.has(type)) {
    const [header, list] = (json as DirectoryView).entry;
    const entries = list.resource.entry?.map((e) => {
      if (e.resource?.resourceType !== 'Practitioner') return e;
      const { extension: _checkedByProfile, ...practitioner } = e.resource;
      return { ...e, resource: practitioner };
    });
    return {
      ...(json as object),
      entry: [header, { ...list, resource: { ...list.resource, ...(entries && { entry: entries }) } }],
    };
  }
  if (!FILE_TYPES.has(type)) return json;
  const entries = (json as BundleView).entry?.map((e) => {
    if (e.resource?.resourceType !== 'DocumentReference' || !Array.isArray(e.resource.content)) return e;
    const content = e.resource.content.map((c) => {
      const data = (c?.attachment as { data?: unknown } | undefined)?.data;
      // What base validation would refuse beyond the profile (empty, or not padded to a multiple of 4) it still sees.
      if (typeof data !== 'string' || data.length === 0 || data.length % 4 !== 0) return c;
      const { data: _checkedByProfile, ...attachment } = c.attachment as { data?: unknown };
      return { ...c, attachment };
    });
    return { ...e, resource: { ...e.resource, content } };
  });
  return { ...(json as object), ...(entries && { entry: entries }) };
}

/**
 * The directory messages the hub builds from entries it validated against base FHIR R4 when they were published, and
 * signs (docs/protocol.md §4): an endpoint that has verified the hub's signature on one checks its profile and its
 * properties, not base FHIR R4 again. At 100,000 experts that second validation was a fifth of P1's CPU.
 */
export const HUB_VALIDATED_TYPES: ReadonlySet<string> = new Set([
  MESSAGE_TYPES.directoryUpdate,
  MESSAGE_TYPES.directorySnapshot,
]);

export interface PayloadChecks {
  /** Base FHIR R4 validation; false only for a message of HUB_VALIDATED_TYPES whose hub signature was verified. */
  readonly baseFhir?: boolean;
}

/**
 * Base FHIR R4 validation done elsewhere (a worker thread: shared-node/base-fhir-validator.ts), answering what
 * `validateFhirResource` answers for the same resource.
 */
export type BaseFhirCheck = (resource: unknown) => Promise<readonly FhirIssue[]>;

/**
 * Validates a decrypted, signature-verified payload for its message: UTF-8 JSON, the RTS profile of the message type
 * (JSON Schema), base FHIR R4 (unless `checks` leaves it out), and agreement with the AMQP properties. The first failure
 * is returned with its code.
 */
export function validatePayload(
  payload: Uint8Array,
  metadata: MessageMetadata,
  checks: PayloadChecks = {},
): PayloadResult {
  const profiled = profileChecked(payload, metadata);
  if (!profiled.ok) return profiled;
  const type = metadata.properties.rtsType;
  return concluded(
    profiled.json,
    checks.baseFhir === false ? [] : validateFhirResource(forBaseValidation(profiled.json, type)),
    metadata,
  );
}

/**
 * `validatePayload` with base FHIR R4 validation by `baseFhir`: the same checks in the same order, so the same verdict
 * and, on failure, the same code and detail.
 */
export async function validatePayloadWith(
  payload: Uint8Array,
  metadata: MessageMetadata,
  baseFhir: BaseFhirCheck,
): Promise<PayloadResult> {
  const profiled = profileChecked(payload, metadata);
  if (!profiled.ok) return profiled;
  const issues = await baseFhir(forBaseValidation(profiled.json, metadata.properties.rtsType));
  return concluded(profiled.json, issues, metadata);
}

/** The checks before base FHIR validation: size, UTF-8 JSON, depth, the RTS profile. */
function profileChecked(
  payload: Uint8Array,
  metadata: MessageMetadata,
): { ok: true; json: unknown } | Extract<PayloadResult, { ok: false }> {
  if (payload.byteLength > PROTOCOL_LIMITS.maxPayloadBytes)
    return refused(
      REASON_CODES.tooLarge,
      `payload: ${payload.byteLength} bytes, limit ${PROTOCOL_LIMITS.maxPayloadBytes}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return refused(REASON_CODES.invalidJson, 'payload: not valid UTF-8 JSON');
  }
  if (jsonDeeperThan(json, PROTOCOL_LIMITS.maxJsonDepth))
    return refused(
      REASON_CODES.tooLarge,
      `payload: arrays and objects nested deeper than ${PROTOCOL_LIMITS.maxJsonDepth} levels`,
    );
  const profile = PAYLOAD_PROFILES[metadata.properties.rtsType] as z.ZodType;
  const parsed = profile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return refused(REASON_CODES.schemaInvalid, `${path(issue.path)}: ${issue.message}`);
  }
  return { ok: true, json };
}

/** The checks after base FHIR validation: its issues, then agreement with the AMQP properties. */
function concluded(json: unknown, fhirIssues: readonly FhirIssue[], metadata: MessageMetadata): PayloadResult {
  if (fhirIssues.length > 0)
    return refused(REASON_CODES.fhirInvalid, `${fhirIssues[0]!.path}: ${fhirIssues[0]!.message}`);
  const mismatch = crossCheck(json as HeaderView, metadata);
  if (mismatch) return refused(REASON_CODES.headerMismatch, mismatch);
  return { ok: true, value: json as Record<string, unknown> };
}
