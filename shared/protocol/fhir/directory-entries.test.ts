import type { Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  languagesOf,
  organizationOf,
  practitionerName,
  readDirectoryEntry,
  readOrganization,
  specialtiesOf,
} from './directory-entries.ts';
import { buildExpertEntry, buildOrganization } from './message-builders.ts';

/** The one reader of directory entries that the workstation, the connector and the hub show and search (§5.1). */
const practitioner = (name: Practitioner['name'], communication?: Practitioner['communication']): Practitioner => ({
  resourceType: 'Practitioner',
  id: 'clinic-a.dr-ahmed',
  name,
  ...(communication && { communication }),
});

describe('practitionerName', () => {
  it('reads prefix, given names, family and suffix in that order', () => {
    expect(
      practitionerName(practitioner([{ prefix: ['Dr'], given: ['Layla', 'M'], family: 'Ahmed', suffix: ['PhD'] }])),
    ).toBe('Dr Layla M Ahmed PhD');
    expect(practitionerName(practitioner([{ family: 'Ahmed' }]))).toBe('Ahmed');
    expect(practitionerName(practitioner([{ given: ['Layla'] }]))).toBe('Layla');
    expect(practitionerName(practitioner([{ prefix: ['Dr.'], given: ['伟明'], family: '张' }]))).toBe('Dr. 张伟明');
  });

  it('shows a name given only as text as sent, and the parts when there are both', () => {
    expect(practitionerName(practitioner([{ text: 'Prof. L. Ahmed' }]))).toBe('Prof. L. Ahmed');
    expect(practitionerName(practitioner([{ text: 'Prof. L. Ahmed', given: ['Layla'], family: 'Ahmed' }]))).toBe(
      'Layla Ahmed',
    );
  });

  it('joins several names and leaves out empty ones', () => {
    expect(practitionerName(practitioner([{ given: ['Layla'], family: 'Ahmed' }, {}, { text: 'Layla Haddad' }]))).toBe(
      'Layla Ahmed, Layla Haddad',
    );
  });

  it('is undefined without a name', () => {
    expect(practitionerName(practitioner(undefined))).toBeUndefined();
    expect(practitionerName(practitioner([{}, { given: [] }]))).toBeUndefined();
    expect(practitionerName(undefined)).toBeUndefined();
  });
});

describe('specialtiesOf', () => {
  it('reads each specialty by its text, else by its codings', () => {
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      specialty: [
        {
          text: 'Cardiology',
          coding: [{ system: 'http://snomed.info/sct', code: '394579002', display: 'Cardiology (qualifier value)' }],
        },
        {
          coding: [
            { code: '394537008', display: 'Paediatrics' },
            { code: 'x', display: 'Child health' },
          ],
        },
        { coding: [{ code: '394591006' }] },
        {},
      ],
    };
    expect(specialtiesOf(role)).toEqual(['Cardiology', 'Paediatrics, Child health', '394591006']);
    expect(specialtiesOf({})).toEqual([]);
  });
});

describe('languagesOf', () => {
  it('reads one BCP 47 code per language, falling back to the first code when the system is missing', () => {
    const languages = practitioner(undefined, [
      {
        coding: [
          { system: 'urn:other', code: 'english' },
          { system: 'urn:ietf:bcp:47', code: 'en' },
        ],
      },
      { coding: [{ code: 'nb' }] },
      { coding: [{ system: 'urn:ietf:bcp:47' }] },
      { text: 'Arabic' },
    ]);
    expect(languagesOf(languages)).toEqual(['en', 'nb']);
    expect(languagesOf(undefined)).toEqual([]);
  });
});

describe('organizationOf and readOrganization', () => {
  it('names only an Organization reference', () => {
    expect(organizationOf({ organization: { reference: 'Organization/clinic-a.riverside' } })).toBe(
      'clinic-a.riverside',
    );
    expect(organizationOf({ organization: { reference: 'Location/clinic-a.riverside' } })).toBeUndefined();
    expect(organizationOf({})).toBeUndefined();
  });

  it('reads the hospital name and place, and nothing from another resource type', () => {
    const organization: Organization = buildOrganization({
      id: 'clinic-a.riverside',
      name: 'Riverside Hospital',
      city: 'Bergen',
      country: 'NO',
    });
    expect(readOrganization(organization)).toEqual({
      name: 'Riverside Hospital',
      city: 'Bergen',
      place: ['Bergen', 'NO'],
    });
    expect(
      readOrganization({ resourceType: 'Organization', address: [{ district: 'Vest', state: 'Vestland' }] }),
    ).toEqual({ district: 'Vest', state: 'Vestland', place: ['Vest', 'Vestland'] });
    expect(readOrganization({ resourceType: 'Practitioner', name: 'not a hospital' })).toEqual({ place: [] });
    expect(readOrganization(undefined)).toEqual({ place: [] });
  });
});

describe('readDirectoryEntry', () => {
  it('reads what buildExpertEntry writes', () => {
    const [p, role] = buildExpertEntry({
      practitionerId: 'clinic-a.dr-ahmed',
      prefix: 'Dr',
      given: ['Layla'],
      family: 'Ahmed',
      languages: ['en', 'ar'],
      specialties: [
        { text: 'Cardiology', system: 'http://snomed.info/sct', code: '394579002' },
        { text: 'Echocardiography' },
      ],
      organizationId: 'clinic-a.riverside',
      endpoints: ['clinic-a', 'ws-ahmed'],
      signingCertificate: 'AA==',
      encryptionCertificate: 'AQ==',
    });
    expect(readDirectoryEntry(p, role)).toEqual({
      name: 'Dr Layla Ahmed',
      specialties: ['Cardiology', 'Echocardiography'],
      languages: ['en', 'ar'],
      endpoints: ['clinic-a', 'ws-ahmed'],
      organizationId: 'clinic-a.riverside',
    });
  });

  it('leaves out what the entry does not carry', () => {
    expect(readDirectoryEntry(undefined, undefined)).toEqual({ specialties: [], languages: [], endpoints: [] });
  });
});
