import type { SqlQueryable } from './sql-client.ts';

/** The `endpoints` table: who registered, what kind, who operates it, a clinic system's certificate. */

export type EndpointKind = 'workstation' | 'clinic-system';

export interface EndpointRecord {
  readonly id: string;
  readonly kind: EndpointKind;
  readonly operator: string;
  readonly name: string;
  readonly organization: string;
  readonly certificate: Uint8Array | null;
  readonly registeredAt: Date;
  readonly updatedAt: Date;
}

const endpointColumns =
  'id, kind, operator, name, organization, certificate, registered_at as "registeredAt", updated_at as "updatedAt"';

export async function getEndpoint(q: SqlQueryable, id: string): Promise<EndpointRecord | undefined> {
  return (await q.query<EndpointRecord>(`select ${endpointColumns} from endpoints where id = $1`, [id]))[0];
}

export function listEndpoints(q: SqlQueryable): Promise<EndpointRecord[]> {
  return q.query<EndpointRecord>(`select ${endpointColumns} from endpoints order by id`);
}

export async function endpointIds(q: SqlQueryable): Promise<string[]> {
  return (await q.query<{ id: string }>('select id from endpoints order by id')).map((r) => r.id);
}

/** Registered clinic systems: the senders whose directory publishes the hub validates ahead. */
export async function clinicSystemIds(q: SqlQueryable): Promise<string[]> {
  return (await q.query<{ id: string }>("select id from endpoints where kind = 'clinic-system'")).map((r) => r.id);
}

export async function saveEndpoint(
  q: SqlQueryable,
  e: Omit<EndpointRecord, 'registeredAt' | 'updatedAt'>,
  now: Date,
): Promise<void> {
  await q.query(
    `insert into endpoints (id, kind, operator, name, organization, certificate, registered_at, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $7)
     on conflict (id) do update set kind = excluded.kind, operator = excluded.operator, name = excluded.name,
       organization = excluded.organization, certificate = excluded.certificate, updated_at = excluded.updated_at`,
    [e.id, e.kind, e.operator, e.name, e.organization, e.certificate, now],
  );
}
