import { randomUUID } from 'node:crypto';
import { CsvError, parse } from 'csv-parse/sync';
import { fromBase64 } from '../shared/pki/index.ts';
import {
  assertEndpointId,
  isEndpointId,
  DIRECTORY_ID_PATTERN,
  RTS_URIS,
  MESSAGE_TYPES,
} from '../shared/protocol/index.ts';
import {
  certificatesOf,
  validateFhirResource,
  buildDirectorySnapshot,
  buildExpertEntry,
  buildOrganization,
  PAYLOAD_PROFILES,
  type DirectoryChange,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { certificateBindingProblem, loadFhirDefinitions, type BoundUse } from '../shared-node/index.ts';

/**
 * What a clinic system hands the connector to publish its experts: a CSV file (one expert a row) or a FHIR Bundle of
 * Practitioner, PractitionerRole and Organization resources, for the whole list or as a delta. Either becomes the
 * directory resources the hub accepts (docs/protocol.md §5.1): ids in this clinic's namespace, certificates bound to
 * the practitioner, the RTS directory profiles and base FHIR R4. Every problem is reported at once, by line (CSV) or
 * JSON pointer (Bundle), and nothing is returned from input that has any.
 */
export interface DirectoryInputContext {
  /** The connector's endpoint id (e.g. clinic-x): every directory id it publishes is `<clinicId>.<local id>`. */
  readonly clinicId: string;
  /** Where consults reach the practitioners when the input names no endpoint: the connector itself. */
  readonly endpointId: string;
  /** The base64 DER certificates the connector holds for a practitioner (their .p12 files), by directory id. */
  certificatesOf(practitionerId: string): { signing: string; encryption: string } | undefined;
}

export interface DirectoryInputProblem {
  /** 1-based line of the CSV file. */
  readonly line?: number;
  /** JSON pointer into the Bundle or the delta. */
  readonly pointer?: string;
  /** The CSV column. */
  readonly field?: string;
  readonly detail: string;
}

export type DirectoryInputResult =
  | { ok: true; resources: DirectoryResource[]; experts: number; organizations: number }
  | { ok: false; problems: DirectoryInputProblem[] };

export type DirectoryDeltaResult =
  { ok: true; changes: DirectoryChange[] } | { ok: false; problems: DirectoryInputProblem[] };

/** The CSV columns, with what each holds (for the connector's documentation). */
export const EXPERT_CSV_COLUMNS = {
  local_id:
    "Required. The expert's id in the clinic system (letters, digits, -); the directory id is <clinic id>.<local_id>.",
  prefix: 'Title before the name, e.g. Dr.',
  given: 'Required. Given names, separated by spaces.',
  family: 'Required. Family name.',
  specialties: 'Required. Specialties as text, separated by ;.',
  languages: 'Languages the expert consults in, BCP 47 codes (en, fr, pt-BR) separated by ;.',
  organization_id:
    'Required. Local id of the hospital or clinic the expert works at; its directory id is <clinic id>.<organization_id>.',
  organization_name:
    "The organization's name: required on the first row of each organization_id, the same (or empty) on later rows.",
  city: "The organization's city.",
  district: "The organization's district.",
  state: "The organization's state or province.",
  country: "The organization's country, ISO 3166 alpha-2 (NO, KE).",
  endpoints: 'Endpoint ids where the expert receives consults, separated by ;. Default: this connector.',
  signing_certificate:
    "The expert's signing certificate, base64 DER. Default: the one the connector holds for the expert.",
  encryption_certificate:
    "The expert's encryption certificate, base64 DER. Default: the one the connector holds for the expert.",
} as const;

type Column = keyof typeof EXPERT_CSV_COLUMNS;
const REQUIRED_COLUMNS: readonly Column[] = ['local_id', 'given', 'family', 'specialties', 'organization_id'];
const LOCAL_ID = /^[A-Za-z0-9-]+$/;
const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const COUNTRY = /^[A-Z]{2}$/;
const DIRECTORY_TYPES: ReadonlySet<string> = new Set(['Practitioner', 'PractitionerRole', 'Organization']);

type Mode = 'full' | 'delta';
type Problems = DirectoryInputProblem[];
/** A resource with where it came from, to report later problems there. */
interface Sourced {
  readonly resource: DirectoryResource;
  readonly at: { line: number } | { pointer: string };
}

// --- CSV -----------------------------------------------------------------------------------------------------------

export function readExpertCsv(text: string, context: DirectoryInputContext): DirectoryInputResult {
  const valid = checked(context);
  return result(valid.clinicId, expertsFromCsv(text, valid, 'full'));
}

interface CsvRow {
  readonly line: number;
  readonly fields: string[];
}

/** 1-based line of a byte offset, counting line ends as an editor does (CRLF, LF, or a lone CR). */
function lineIndex(bytes: Uint8Array): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) starts.push(i + 1);
  }
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
}

