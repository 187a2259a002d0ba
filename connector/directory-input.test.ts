import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRegion, type TestPractitioner } from '../testkit/index.ts';
import { toBase64 } from '../shared/pki/index.ts';
import {
  certificatesOf,
  endpointsOf,
  roleReferenceProblem,
  validateFhirResource,
  buildDirectoryPublish,
  buildExpertEntry,
  buildOrganization,
  PAYLOAD_PROFILES,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { MESSAGE_TYPES } from '../shared/protocol/index.ts';
import {
  EXPERT_CSV_COLUMNS,
  readDirectoryBundle,
  readDirectoryDelta,
  readExpertCsv,
  type DirectoryInputContext,
  type DirectoryInputProblem,
} from './directory-input.ts';

/** The connector's readers of a clinic's expert list (issue 18): CSV, FHIR Bundle, delta. */
let dir: string;
let ahmed: TestPractitioner;
let berg: TestPractitioner;
let unheld: TestPractitioner;
let context: DirectoryInputContext;
const cert = (p: TestPractitioner, use: 'signing' | 'encryption') => toBase64(p[use].certificate);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-connector-input-'));
  const region = await createTestRegion(join(dir, 'region'));
  ahmed = await region.practitioner('clinic-x.dr-ahmed');
  berg = await region.practitioner('clinic-x.dr-berg');
  unheld = await region.practitioner('clinic-x.dr-new');
  const held = new Map(
    [ahmed, berg].map((p) => [p.id, { signing: cert(p, 'signing'), encryption: cert(p, 'encryption') }]),
  );
  context = { clinicId: 'clinic-x', endpointId: 'clinic-x', certificatesOf: (id) => held.get(id) };
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the hub checks of a full list: the directory.publish profile, base FHIR, role references. */
function expectAcceptedByHub(resources: DirectoryResource[]): void {
  const payload = buildDirectoryPublish(
    { messageId: crypto.randomUUID(), timestamp: new Date(), sender: 'clinic-x' },
    { full: resources },
  );
  expect(PAYLOAD_PROFILES[MESSAGE_TYPES.directoryPublish].safeParse(payload).error?.issues).toBeUndefined();
  expect(validateFhirResource(payload)).toEqual([]);
  for (const role of resources.filter((r): r is PractitionerRole => r.resourceType === 'PractitionerRole'))
    expect(roleReferenceProblem(role)).toBeUndefined();
}

const HEADER =
  'local_id,prefix,given,family,specialties,languages,organization_id,organization_name,city,country,endpoints';
const problemsOf = (result: { ok: boolean; problems?: DirectoryInputProblem[] }) => (result.ok ? [] : result.problems!);

describe('expert CSV', () => {
  it('documents every column it reads', () => {
    expect(Object.keys(EXPERT_CSV_COLUMNS)).toEqual(expect.arrayContaining(HEADER.split(',')));
    for (const description of Object.values(EXPERT_CSV_COLUMNS)) expect(description.length).toBeGreaterThan(10);
  });

  it("reads a list into directory entries the hub accepts, with the connector's certificates and endpoint by default", () => {
    const csv = [
      HEADER,
      'dr-ahmed,Dr,Layla Noor,Ahmed,Cardiology; Internal medicine,en;ar,rh,Riverside Hospital,Oslo,no,',
      '',
      `dr-berg,,Per,Berg,"Dermatology, paediatric",nb-NO,rh,,,,clinic-x;ws-berg`,
    ].join('\r\n');
    const result = readExpertCsv(csv, context);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result).toMatchObject({ experts: 2, organizations: 1 });
    expectAcceptedByHub(result.resources);
    const [organization, practitioner, role, , bergRole] = result.resources as [
      DirectoryResource,
      Practitioner,
      PractitionerRole,
      Practitioner,
      PractitionerRole,
    ];
    expect(organization).toEqual(
      buildOrganization({ id: 'clinic-x.rh', name: 'Riverside Hospital', city: 'Oslo', country: 'NO' }),
    );
    expect(practitioner).toMatchObject({
      id: 'clinic-x.dr-ahmed',
      name: [{ family: 'Ahmed', given: ['Layla', 'Noor'], prefix: ['Dr'] }],
    });
    expect(practitioner.communication?.map((c) => c.coding?.[0]?.code)).toEqual(['en', 'ar']);
    expect(certificatesOf(practitioner)).toEqual({
      signing: [cert(ahmed, 'signing')],
      encryption: [cert(ahmed, 'encryption')],
    });
    expect(role.specialty?.map((s) => s.text)).toEqual(['Cardiology', 'Internal medicine']);
    expect(role.organization?.reference).toBe('Organization/clinic-x.rh');
    expect(endpointsOf(role)).toEqual(['clinic-x']);
    expect(endpointsOf(bergRole)).toEqual(['clinic-x', 'ws-berg']);
    expect(bergRole.specialty?.map((s) => s.text)).toEqual(['Dermatology, paediatric']);
  });

  it('takes certificates from the columns, a UTF-8 BOM, and any column order', () => {
    const csv = `\uFEFFsigning_certificate,encryption_certificate,family,given,local_id,specialties,organization_id,organization_name\n${cert(unheld, 'signing')},${cert(unheld, 'encryption')},Ås,Øyvind,dr-new,Surgery,rh,Riverside\n`;
    const result = readExpertCsv(csv, context);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const practitioner = result.resources[1] as Practitioner;
    expect(practitioner.name).toEqual([{ family: 'Ås', given: ['Øyvind'] }]);
    expect(certificatesOf(practitioner).signing).toEqual([cert(unheld, 'signing')]);
    expectAcceptedByHub(result.resources);
  });

  it('reports every bad row with its line and column, and returns nothing', () => {
    const csv = [
      HEADER, //                                                                           line 1
      'dr-ahmed,,,Ahmed,Cardiology,en,rh,Riverside,Oslo,NO,', //                            2: no given
      'dr berg,,Per,Berg,Cardiology,english,rh,Other name,,Norway,bad_endpoint', //          3: id, language, org name, country, endpoint
      'dr-ahmed,,Layla,Ahmed,Cardiology,,rh,,,,', //                                        4: duplicate of 2 (whose row failed too)
      'dr-new,,Nils,Ny,Surgery,,new-org,,,,', //                                            5: no certificates held; organization without a name
      'dr-x,,Too,Few,Surgery', //                                                           6: wrong number of values
      ',,Anon,Ymous,,,,,,,', //                                                             7: no local_id, specialties, organization_id
    ].join('\n');
    const problems = problemsOf(readExpertCsv(csv, context));
    const at = (line: number, field?: string) =>
      problems.filter((p) => p.line === line && p.field === field).map((p) => p.detail);
    expect(at(2, 'given')).toEqual(['given is required']);
    expect(at(3, 'local_id')[0]).toMatch(/letters, digits and -/);
    expect(at(3, 'languages')[0]).toMatch(/"english" is not a BCP 47 code/);
    expect(at(3, 'organization_name')[0]).toMatch(/"Riverside" on line 2/);
    expect(at(3, 'country')[0]).toMatch(/ISO 3166/);
    expect(at(3, 'endpoints')[0]).toMatch(/"bad_endpoint" is not an endpoint id/);
    expect(at(4, 'local_id')).toEqual(['local_id dr-ahmed is on line 2 too']);
    expect(at(5, 'signing_certificate')).toEqual([
      "no certificates for clinic-x.dr-new: configure the practitioner's .p12 files in the connector, or give both certificate columns",
    ]);
    expect(at(5, 'organization_name')[0]).toMatch(/required on the first row of organization_id new-org/);
    expect(at(6)[0]).toMatch(/5 values, but the header names 11 columns/);
    expect(at(7, 'local_id')).toEqual(['local_id is required']);
    expect(at(7, 'specialties')).toHaveLength(1);
    expect(at(7, 'organization_id')).toHaveLength(1);
  });

  it("refuses certificates that are not the expert's, or only one of the two", () => {
    const header =
      'local_id,given,family,specialties,organization_id,organization_name,signing_certificate,encryption_certificate';
    const csv = [
      header,
      `dr-new,Nils,Ny,Surgery,rh,Riverside,${cert(berg, 'signing')},${cert(unheld, 'encryption')}`,
      `dr-ahmed,Layla,Ahmed,Surgery,rh,,${cert(ahmed, 'signing')},`,
      `dr-berg,Per,Berg,Surgery,rh,,not*base64,${cert(berg, 'signing')}`,
    ].join('\n');
    const problems = problemsOf(readExpertCsv(csv, context));
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          line: 2,
          field: 'signing_certificate',
          detail: expect.stringMatching(/issued to "clinic-x.dr-berg", not to the directory id clinic-x.dr-new/),
        },
        { line: 3, field: 'encryption_certificate', detail: expect.stringMatching(/give both/) },
        { line: 4, field: 'signing_certificate', detail: 'the signing certificate is not base64 DER' },
        { line: 4, field: 'encryption_certificate', detail: expect.stringMatching(/encryption certificate lacks/) },
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('gives the start line of rows after, and of, a value that spans lines', () => {
    const csv = [
      HEADER,
      'dr-ahmed,,Layla,Ahmed,"Cardiology;', //                      line 2, continues to 4
      'Internal medicine;',
      'Nephrology",en,rh,Riverside,,,',
      'dr-berg,,Per,Berg,Cardiology,EN-gb,rh,,,,', //               line 5: bad language
      '"dr', //                                                     line 6: bad local_id spanning lines 6-7
      'x",,A,B,C,,rh,,,,',
    ].join('\r\n');
    const problems = problemsOf(readExpertCsv(csv, context));
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [5, 'languages'],
      [6, 'local_id'],
    ]);
  });

  it("counts a quoted line end that differs from the file's as a line too", () => {
    const csv = `${HEADER}\r\ndr-ahmed,,Layla,Ahmed,"Cardiology;\nNephrology",en,rh,Riverside,,,\r\ndr-berg,,,Berg,Cardiology,,rh,,,,\r\n`;
    expect(problemsOf(readExpertCsv(csv, context))).toEqual([{ line: 4, field: 'given', detail: 'given is required' }]);
  });

  it('reports a broken quote at the row it starts, with the problems of the rows before it', () => {
    const csv = [
      HEADER,
      'dr-ahmed,,,Ahmed,Cardiology,en,rh,Riverside,,,',
      '',
      'dr-berg,,Per,Berg,"Cardiology,en,rh,,,,',
      'dr-x,,A,B,C,,rh,,,,',
    ].join('\n');
    expect(problemsOf(readExpertCsv(csv, context))).toEqual([
      { line: 2, field: 'given', detail: 'given is required' },
      { line: 4, detail: 'a quoted value that starts on this row is never closed; rows after it were not read' },
    ]);
    const stray = problemsOf(readExpertCsv(`${HEADER}\ndr-berg,,Per,Berg,"Cardiology"x,en,rh,R,,,`, context));
    expect(stray).toEqual([{ line: 2, detail: expect.stringMatching(/closing quote must be followed by a comma/) }]);
  });

  it('checks the header: unknown, repeated and missing columns, or no header at all', () => {
    const problems = problemsOf(
      readExpertCsv('local_id,given,famly,specialties,organization_id,given\nx,y,z,s,o,y', context),
    );
    expect(problems).toEqual([
      {
        line: 1,
        field: 'famly',
        detail: expect.stringMatching(/^unknown column "famly"; the columns are local_id, prefix, given, family/),
      },
      { line: 1, field: 'given', detail: 'column given appears twice' },
      { line: 1, field: 'family', detail: 'column family is required' },
    ]);
    expect(problemsOf(readExpertCsv('\uFEFF\r\n\r\n', context))).toEqual([
      { line: 1, detail: expect.stringMatching(/the file is empty/) },
    ]);
  });
});

