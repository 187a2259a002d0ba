import { base64String } from '../../base64.ts';
import { z } from 'zod';
import { DIRECTORY_ID_PATTERN, RTS_URIS, endpointIdSchema } from '../identifiers.ts';
import { MESSAGE_TYPES as T, type MessageType } from '../message-types.ts';
import { REASON_CODE_SYSTEM } from '../reason-codes.ts';
import {
  attachment,
  caseIdentifier,
  certificateExtension,
  codeableConcept,
  date,
  dateTime,
  endpointUri,
  entryReference,
  instant,
  nonEmpty,
  practitionerReference,
  practitionerUri,
  quantity,
  sampledData,
  uuidUrn,
} from './fhir-elements.ts';

/**
 * RTS profiles of the FHIR R4 payloads, one per message type. Every payload is a Bundle of type `message` whose entries
 * stand in a fixed order: the MessageHeader first, then the resources the type requires, then the optional ones. The
 * fixed order keeps the whole profile expressible in JSON Schema (docs/schemas/) for implementers in any language.
 */
const directoryId = z.string().regex(DIRECTORY_ID_PATTERN, 'directory id: <endpoint id>.<local id>');

function entry<S extends z.ZodType>(resource: S) {
  return z.looseObject({ fullUrl: uuidUrn, resource });
}

function messageHeader(type: MessageType, extra: z.ZodRawShape = {}) {
  return z.looseObject({
    resourceType: z.literal('MessageHeader'),
    eventCoding: z.looseObject({ system: z.literal(RTS_URIS.messageTypeSystem), code: z.literal(type) }),
    source: z.looseObject({ endpoint: endpointUri }),
    ...extra,
  });
}

function messageBundle<H extends z.ZodType, R extends [z.ZodType, ...z.ZodType[]] | [], Rest extends z.ZodType | null>(
  header: H,
  required: R,
  rest: Rest,
) {
  const items = [entry(header), ...required.map((r) => entry(r))] as unknown as [z.ZodType, ...z.ZodType[]];
  return z.looseObject({
    resourceType: z.literal('Bundle'),
    type: z.literal('message'),
    /** The AMQP message_id, as urn:uuid: it binds the signed content to the message that carries it. */
    identifier: z.looseObject({ system: z.literal(RTS_URIS.uuidIdentifierSystem), value: uuidUrn }),
    timestamp: instant,
    entry: rest === null ? z.tuple(items) : z.tuple(items, entry(rest)),
  });
}

// --- directory resources -------------------------------------------------------------------------------------------

const practitioner = z.looseObject({
  resourceType: z.literal('Practitioner'),
  id: directoryId,
  active: z.boolean(),
  name: z
    .array(
      z.looseObject({ family: nonEmpty.optional(), given: z.array(nonEmpty).optional(), text: nonEmpty.optional() }),
    )
    .min(1),
  /** Languages the practitioner consults in (BCP 47 codes). */
  communication: z.array(codeableConcept).optional(),
  qualification: z.array(z.looseObject({ code: codeableConcept })).optional(),
  /** At least a signing and an encryption certificate, issued by the regional CA. */
  extension: z.array(certificateExtension).min(2),
});

const organization = z.looseObject({
  resourceType: z.literal('Organization'),
  id: directoryId,
  active: z.boolean(),
  name: nonEmpty,
  address: z
    .array(
      z.looseObject({
        city: nonEmpty.optional(),
        district: nonEmpty.optional(),
        state: nonEmpty.optional(),
        country: nonEmpty.optional(),
      }),
    )
    .optional(),
});

