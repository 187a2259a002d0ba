import { z } from 'zod';
import { ENDPOINT_ID_PATTERN } from './endpoint-id.ts';

/**
 * A practitioner (and every other directory resource) is identified as `<publishing endpoint id>.<local id>`: globally
 * unique without coordination, a valid FHIR id (≤ 64 characters), and it shows which clinic may publish it.
 */
export const DIRECTORY_ID_PATTERN =
  /^(?=.{3,64}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/** Lower-case RFC 4122 UUID: message ids, case ids, batch ids. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const endpointIdSchema = z.string().regex(ENDPOINT_ID_PATTERN, 'endpoint id: 1-63 of a-z, 0-9, -');
export const directoryIdSchema = z.string().regex(DIRECTORY_ID_PATTERN, 'directory id: <endpoint id>.<local id>');
export const uuidSchema = z.string().regex(UUID_PATTERN, 'lower-case UUID');

/** URI forms used inside FHIR payloads. */
export const RTS_URIS = {
  endpoint: (endpointId: string) => `urn:rts:endpoint:${endpointId}`,
  /** A destination meaning "every endpoint of this practitioner" (the hub resolves it from the directory). */
  practitionerAddress: (practitionerId: string) => `urn:rts:practitioner:${practitionerId}`,
  messageTypeSystem: 'urn:rts:message-type',
  practitionerSystem: 'urn:rts:practitioner',
  caseSystem: 'urn:rts:case',
  consultStatusSystem: 'urn:rts:consult-status',
  endpointKindSystem: 'urn:rts:endpoint-kind',
  noticeSystem: 'urn:rts:notice',
  certificateExtension: 'urn:rts:fhir:extension:certificate',
  /** On a consult MessageHeader: the signed copy of rtsSequence. */
  sequenceExtension: 'urn:rts:fhir:extension:sequence',
  /** A receipt's outcome (delivered, processed), coded in its OperationOutcome; rejections carry reason codes instead. */
  receiptOutcomeSystem: 'urn:rts:receipt-outcome',
  uuidIdentifierSystem: 'urn:ietf:rfc:3986',
} as const;

export const ENDPOINT_URI_PATTERN = new RegExp(`^urn:rts:endpoint:${ENDPOINT_ID_PATTERN.source.slice(1, -1)}$`);
export const PRACTITIONER_URI_PATTERN = new RegExp(
  `^urn:rts:practitioner:${DIRECTORY_ID_PATTERN.source.slice(1, -1)}$`,
);
