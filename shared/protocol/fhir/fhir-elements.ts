import { base64String } from '../../base64.ts';
import { z } from 'zod';
import {
  DIRECTORY_ID_PATTERN,
  ENDPOINT_URI_PATTERN,
  PRACTITIONER_URI_PATTERN,
  RTS_URIS,
  UUID_PATTERN,
} from '../identifiers.ts';

/**
 * The FHIR R4 data types the RTS profiles constrain. Objects are loose: elements the profile does not mention may be
 * present (base FHIR R4 validation checks them); elements it mentions must have the form given here.
 */
const FHIR_DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
const FHIR_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const FHIR_DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

export const dateTime = z.string().regex(FHIR_DATE_TIME, 'FHIR dateTime');
export const instant = z.string().regex(FHIR_INSTANT, 'FHIR instant (with time zone)');
export const date = z.string().regex(FHIR_DATE, 'FHIR date');
export const nonEmpty = z.string().min(1);
export const uuidUrn = z
  .string()
  .regex(new RegExp(`^urn:uuid:${UUID_PATTERN.source.slice(1, -1)}$`), 'urn:uuid:<lower-case UUID>');

export const coding = z.looseObject({
  system: nonEmpty.optional(),
  code: nonEmpty.optional(),
  display: nonEmpty.optional(),
});
/** Coded, or at least described in words. */
export const codeableConcept = z.union([
  z.looseObject({ coding: z.array(coding).min(1), text: nonEmpty.optional() }),
  z.looseObject({ text: nonEmpty }),
]);
export const quantity = z.looseObject({
  value: z.number(),
  unit: nonEmpty.optional(),
  system: nonEmpty.optional(),
  code: nonEmpty.optional(),
});

/** A reference to another entry of the same Bundle, by its fullUrl. */
export const entryReference = z.looseObject({ reference: uuidUrn });

/** A practitioner known from the directory, referenced by its directory id. */
export const practitionerReference = z.looseObject({
  identifier: z.looseObject({
    system: z.literal(RTS_URIS.practitionerSystem),
    value: z.string().regex(DIRECTORY_ID_PATTERN),
  }),
});

export const caseIdentifier = z.looseObject({
  system: z.literal(RTS_URIS.caseSystem),
  value: z.string().regex(UUID_PATTERN),
});
export const endpointUri = z.string().regex(ENDPOINT_URI_PATTERN, 'urn:rts:endpoint:<endpoint id>');
export const practitionerUri = z.string().regex(PRACTITIONER_URI_PATTERN, 'urn:rts:practitioner:<directory id>');

export const sampledData = z.looseObject({
  origin: quantity,
  /** Milliseconds between samples. */
  period: z.number().positive(),
  dimensions: z.number().int().min(1),
  factor: z.number().optional(),
  data: z.string().regex(/^(?:-?\d+(?:\.\d+)?|E|U|L)(?: (?:-?\d+(?:\.\d+)?|E|U|L))*$/, 'space-separated decimals'),
});

export const attachment = z.looseObject({
  contentType: nonEmpty,
  /** Inline, base64: the envelope is the only channel for patient files. */
  data: base64String('base64'),
  title: nonEmpty.optional(),
  size: z.number().int().min(0).optional(),
  creation: dateTime.optional(),
});

/**
 * Exactly this form, nothing more: the profile checks the whole extension, so base FHIR validation may skip it (it
 * was most of the cost of validating a directory entry; see payload-validator.ts).
 */
export const certificateExtension = z.strictObject({
  url: z.literal(RTS_URIS.certificateExtension),
  extension: z.tuple([
    z.strictObject({ url: z.literal('use'), valueCode: z.enum(['signing', 'encryption']) }),
    z.strictObject({
      url: z.literal('certificate'),
      valueBase64Binary: base64String('base64 DER', { nonEmpty: true }),
    }),
  ]),
});