const practitionerRole = z.looseObject({
  resourceType: z.literal('PractitionerRole'),
  id: directoryId,
  active: z.boolean(),
  practitioner: z.looseObject({
    reference: z.string().regex(new RegExp(`^Practitioner/${DIRECTORY_ID_PATTERN.source.slice(1, -1)}$`)),
  }),
  organization: z.looseObject({
    reference: z.string().regex(new RegExp(`^Organization/${DIRECTORY_ID_PATTERN.source.slice(1, -1)}$`)),
  }),
  specialty: z.array(codeableConcept).min(1),
  /** Where consults to this role are delivered: the workstations (endpoints) the practitioner uses. */
  endpoint: z
    .array(
      z.looseObject({ identifier: z.looseObject({ system: z.literal('urn:rts:endpoint'), value: endpointIdSchema }) }),
    )
    .min(1),
});

const directoryResource = z.discriminatedUnion('resourceType', [practitioner, organization, practitionerRole]);
const directoryUrl = z
  .string()
  .regex(new RegExp(`^(Practitioner|PractitionerRole|Organization)/${DIRECTORY_ID_PATTERN.source.slice(1, -1)}$`));

/** A full list (or snapshot batch): the current entries. */
const directoryCollection = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('collection'),
  entry: z.array(z.looseObject({ resource: directoryResource })),
});

/** A delta: PUT creates or replaces an entry, DELETE retires it. */
const directoryTransaction = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.literal('transaction'),
  entry: z
    .array(
      z.union([
        z.looseObject({
          resource: directoryResource,
          request: z.looseObject({ method: z.literal('PUT'), url: directoryUrl }),
        }),
        z.looseObject({ request: z.looseObject({ method: z.literal('DELETE'), url: directoryUrl }) }),
      ]),
    )
    .min(1),
});

const endpointResource = z.looseObject({
  resourceType: z.literal('Endpoint'),
  id: endpointIdSchema,
  status: z.literal('active'),
  connectionType: z.looseObject({
    system: z.literal(RTS_URIS.endpointKindSystem),
    code: z.enum(['workstation', 'clinic-system']),
  }),
  name: nonEmpty,
  address: endpointUri,
  payloadType: z.array(codeableConcept).min(1),
  managingOrganization: entryReference,
});

const registeringOrganization = z.looseObject({
  resourceType: z.literal('Organization'),
  name: nonEmpty,
  active: z.boolean().optional(),
});

const parameters = z.looseObject({
  resourceType: z.literal('Parameters'),
  parameter: z.array(z.looseObject({ name: nonEmpty })).optional(),
});

/** A hub notice: its kind and text, and on `crl-updated` the region CA's CRL (base64 DER). */
const noticeParameters = z.looseObject({
  resourceType: z.literal('Parameters'),
  parameter: z
    .array(
      z.union([
        z.looseObject({ name: z.literal('notice'), valueCode: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/) }),
        z.looseObject({ name: z.literal('text'), valueString: z.string().max(4000) }),
        z.looseObject({
          name: z.literal('crl'),
          valueBase64Binary: base64String('base64 DER', { nonEmpty: true }),
        }),
      ]),
    )
    .min(2),
});

// --- consult resources ---------------------------------------------------------------------------------------------

const patient = z.looseObject({
  resourceType: z.literal('Patient'),
  name: z
    .array(
      z.looseObject({ family: nonEmpty.optional(), given: z.array(nonEmpty).optional(), text: nonEmpty.optional() }),
    )
    .min(1),
  gender: z.enum(['male', 'female', 'other', 'unknown']),
  birthDate: date,
});

const serviceRequest = z.looseObject({
  resourceType: z.literal('ServiceRequest'),
  identifier: z.tuple([caseIdentifier]),
  status: z.literal('active'),
  intent: z.literal('order'),
  priority: z.enum(['routine', 'urgent', 'asap', 'stat']),
  code: codeableConcept,
  subject: entryReference,
  authoredOn: dateTime,
  requester: practitionerReference,
  performer: z.tuple([practitionerReference]),
  reasonCode: z.array(codeableConcept).min(1),
  supportingInfo: z.array(entryReference).optional(),
});