/** A clinic's list as FHIR: two experts at one hospital, built the way the protocol's builders do. */
function clinicBundle(): {
  resourceType: 'Bundle';
  type: string;
  entry: { resource: Record<string, unknown>; request?: unknown }[];
} {
  const [practitioner, role] = buildExpertEntry({
    practitionerId: 'clinic-x.dr-ahmed',
    family: 'Ahmed',
    given: ['Layla'],
    languages: ['en'],
    specialties: [{ text: 'Cardiology' }],
    organizationId: 'clinic-x.rh',
    endpoints: ['ws-ahmed'],
    signingCertificate: cert(ahmed, 'signing'),
    encryptionCertificate: cert(ahmed, 'encryption'),
  });
  // Berg as another system would send him: no certificates, no endpoint, no active flag.
  const bergPractitioner = {
    resourceType: 'Practitioner',
    id: 'clinic-x.dr-berg',
    name: [{ family: 'Berg', given: ['Per'] }],
  };
  const bergRole = {
    resourceType: 'PractitionerRole',
    id: 'clinic-x.dr-berg',
    practitioner: { reference: 'Practitioner/clinic-x.dr-berg' },
    organization: { reference: 'Organization/clinic-x.rh' },
    specialty: [{ text: 'Dermatology' }],
  };
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      buildOrganization({ id: 'clinic-x.rh', name: 'Riverside' }),
      practitioner,
      role,
      bergPractitioner,
      bergRole,
    ].map((resource) => ({ resource: resource as Record<string, unknown> })),
  };
}

