import { describeCertificate, isPkiError } from '../../shared/pki/index.ts';
import { RTS_URIS } from '../../shared/protocol/index.ts';
import {
  organizationOf,
  practitionerName,
  readDirectoryEntry,
  readOrganization,
} from '../../shared/protocol/fhir/index.ts';
import * as store from '../store/hub-store.ts';
import type { SqlQueryable } from '../store/sql-client.ts';

/**
 * The operator's view of the practitioner entries the hub holds (`rts hub directory list|show`): a PractitionerRole
 * and the Practitioner of the same id, with the hospital's name and, for one entry, its certificates. Read-only, from
 * the stored resources; a retired entry has its id, publisher and version left, nothing else.
 */
export type EntryState = 'live' | 'inactive' | 'retired';

export interface DirectoryEntrySummary {
  readonly id: string;
  /** The publishing clinic system (endpoint id). */
  readonly clinic: string;
  readonly name: string | null;
  readonly organization: string | null;
  readonly organizationName: string | null;
  readonly state: EntryState;
  /** The directory version that last changed the entry. */
  readonly version: number;
}

export interface EntryCertificate {
  readonly use: string;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notAfter: string;
}

export interface DirectoryEntryDetail extends DirectoryEntrySummary {
  readonly specialties: string[];
  readonly endpoints: string[];
  readonly languages: string[];
  readonly certificates: EntryCertificate[];
}

interface RoleJson {
  active?: boolean;
  organization?: unknown;
  specialty?: unknown[];
  endpoint?: unknown[];
}
interface PractitionerJson {
  name?: unknown[];
  communication?: unknown[];
  extension?: { url: string; extension?: { url: string; valueCode?: string; valueBase64Binary?: string }[] }[];
}

const parse = <T>(json: string | null): T | undefined => (json === null ? undefined : (JSON.parse(json) as T));

const organizationIdOf = (role: RoleJson | undefined) => organizationOf(role) ?? null;

function summarize(
  row: store.DirectoryListingRow,
  organizationNames: ReadonlyMap<string, string>,
): DirectoryEntrySummary {
  const role = parse<RoleJson>(row.role);
  const organization = organizationIdOf(role);
  return {
    id: row.id,
    clinic: row.publisher,
    name: practitionerName(parse<PractitionerJson>(row.practitioner)) ?? null,
    organization,
    organizationName: organization === null ? null : (organizationNames.get(organization) ?? null),
    state: row.retired ? 'retired' : role?.active === false ? 'inactive' : 'live',
    version: Number(row.version),
  };
}

async function organizationNames(
  q: SqlQueryable,
  rows: readonly store.DirectoryListingRow[],
): Promise<Map<string, string>> {
  const ids = [
    ...new Set(rows.map((r) => organizationIdOf(parse<RoleJson>(r.role))).filter((id): id is string => id !== null)),
  ];
  const resources = await store.resourcesByUrl(
    q,
    ids.map((id) => `Organization/${id}`),
  );
  const names = new Map<string, string>();
  resources.forEach((json, i) => {
    const { name } = readOrganization(parse<{ resourceType?: string; name?: unknown }>(json ?? null));
    if (name) names.set(ids[i]!, name);
  });
  return names;
}

/** A page of entries in directory-id order; `next` is the `after` of the following page, if there is one. */
export async function listEntries(
  q: SqlQueryable,
  options: { publisher?: string; after?: string; limit: number },
): Promise<{ entries: DirectoryEntrySummary[]; next?: string }> {
  const rows = await store.listDirectoryEntries(q, { ...options, limit: options.limit + 1 });
  const page = rows.slice(0, options.limit);
  const names = await organizationNames(q, page);
  return {
    entries: page.map((row) => summarize(row, names)),
    ...(rows.length > options.limit && { next: page.at(-1)!.id }),
  };
}

function certificatesOf(practitioner: PractitionerJson | undefined): EntryCertificate[] {
  return (practitioner?.extension ?? [])
    .filter((e) => e.url === RTS_URIS.certificateExtension)
    .map((e) => {
      const use = e.extension?.find((x) => x.url === 'use')?.valueCode ?? '?';
      const base64 = e.extension?.find((x) => x.url === 'certificate')?.valueBase64Binary ?? '';
      try {
        const { subject, serialNumber, notAfter } = describeCertificate(Buffer.from(base64, 'base64'));
        return { use, subject, serialNumber, notAfter };
      } catch (error) {
        // The hub checked it on publish; an unreadable one here would be a stored entry from before that check.
        if (!isPkiError(error)) throw error;
        return { use, subject: `unreadable: ${error.message}`, serialNumber: '', notAfter: '' };
      }
    });
}

export async function showEntry(q: SqlQueryable, id: string): Promise<DirectoryEntryDetail | undefined> {
  const [row] = await store.listDirectoryEntries(q, { exactId: id, limit: 1 });
  if (!row) return undefined;
  const role = parse<RoleJson>(row.role);
  const practitioner = parse<PractitionerJson>(row.practitioner);
  const { specialties, endpoints, languages } = readDirectoryEntry(practitioner, role);
  return {
    ...summarize(row, await organizationNames(q, [row])),
    specialties,
    endpoints,
    languages,
    certificates: certificatesOf(practitioner),
  };
}