const taskFor = (statuses: readonly string[]) =>
  z.looseObject({
    resourceType: z.literal('Task'),
    identifier: z.tuple([caseIdentifier]),
    status: z.enum(statuses as [string, ...string[]]),
    businessStatus: z.looseObject({
      coding: z.tuple([z.looseObject({ system: z.literal(RTS_URIS.consultStatusSystem), code: nonEmpty })]),
    }),
    intent: z.literal('order'),
    authoredOn: dateTime.optional(),
    lastModified: dateTime,
    requester: practitionerReference.optional(),
    owner: practitionerReference.optional(),
  });

const observation = z.looseObject({
  resourceType: z.literal('Observation'),
  status: z.enum(['final', 'preliminary', 'amended']),
  category: z.array(codeableConcept).optional(),
  code: codeableConcept,
  subject: entryReference,
  effectiveDateTime: dateTime,
  valueQuantity: quantity.optional(),
  valueSampledData: sampledData.optional(),
  valueString: nonEmpty.optional(),
  component: z
    .array(
      z.looseObject({
        code: codeableConcept,
        valueQuantity: quantity.optional(),
        valueSampledData: sampledData.optional(),
      }),
    )
    .optional(),
});

const documentReferenceShape = {
  resourceType: z.literal('DocumentReference'),
  status: z.literal('current'),
  date: instant.optional(),
  description: nonEmpty.optional(),
  content: z.array(z.looseObject({ attachment })).min(1),
};
const documentReference = z.looseObject({ ...documentReferenceShape, subject: entryReference });
/** Files sent later in a case (information provided) need no Patient entry. */
const followUpDocument = z.looseObject(documentReferenceShape);

const communication = z.looseObject({
  resourceType: z.literal('Communication'),
  status: z.literal('completed'),
  sent: dateTime,
  payload: z.array(z.looseObject({ contentString: nonEmpty })).min(1),
});

const diagnosticReport = z.looseObject({
  resourceType: z.literal('DiagnosticReport'),
  status: z.enum(['final', 'amended', 'corrected']),
  basedOn: z.tuple([z.looseObject({ identifier: caseIdentifier })]),
  code: codeableConcept,
  subject: entryReference,
  issued: instant,
  performer: z.tuple([practitionerReference]),
  conclusion: nonEmpty,
  conclusionCode: z.array(codeableConcept).optional(),
  result: z.array(entryReference).optional(),
});

const medicationRequest = z.looseObject({
  resourceType: z.literal('MedicationRequest'),
  status: z.literal('active'),
  intent: z.literal('order'),
  medicationCodeableConcept: codeableConcept,
  subject: entryReference,
  authoredOn: dateTime,
  requester: practitionerReference,
  dosageInstruction: z.tuple([
    z.looseObject({
      text: nonEmpty.optional(),
      timing: z.looseObject({
        repeat: z.looseObject({
          frequency: z.number().int().min(1),
          period: z.number().positive(),
          periodUnit: z.enum(['h', 'd', 'wk', 'mo']),
        }),
      }),
      route: codeableConcept.optional(),
      doseAndRate: z.tuple([z.looseObject({ doseQuantity: quantity })]),
    }),
  ]),
});

const outcomeIssue = (details: z.ZodType) =>
  z.looseObject({
    severity: z.enum(['fatal', 'error', 'warning', 'information']),
    code: nonEmpty,
    details,
    diagnostics: nonEmpty.optional(),
  });

/**
 * A receipt's outcome. The first issue is coded: a reason code (system urn:rts:reason-code) when rejected, otherwise
 * the outcome (urn:rts:receipt-outcome, `delivered` or `processed`). Signed, it must agree with rtsReceipt and rtsReason.
 */