describe('directory Bundle', () => {
  it("takes a clinic's resources, adding the held certificates, the connector's endpoint and active where missing", () => {
    const bundle = clinicBundle();
    const result = readDirectoryBundle(bundle, context);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result).toMatchObject({ experts: 2, organizations: 1 });
    expectAcceptedByHub(result.resources);
    const [, ahmedPractitioner, ahmedRole, bergPractitioner, bergRole] = result.resources as [
      DirectoryResource,
      Practitioner,
      PractitionerRole,
      Practitioner,
      PractitionerRole,
    ];
    expect(ahmedPractitioner).toEqual(bundle.entry[1]!.resource);
    expect(endpointsOf(ahmedRole)).toEqual(['ws-ahmed']);
    expect(certificatesOf(bergPractitioner)).toEqual({
      signing: [cert(berg, 'signing')],
      encryption: [cert(berg, 'encryption')],
    });
    expect(bergPractitioner.extension).toEqual(
      buildExpertEntry({
        practitionerId: 'clinic-x.dr-berg',
        family: 'Berg',
        given: ['Per'],
        languages: [],
        specialties: [],
        organizationId: 'clinic-x.rh',
        endpoints: [],
        signingCertificate: cert(berg, 'signing'),
        encryptionCertificate: cert(berg, 'encryption'),
      })[0].extension,
    );
    expect(bergPractitioner.active).toBe(true);
    expect(endpointsOf(bergRole)).toEqual(['clinic-x']);
    expect(bundle.entry[3]!.resource).not.toHaveProperty('extension');
    const transaction = {
      ...bundle,
      type: 'transaction',
      entry: bundle.entry.map((e) => ({
        ...e,
        request: { method: 'PUT', url: `${String(e.resource.resourceType)}/${String(e.resource.id)}` },
      })),
    };
    expect(readDirectoryBundle(transaction, context).ok).toBe(true);
  });

  it('reports each bad entry by JSON pointer', () => {
    const bundle = clinicBundle();
    const entries = bundle.entry;
    entries[0]!.resource = { ...entries[0]!.resource, id: 'clinic-y.rh' }; //                 another clinic's namespace
    entries[3]!.resource = { ...entries[3]!.resource, name: [{ family: 7, given: ['Per'] }] }; // base FHIR: a number for a string
    entries.push({ resource: { resourceType: 'Patient', id: 'clinic-x.p1' } });
    entries.push({ resource: { resourceType: 'Practitioner', id: 'clinic-x.dr-lone', name: [{ family: 'Lone' }] } });
    entries.push({ resource: entries[1]!.resource });
    entries.push(
      { resource: { ...entries[1]!.resource, id: 'clinic-x.dr-new' } },
      { resource: entries[2]!.resource, request: { method: 'DELETE', url: 'x' } },
    );
    const problems = problemsOf(readDirectoryBundle({ ...bundle, type: 'document' }, context));
    const byPointer = new Map(problems.map((p) => [p.pointer, p.detail]));
    expect(byPointer.get('/type')).toMatch(/collection, transaction or batch/);
    expect(byPointer.get('/entry/0/resource/id')).toMatch(/directory id of this clinic: clinic-x\.<local id>/);
    expect(byPointer.get('/entry/2/resource/organization/reference')).toMatch(/an Organization in this Bundle/);
    expect(byPointer.get('/entry/3/resource/name/0/family')).toMatch(/expected string/);
    expect(byPointer.get('/entry/5/resource/resourceType')).toMatch(/Patient is not a directory resource/);
    expect(byPointer.get('/entry/6/resource/id')).toBe(
      'Practitioner/clinic-x.dr-lone has no PractitionerRole of the same id',
    );
    expect(byPointer.get('/entry/6/resource/extension')).toMatch(/no certificates for clinic-x.dr-lone/);
    expect(byPointer.get('/entry/7/resource/id')).toBe('Practitioner/clinic-x.dr-ahmed is also at /entry/1');
    expect(byPointer.get('/entry/8/resource/extension/0')).toMatch(
      /issued to "clinic-x.dr-ahmed", not to the directory id clinic-x.dr-new/,
    );
    expect(byPointer.get('/entry/9/request/method')).toMatch(/DELETE belongs in a delta/);
    expect(problems.every((p) => p.pointer !== undefined && p.line === undefined)).toBe(true);
    expect(problemsOf(readDirectoryBundle([], context))).toEqual([
      { pointer: '', detail: 'a FHIR Bundle is expected (resourceType Bundle)' },
    ]);
  });

  it('holds a role to its own practitioner, and a Practitioner to the directory profile', () => {
    const bundle = clinicBundle();
    bundle.entry[4]!.resource = {
      ...bundle.entry[4]!.resource,
      practitioner: { reference: 'Practitioner/clinic-x.dr-ahmed' },
    };
    bundle.entry[3]!.resource = { ...bundle.entry[3]!.resource, name: [] };
    const problems = problemsOf(readDirectoryBundle(bundle, context));
    expect(problems.map((p) => p.pointer)).toEqual([
      '/entry/4/resource/practitioner/reference',
      '/entry/3/resource/name',
    ]);
  });
});