const CSV_ERRORS: Readonly<Partial<Record<string, string>>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted value that starts on this row is never closed',
  CSV_INVALID_CLOSING_QUOTE:
    'a closing quote must be followed by a comma or the end of the line (a quote inside a quoted value is written twice: "")',
};

/**
 * The rows of the file with the line each starts on. csv-parse's own line count is off where a quoted value holds a
 * line end other than the file's, so the start line comes from the byte offset at which the previous record ended.
 * A syntax error ends the reading there: what follows cannot be split into values reliably.
 */
function csvRows(text: string): { rows: CsvRow[]; problem?: DirectoryInputProblem } {
  const bytes = Buffer.from(text.startsWith('\uFEFF') ? text.slice(1) : text, 'utf8');
  const lineAt = lineIndex(bytes);
  const rows: CsvRow[] = [];
  let end = 0;
  const nextLine = () => {
    let offset = end;
    while (bytes[offset] === 0x0a || bytes[offset] === 0x0d) offset++;
    return lineAt(offset);
  };
  try {
    parse(bytes, {
      relax_column_count: true,
      skip_empty_lines: true,
      on_record: (fields: string[], info) => {
        rows.push({ line: nextLine(), fields });
        end = info.bytes;
        return null;
      },
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    return {
      rows,
      problem: { line: nextLine(), detail: `${CSV_ERRORS[error.code] ?? error.message}; rows after it were not read` },
    };
  }
  return { rows };
}

interface OrganizationRow {
  readonly localId: string;
  readonly line: number;
  readonly fields: Partial<
    Record<'organization_name' | 'city' | 'district' | 'state' | 'country', { value: string; line: number }>
  >;
}

function expertsFromCsv(
  text: string,
  context: DirectoryInputContext,
  mode: Mode,
): { items: Sourced[]; problems: Problems } {
  const problems: Problems = [];
  const { rows, problem: syntax } = csvRows(text);
  const [header, ...records] = rows;
  if (!header) {
    problems.push(
      syntax ?? {
        line: 1,
        detail: `the file is empty: its first line names the columns (${REQUIRED_COLUMNS.join(',')},…)`,
      },
    );
    return { items: [], problems };
  }
  const names = header.fields.map((name) => name.trim().toLowerCase());
  names.forEach((name, index) => {
    if (!Object.hasOwn(EXPERT_CSV_COLUMNS, name))
      problems.push({
        line: header.line,
        field: name,
        detail: `unknown column "${name}"; the columns are ${Object.keys(EXPERT_CSV_COLUMNS).join(', ')}`,
      });
    else if (names.indexOf(name) !== index)
      problems.push({ line: header.line, field: name, detail: `column ${name} appears twice` });
  });
  for (const column of REQUIRED_COLUMNS) {
    if (!names.includes(column))
      problems.push({ line: header.line, field: column, detail: `column ${column} is required` });
  }
  // Rows cannot be read as meant under a wrong header (a misspelt column would make every row miss it).
  if (problems.length > 0) return { items: [], problems: syntax ? [...problems, syntax] : problems };

  const experts: Sourced[] = [];
  const organizations = new Map<string, OrganizationRow>();
  const seen = new Map<string, number>();
  for (const { line, fields } of records) {
    if (fields.every((f) => f.trim() === '')) continue;
    if (fields.length !== names.length) {
      problems.push({
        line,
        detail: `${fields.length} values, but the header names ${names.length} columns (a value with a comma needs double quotes)`,
      });
      continue;
    }
    const value = (column: Column): string | undefined => fields[names.indexOf(column)]?.trim() || undefined;
    const fail = (field: Column, detail: string) => problems.push({ line, field, detail });
    const localId = value('local_id');
    const earlier = localId === undefined ? undefined : seen.get(localId);
    if (earlier !== undefined) fail('local_id', `local_id ${localId} is on line ${earlier} too`);
    else if (localId !== undefined) seen.set(localId, line);
    const expert = expertRow(value, fail, context);
    if (expert) experts.push(...buildExpertEntry(expert).map((resource) => ({ resource, at: { line } })));
    const organizationId = value('organization_id');
    if (organizationId && LOCAL_ID.test(organizationId))
      organizationRow(organizations, organizationId, line, value, fail, mode);
  }
  if (syntax) problems.push(syntax);
  const built = [...organizations.values()].flatMap((row) => {
    const { organization_name: name, ...address } = row.fields;
    if (!name) return [];
    const id = `${context.clinicId}.${row.localId}`;
    const resource = buildOrganization({
      id,
      name: name.value,
      ...Object.fromEntries(Object.entries(address).map(([key, field]) => [key, field.value])),
    });
    return [{ resource, at: { line: row.line } }];
  });
  return { items: [...built, ...experts], problems };
}

/** One expert's entry from a row, or undefined (with the row's problems reported). */
function expertRow(
  value: (column: Column) => string | undefined,
  fail: (field: Column, detail: string) => void,
  context: DirectoryInputContext,
) {
  let failed = false;
  const problem = (field: Column, detail: string) => {
    failed = true;
    fail(field, detail);
  };
  const localId = value('local_id');
  const id = localId === undefined ? undefined : `${context.clinicId}.${localId}`;
  if (localId === undefined) problem('local_id', 'local_id is required');
  else if (!LOCAL_ID.test(localId) || !DIRECTORY_ID_PATTERN.test(id!)) {
    problem(
      'local_id',
      `local_id ${JSON.stringify(localId)}: use letters, digits and - (not at either end), at most ${63 - context.clinicId.length} characters`,
    );
  }
  const given = value('given')?.split(/\s+/) ?? [];
  if (given.length === 0) problem('given', 'given is required');
  const family = value('family');
  if (family === undefined) problem('family', 'family is required');
  const specialties = list(value('specialties'));
  if (specialties.length === 0) problem('specialties', 'specialties is required: one or more, separated by ;');
  const languages = list(value('languages'));
  for (const code of languages.filter((c) => !LANGUAGE.test(c)))
    problem('languages', `language ${JSON.stringify(code)} is not a BCP 47 code such as en or pt-BR`);
  const organizationId = value('organization_id');
  if (organizationId === undefined) problem('organization_id', 'organization_id is required');
  else if (!LOCAL_ID.test(organizationId) || !DIRECTORY_ID_PATTERN.test(`${context.clinicId}.${organizationId}`)) {
    problem(
      'organization_id',
      `organization_id ${JSON.stringify(organizationId)}: use letters, digits and - (not at either end)`,
    );
  }
  const endpoints = [...new Set(list(value('endpoints')))];
  for (const endpoint of endpoints.filter((e) => !isEndpointId(e)))
    problem('endpoints', `endpoint ${JSON.stringify(endpoint)} is not an endpoint id (a-z, 0-9, -)`);
  const certificates = id && DIRECTORY_ID_PATTERN.test(id) ? rowCertificates(id, value, problem, context) : undefined;
  if (failed || !certificates) return undefined;
  return {
    practitionerId: id!,
    family: family!,
    given,
    ...(value('prefix') && { prefix: value('prefix') }),
    languages,
    specialties: specialties.map((text) => ({ text })),
    organizationId: `${context.clinicId}.${organizationId!}`,
    endpoints: endpoints.length > 0 ? endpoints : [context.endpointId],
    signingCertificate: certificates.signing,
    encryptionCertificate: certificates.encryption,
  };
}

function rowCertificates(
  id: string,
  value: (column: Column) => string | undefined,
  problem: (field: Column, detail: string) => void,
  context: DirectoryInputContext,
) {
  const signing = value('signing_certificate')?.replace(/\s+/g, '');
  const encryption = value('encryption_certificate')?.replace(/\s+/g, '');
  if (signing === undefined && encryption === undefined) {
    const held = context.certificatesOf(id);
    if (!held) {
      problem(
        'signing_certificate',
        `no certificates for ${id}: configure the practitioner's .p12 files in the connector, or give both certificate columns`,
      );
      return undefined;
    }
    const unbound = (['signing', 'encryption'] as const).filter((use) => {
      const detail = bindingProblem(held[use], use, id);
      if (detail) problem(`${use}_certificate`, `${detail} (the certificate the connector holds)`);
      return detail;
    });
    return unbound.length === 0 ? held : undefined;
  }
  if (signing === undefined || encryption === undefined) {
    problem(
      signing === undefined ? 'signing_certificate' : 'encryption_certificate',
      'give both signing_certificate and encryption_certificate, or neither to use the certificates the connector holds',
    );
    return undefined;
  }
  const unbound = (
    [
      ['signing', signing],
      ['encryption', encryption],
    ] as const
  ).filter(([use, base64]) => {
    const detail = bindingProblem(base64, use, id);
    if (detail) problem(`${use}_certificate`, detail);
    return detail;
  });
  return unbound.length === 0 ? { signing, encryption } : undefined;
}

/** Why a base64 certificate cannot stand in `id`'s entry for `use` (the hub's binding rule), or undefined. */
function bindingProblem(base64: string, use: BoundUse, id: string): string | undefined {
  const der = fromBase64(base64);
  if (!der || der.length === 0) return `the ${use} certificate is not base64 DER`;
  return certificateBindingProblem(der, use, id)?.detail;
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);

/** Gathers an organization's fields over its rows: the first value of each stands, and later rows may only repeat it. */
function organizationRow(
  organizations: Map<string, OrganizationRow>,
  localId: string,
  line: number,
  value: (column: Column) => string | undefined,
  fail: (field: Column, detail: string) => void,
  mode: Mode,
): void {
  let row = organizations.get(localId);
  if (!row) {
    row = { localId, line, fields: {} };
    organizations.set(localId, row);
    // A delta may place an expert under an organization published before, without repeating it.
    if (mode === 'full' && !value('organization_name'))
      fail('organization_name', `organization_name is required on the first row of organization_id ${localId}`);
  }
  for (const field of ['organization_name', 'city', 'district', 'state', 'country'] as const) {
    let text = value(field);
    if (text === undefined) continue;
    if (field === 'country') {
      text = text.toUpperCase();
      if (!COUNTRY.test(text)) {
        fail(field, `country ${JSON.stringify(value(field))} is not an ISO 3166 alpha-2 code such as NO or KE`);
        continue;
      }
    }
    const first = row.fields[field];
    if (!first) row.fields[field] = { value: text, line };
    else if (first.value !== text)
      fail(
        field,
        `organization ${localId} has ${field} ${JSON.stringify(first.value)} on line ${first.line}: give the same or leave it empty`,
      );
  }
  if (mode === 'delta' && !row.fields.organization_name && Object.keys(row.fields).length > 0) {
    fail('organization_name', `organization_name is needed to change organization ${localId}`);
  }
}

// --- Bundle --------------------------------------------------------------------------------------------------------

export function readDirectoryBundle(bundle: unknown, context: DirectoryInputContext): DirectoryInputResult {
  const valid = checked(context);
  return result(valid.clinicId, resourcesFromBundle(valid, bundle, 'full', ''));
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function resourcesFromBundle(
  context: DirectoryInputContext,
  bundle: unknown,
  mode: Mode,
  base: string,
): { items: Sourced[]; retire: Retirement[]; problems: Problems } {
  const problems: Problems = [];
  const at = (pointer: string, detail: string) => problems.push({ pointer: `${base}${pointer}`, detail });
  if (!isObject(bundle) || bundle.resourceType !== 'Bundle') {
    at('', 'a FHIR Bundle is expected (resourceType Bundle)');
    return { items: [], retire: [], problems };
  }
  if (!['collection', 'transaction', 'batch'].includes(String(bundle.type)))
    at('/type', 'type must be collection, transaction or batch');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) {
    at('/entry', 'entry must be a list');
    return { items: [], retire: [], problems };
  }
  const candidates: { resource: Json; pointer: string; request?: Json }[] = [];
  const retire: Retirement[] = [];
  const urls = new Map<string, string>();
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const pointer = `/entry/${index}`;
    const problem = entryProblem(entry, mode, context);
    if (problem) {
      at(`${pointer}${problem.pointer}`, problem.detail);
      continue;
    }
    const { resource, request } = entry as { resource?: Json; request?: Json };
    if (request?.method === 'DELETE') {
      retire.push({ pointer: `${base}${pointer}`, urls: [String(request.url)] });
      continue;
    }
    const url = `${String(resource!.resourceType)}/${String(resource!.id)}`;
    const earlier = urls.get(url);
    if (earlier !== undefined) {
      at(`${pointer}/resource/id`, `${url} is also at ${base}${earlier}`);
      continue;
    }
    urls.set(url, pointer);
    candidates.push({ resource: resource!, pointer: `${pointer}/resource` });
  }

  const ids = (type: string) =>
    new Set(candidates.filter((c) => c.resource.resourceType === type).map((c) => c.resource.id as string));
  const practitioners = ids('Practitioner');
  const roles = ids('PractitionerRole');
  const organizations = ids('Organization');
  const items: Sourced[] = [];
  for (const { resource, pointer } of candidates) {
    const id = resource.id as string;
    // Base FHIR reads absence as active; the directory profile wants it said.
    const completed: Json = { ...resource, active: resource.active ?? true };
    if (resource.resourceType === 'Practitioner') {
      if (mode === 'full' && !roles.has(id))
        at(`${pointer}/id`, `Practitioner/${id} has no PractitionerRole of the same id`);
      const extension = practitionerCertificates(resource, pointer, context, (p, detail) => at(p, detail));
      if (extension) completed.extension = extension;
    }
    if (resource.resourceType === 'PractitionerRole') {
      if (mode === 'full' && !practitioners.has(id))
        at(`${pointer}/id`, `PractitionerRole/${id} has no Practitioner of the same id`);
      const practitioner = (resource.practitioner as Json | undefined)?.reference;
      if (practitioner !== `Practitioner/${id}`)
        at(`${pointer}/practitioner/reference`, `must be Practitioner/${id}, the role's own practitioner`);
      const organization = (resource.organization as Json | undefined)?.reference;
      const organizationId =
        typeof organization === 'string' && organization.startsWith('Organization/')
          ? organization.slice('Organization/'.length)
          : undefined;
      // A delta may refer to an organization published before; a full list must carry every one it refers to.
      const known =
        organizationId !== undefined &&
        (mode === 'full' ? organizations.has(organizationId) : ownId(organizationId, context));
      if (!known)
        at(
          `${pointer}/organization/reference`,
          mode === 'full'
            ? 'must be Organization/<id> of an Organization in this Bundle'
            : `must be Organization/${context.clinicId}.<local id>`,
        );
      if (!Array.isArray(resource.endpoint) || resource.endpoint.length === 0) {
        completed.endpoint = [{ identifier: { system: 'urn:rts:endpoint', value: context.endpointId } }];
      }
    }
    items.push({ resource: completed as unknown as DirectoryResource, at: { pointer: `${base}${pointer}` } });
  }
  return { items, retire, problems };
}

/** What keeps one Bundle entry from being read (its pointer within the entry), or undefined. */
function entryProblem(
  entry: unknown,
  mode: Mode,
  context: DirectoryInputContext,
): { pointer: string; detail: string } | undefined {
  if (!isObject(entry)) return { pointer: '', detail: 'an entry must be an object' };
  const request = entry.request;
  if (request !== undefined && (!isObject(request) || !['PUT', 'DELETE'].includes(String(request.method)))) {
    return {
      pointer: '/request/method',
      detail: mode === 'full' ? 'use PUT, or no request' : 'use PUT to create or replace, DELETE to retire',
    };
  }
  if (isObject(request) && request.method === 'DELETE') {
    if (mode === 'full')
      return {
        pointer: '/request/method',
        detail: 'a full list retires what it leaves out: DELETE belongs in a delta',
      };
    const [type = '', id = ''] = String(request.url).split(/\/(.*)/s);
    if (!DIRECTORY_TYPES.has(type) || !ownId(id, context)) {
      return {
        pointer: '/request/url',
        detail: `url must be Practitioner/, PractitionerRole/ or Organization/ with a directory id ${context.clinicId}.<local id>`,
      };
    }
    return undefined;
  }
  const resource = entry.resource;
  if (!isObject(resource)) return { pointer: '/resource', detail: 'the entry has no resource' };
  const type = String(resource.resourceType);
  if (!DIRECTORY_TYPES.has(type))
    return {
      pointer: '/resource/resourceType',
      detail: `${type} is not a directory resource: give Practitioner, PractitionerRole and Organization`,
    };
  if (typeof resource.id !== 'string' || !ownId(resource.id, context)) {
    return {
      pointer: '/resource/id',
      detail: `id must be a directory id of this clinic: ${context.clinicId}.<local id> (letters, digits, -)`,
    };
  }
  if (isObject(request) && request.url !== `${type}/${resource.id}`)
    return { pointer: '/request/url', detail: `request.url must be ${type}/${resource.id}, the resource's` };
  return undefined;
}

function ownId(id: string, context: DirectoryInputContext): boolean {
  return DIRECTORY_ID_PATTERN.test(id) && id.startsWith(`${context.clinicId}.`);
}

/**
 * The certificate extensions a Practitioner is published with: its own when it has any (each bound to it), else the
 * ones the connector holds, in the form buildExpertEntry writes. Undefined: keep what it has.
 */
function practitionerCertificates(
  resource: Json,
  pointer: string,
  context: DirectoryInputContext,
  at: (pointer: string, detail: string) => void,
): unknown[] | undefined {
  const id = resource.id as string;
  const extensions: unknown[] = Array.isArray(resource.extension) ? (resource.extension as unknown[]) : [];
  const present = certificatesOf(resource);
  if (extensions.some((e) => isObject(e) && e.url === RTS_URIS.certificateExtension)) {
    for (const use of ['signing', 'encryption'] as const) {
      if (present[use].length === 0)
        at(
          `${pointer}/extension`,
          `Practitioner/${id} has no ${use} certificate: give both, or none to use the ones the connector holds`,
        );
    }
    extensions.forEach((extension: unknown, index) => {
      if (!isObject(extension) || extension.url !== RTS_URIS.certificateExtension) return;
      const one = certificatesOf({ extension: [extension] });
      const use = one.signing.length > 0 ? 'signing' : 'encryption';
      const base64 = one[use][0];
      const detail =
        base64 === undefined
          ? 'a certificate extension needs a use (signing, encryption) and a certificate'
          : bindingProblem(base64, use, id);
      if (detail) at(`${pointer}/extension/${index}`, detail);
    });
    return undefined;
  }
  const held = context.certificatesOf(id);
  if (!held) {
    at(
      `${pointer}/extension`,
      `no certificates for ${id}: configure the practitioner's .p12 files in the connector, or give the certificate extensions`,
    );
    return undefined;
  }
  for (const use of ['signing', 'encryption'] as const) {
    const detail = bindingProblem(held[use], use, id);
    if (detail) at(`${pointer}/extension`, `${detail} (the certificate the connector holds)`);
  }
  // The builder's own extensions, so that the form cannot drift from what every other publisher writes.
  const [withCertificates] = buildExpertEntry({
    practitionerId: id,
    family: '',
    given: [],
    languages: [],
    specialties: [],
    organizationId: '',
    endpoints: [],
    signingCertificate: held.signing,
    encryptionCertificate: held.encryption,
  });
  return [...extensions, ...(withCertificates.extension ?? [])];
}

// --- delta ---------------------------------------------------------------------------------------------------------

/**
 * A change to what the clinic published: `upsert` (CSV text or a Bundle) creates or replaces entries, `retire` names
 * entries to retire: an expert by local or directory id (their Practitioner and PractitionerRole), or any entry as
 * `ResourceType/<id>` (an Organization).
 */
export function readDirectoryDelta(input: unknown, context: DirectoryInputContext): DirectoryDeltaResult {
  const valid = checked(context);
  if (!isObject(input))
    return { ok: false, problems: [{ pointer: '', detail: 'a delta is an object { upsert?, retire? }' }] };
  const upserted =
    typeof input.upsert === 'string'
      ? { ...expertsFromCsv(input.upsert, valid, 'delta'), retire: [] as Retirement[] }
      : input.upsert === undefined
        ? { items: [], retire: [], problems: [] }
        : resourcesFromBundle(valid, input.upsert, 'delta', '/upsert');
  const problems = upserted.problems.map((p) => (p.line === undefined ? p : { pointer: '/upsert', ...p }));
  const retire = [...upserted.retire, ...retirements(input.retire, valid, problems)];
  const listed = new Set(upserted.items.map(({ resource }) => `${resource.resourceType}/${resource.id}`));
  for (const { pointer, urls } of retire) {
    const both = urls.filter((url) => listed.has(url));
    if (both.length > 0) problems.push({ pointer, detail: `${both.join(' and ')}: both changed and retired` });
  }
  if (upserted.items.length === 0 && retire.length === 0 && problems.length === 0)
    problems.push({ pointer: '', detail: 'nothing to change: give upsert, retire or both' });
  const all = merged(problems, finalChecks(upserted.items, valid.clinicId));
  if (all.length > 0) return { ok: false, problems: all };
  return {
    ok: true,
    changes: [
      ...upserted.items.map(({ resource }) => ({ upsert: resource })),
      ...[...new Set(retire.flatMap((r) => r.urls))].map((url) => ({ retire: url })),
    ],
  };
}

/** Entries to retire, with where the delta named them. */
interface Retirement {
  readonly pointer: string;
  readonly urls: readonly string[];
}

function retirements(list: unknown, context: DirectoryInputContext, problems: Problems): Retirement[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    problems.push({ pointer: '/retire', detail: 'retire is a list of ids' });
    return [];
  }
  return list.flatMap((item: unknown, index) => {
    const text = typeof item === 'string' ? item : '';
    const slash = text.indexOf('/');
    const type = slash < 0 ? undefined : text.slice(0, slash);
    const rest = slash < 0 ? text : text.slice(slash + 1);
    const id = rest.includes('.') ? rest : `${context.clinicId}.${rest}`;
    if ((type !== undefined && !DIRECTORY_TYPES.has(type)) || !ownId(id, context)) {
      problems.push({
        pointer: `/retire/${index}`,
        detail: `not an id of this clinic: give a local id, ${context.clinicId}.<local id>, or Organization/<id>`,
      });
      return [];
    }
    return [
      {
        pointer: `/retire/${index}`,
        urls: type ? [`${type}/${id}`] : [`PractitionerRole/${id}`, `Practitioner/${id}`],
      },
    ];
  });
}