const receiptOutcome = z.looseObject({
  resourceType: z.literal('OperationOutcome'),
  issue: z.tuple(
    [
      outcomeIssue(
        z.looseObject({
          coding: z.tuple([
            z.union([
              z.looseObject({ system: z.literal(REASON_CODE_SYSTEM), code: nonEmpty }),
              z.looseObject({
                system: z.literal(RTS_URIS.receiptOutcomeSystem),
                code: z.enum(['delivered', 'processed']),
              }),
            ]),
          ]),
          text: nonEmpty.optional(),
        }),
      ),
    ],
    outcomeIssue(
      z
        .looseObject({
          coding: z.array(z.looseObject({ system: z.literal(REASON_CODE_SYSTEM), code: nonEmpty })).optional(),
          text: nonEmpty.optional(),
        })
        .optional(),
    ),
  ),
});

// --- message headers -----------------------------------------------------------------------------------------------

const toHub = { destination: z.tuple([z.looseObject({ endpoint: z.literal('urn:rts:hub') })]) };
const toEndpoint = { destination: z.tuple([z.looseObject({ endpoint: endpointUri })]) };
/** rtsSequence inside the signed payload, so that it can be checked against the clear-text property. */
const sequenceExtension = z.strictObject({
  url: z.literal(RTS_URIS.sequenceExtension),
  valuePositiveInt: z.number().int().min(1).max(2_147_483_647),
});

const consultHeader = (type: MessageType) =>
  messageHeader(type, {
    extension: z.tuple([sequenceExtension]),
    sender: practitionerReference,
    // A chosen endpoint of the expert, or urn:rts:practitioner:<id> for all of them.
    destination: z.tuple([
      z.looseObject({ endpoint: z.union([endpointUri, practitionerUri]), receiver: practitionerReference }),
    ]),
    focus: z.array(entryReference).min(1),
  });

export const PAYLOAD_PROFILES = {
  [T.endpointRegister]: messageBundle(
    messageHeader(T.endpointRegister, { ...toHub, focus: z.tuple([entryReference]) }),
    [endpointResource, registeringOrganization],
    null,
  ),
  [T.directoryPublish]: messageBundle(
    messageHeader(T.directoryPublish, { ...toHub, focus: z.tuple([entryReference]) }),
    [z.union([directoryCollection, directoryTransaction])],
    null,
  ),
  [T.directorySnapshotRequest]: messageBundle(
    messageHeader(T.directorySnapshotRequest, { ...toHub, focus: z.tuple([entryReference]) }),
    [parameters],
    null,
  ),
  [T.directoryUpdate]: messageBundle(
    messageHeader(T.directoryUpdate, { focus: z.tuple([entryReference]) }),
    [directoryTransaction],
    null,
  ),
  [T.directorySnapshot]: messageBundle(
    messageHeader(T.directorySnapshot, { ...toEndpoint, focus: z.tuple([entryReference]) }),
    [directoryCollection],
    null,
  ),
  [T.consultRequest]: messageBundle(
    consultHeader(T.consultRequest),
    [serviceRequest, taskFor(['requested']), patient],
    z.union([observation, documentReference]),
  ),
  [T.consultStatus]: messageBundle(
    consultHeader(T.consultStatus),
    [taskFor(['accepted', 'rejected', 'on-hold', 'in-progress', 'cancelled', 'completed'])],
    z.union([followUpDocument, communication]),
  ),
  [T.consultReport]: messageBundle(
    consultHeader(T.consultReport),
    [diagnosticReport, taskFor(['completed']), patient],
    z.union([medicationRequest, observation]),
  ),
  [T.receipt]: messageBundle(
    messageHeader(T.receipt, {
      ...toEndpoint,
      response: z.looseObject({
        identifier: z.string().regex(/^[0-9a-f-]{36}$/),
        code: z.enum(['ok', 'transient-error', 'fatal-error']),
        details: entryReference.optional(),
      }),
    }),
    [receiptOutcome],
    null,
  ),
  [T.hubNotice]: messageBundle(
    messageHeader(T.hubNotice, { focus: z.tuple([entryReference]) }),
    [noticeParameters],
    null,
  ),
} as const satisfies Record<MessageType, z.ZodType>;