describe('directory delta', () => {
  it('upserts CSV rows under an organization published before, and retires experts and entries by id', () => {
    const csv = 'local_id,given,family,specialties,organization_id\ndr-berg,Per,Berg,Dermatology,rh';
    const result = readDirectoryDelta(
      { upsert: csv, retire: ['dr-ahmed', 'clinic-x.dr-old', 'Organization/clinic-x.old-clinic', 'dr-ahmed'] },
      context,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(
      result.changes.map((c) => (c.upsert ? `PUT ${c.upsert.resourceType}/${c.upsert.id}` : `DELETE ${c.retire}`)),
    ).toEqual([
      'PUT Practitioner/clinic-x.dr-berg',
      'PUT PractitionerRole/clinic-x.dr-berg',
      'DELETE PractitionerRole/clinic-x.dr-ahmed',
      'DELETE Practitioner/clinic-x.dr-ahmed',
      'DELETE PractitionerRole/clinic-x.dr-old',
      'DELETE Practitioner/clinic-x.dr-old',
      'DELETE Organization/clinic-x.old-clinic',
    ]);
    const payload = buildDirectoryPublish(
      { messageId: crypto.randomUUID(), timestamp: new Date(), sender: 'clinic-x' },
      { delta: result.changes },
    );
    expect(PAYLOAD_PROFILES[MESSAGE_TYPES.directoryPublish].safeParse(payload).error?.issues).toBeUndefined();
  });

  it('takes a transaction Bundle with PUT and DELETE, a lone Practitioner, and roles under organizations published before', () => {
    const [practitioner] = clinicBundle()
      .entry.map((e) => e.resource)
      .slice(3);
    const role = {
      ...clinicBundle().entry[2]!.resource,
      organization: { reference: 'Organization/clinic-x.elsewhere' },
    };
    const result = readDirectoryDelta(
      {
        upsert: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { resource: practitioner, request: { method: 'PUT', url: 'Practitioner/clinic-x.dr-berg' } },
            { resource: role },
            { request: { method: 'DELETE', url: 'Organization/clinic-x.rh' } },
          ],
        },
      },
      context,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.changes.map((c) => c.retire ?? `${c.upsert!.resourceType}/${c.upsert!.id}`)).toEqual([
      'Practitioner/clinic-x.dr-berg',
      'PractitionerRole/clinic-x.dr-ahmed',
      'Organization/clinic-x.rh',
    ]);
    expect(certificatesOf(result.changes[0]!.upsert as Practitioner).signing).toEqual([cert(berg, 'signing')]);
  });

  it('reports bad ids, a change that is also retired, and an empty delta', () => {
    const csv = 'local_id,given,family,specialties,organization_id,city\ndr-berg,Per,Berg,Dermatology,rh,Oslo';
    const problems = problemsOf(
      readDirectoryDelta({ upsert: csv, retire: ['clinic-y.dr-a', 'Patient/clinic-x.p', 7, 'dr-berg'] }, context),
    );
    expect(problems).toEqual([
      {
        pointer: '/upsert',
        line: 2,
        field: 'organization_name',
        detail: 'organization_name is needed to change organization rh',
      },
      { pointer: '/retire/0', detail: expect.stringMatching(/not an id of this clinic/) },
      { pointer: '/retire/1', detail: expect.stringMatching(/not an id of this clinic/) },
      { pointer: '/retire/2', detail: expect.stringMatching(/not an id of this clinic/) },
      {
        pointer: '/retire/3',
        detail: 'PractitionerRole/clinic-x.dr-berg and Practitioner/clinic-x.dr-berg: both changed and retired',
      },
    ]);
    expect(problemsOf(readDirectoryDelta({ retire: [] }, context))).toEqual([
      { pointer: '', detail: 'nothing to change: give upsert, retire or both' },
    ]);
    expect(
      problemsOf(
        readDirectoryDelta(
          {
            upsert: {
              resourceType: 'Bundle',
              type: 'batch',
              entry: [
                {
                  resource: { resourceType: 'Organization', id: 'clinic-x.o', name: 'O' },
                  request: { method: 'POST' },
                },
              ],
            },
          },
          context,
        ),
      ),
    ).toEqual([
      { pointer: '/upsert/entry/0/request/method', detail: 'use PUT to create or replace, DELETE to retire' },
    ]);
  });
});