// --- common --------------------------------------------------------------------------------------------------------

function checked(context: DirectoryInputContext): DirectoryInputContext {
  assertEndpointId(context.clinicId);
  assertEndpointId(context.endpointId);
  return context;
}

function result(clinicId: string, { items, problems }: { items: Sourced[]; problems: Problems }): DirectoryInputResult {
  const all = merged(problems, finalChecks(items, clinicId));
  if (all.length > 0) return { ok: false, problems: all };
  const resources = items.map((i) => i.resource);
  const count = (type: string) => resources.filter((r) => r.resourceType === type).length;
  return { ok: true, resources, experts: count('Practitioner'), organizations: count('Organization') };
}

/**
 * The input's own problems, then those of the hub's checks at places nothing was said of yet: base FHIR and the
 * profile often say the same thing of one element, in other words.
 */
function merged(own: Problems, later: Problems): Problems {
  const key = (p: DirectoryInputProblem) =>
    p.line === undefined ? `@${p.pointer}` : `${p.line}|${p.field}|${p.detail}`;
  const seen = new Set(own.map(key));
  return [...own, ...later.filter((p) => !seen.has(key(p)) && seen.add(key(p)))];
}

/** Base FHIR R4 issues of one resource, as JSON pointers within it. */
function validateFhir(resource: unknown): { pointer: string; detail: string }[] {
  loadFhirDefinitions();
  // "Practitioner.name[0].given[1]" → "/name/0/given/1"
  return validateFhirResource(resource).map((issue) => ({
    pointer: issue.path
      .split('.')
      .slice(1)
      .map((segment) => `/${segment.replace(/\[(\d+)\]/g, '/$1')}`)
      .join(''),
    detail: issue.message,
  }));
}

/**
 * What the hub checks of every entry (the RTS directory profile, base FHIR), reported where the entry came from. The
 * profile is the snapshot's: it holds the same entry schema as directory.publish without the full/delta union.
 */
function finalChecks(items: readonly Sourced[], clinicId: string): Problems {
  if (items.length === 0) return [];
  const snapshot = buildDirectorySnapshot(
    { messageId: randomUUID(), timestamp: new Date(), sender: 'hub' },
    { toEndpoint: clinicId, entries: items.map((i) => i.resource) },
  );
  const parsed = PAYLOAD_PROFILES[MESSAGE_TYPES.directorySnapshot].safeParse(snapshot);
  const profileIssues = (parsed.error?.issues ?? []).map((issue) => {
    // entry/1/resource/entry/<index>/resource/<path within the resource>
    const [, , , , index, , ...path] = issue.path;
    const item = items[Number(index)];
    if (!item) throw new Error(`directory snapshot profile: ${issue.path.join('.')}: ${issue.message}`);
    return { item, pointer: path.map((p) => `/${String(p)}`).join(''), detail: issue.message };
  });
  const fhirIssues = items.flatMap((item) => validateFhir(item.resource).map((issue) => ({ item, ...issue })));
  return [...fhirIssues, ...profileIssues].map(({ item, pointer, detail }) =>
    'line' in item.at
      ? { line: item.at.line, detail: `${item.resource.resourceType}/${item.resource.id}${pointer}: ${detail}` }
      : { pointer: `${item.at.pointer}${pointer}`, detail },
  );
}
