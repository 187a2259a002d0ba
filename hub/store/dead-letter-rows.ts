import type { DeadLetterState, StoredMessage } from '../../transport/index.ts';
import { asJson, fromHexText, type SqlQueryable } from './sql-client.ts';

/** `dead_letters`: messages refused for good, with the reason, kept for the operator to replay or discard. */

export interface DeadLetterRecord {
  readonly id: number;
  readonly messageId: string;
  readonly source: string;
  readonly sender: string;
  readonly type: string;
  readonly reason: string;
  readonly detail: string;
  readonly properties: StoredMessage['properties'];
  readonly bodyBytes: number;
  readonly receivedAt: Date;
  readonly state: DeadLetterState;
  readonly resolvedAt: Date | null;
  readonly resolution: string | null;
}

const deadLetterColumns = `id, message_id as "messageId", source, sender, type, reason, detail, properties, octet_length(body) as "bodyBytes",
  received_at as "receivedAt", state, resolved_at as "resolvedAt", resolution`;

export async function addDeadLetter(
  q: SqlQueryable,
  letter: {
    messageId: string;
    source: string;
    sender: string;
    type: string;
    reason: string;
    detail: string;
    message: StoredMessage;
    at: Date;
  },
): Promise<number> {
  return (
    await q.query<{ id: number }>(
      `insert into dead_letters (message_id, source, sender, type, reason, detail, properties, body, received_at)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::bytea, $9) returning id`,
      [
        letter.messageId,
        letter.source,
        letter.sender,
        letter.type,
        letter.reason,
        letter.detail,
        asJson(letter.message.properties),
        letter.message.body,
        letter.at,
      ],
    )
  )[0]!.id;
}

export function listDeadLetters(
  q: SqlQueryable,
  options: { state?: DeadLetterState; limit?: number; reason?: string } = {},
): Promise<DeadLetterRecord[]> {
  return q.query<DeadLetterRecord>(
    `select ${deadLetterColumns} from dead_letters where ($1::text is null or state = $1) and ($2::text is null or reason = $2) order by id desc limit $3`,
    [options.state ?? null, options.reason ?? null, options.limit ?? 100],
  );
}

export async function getDeadLetter(
  q: SqlQueryable,
  id: number,
): Promise<(DeadLetterRecord & { body: Uint8Array }) | undefined> {
  const row = (
    await q.query<DeadLetterRecord & { hex: string }>(
      `select ${deadLetterColumns}, encode(body, 'hex') as hex from dead_letters where id = $1 for update`,
      [id],
    )
  )[0];
  if (!row) return undefined;
  const { hex, ...letter } = row;
  return { ...letter, body: fromHexText(hex) };
}

export async function resolveDeadLetter(
  q: SqlQueryable,
  id: number,
  state: Exclude<DeadLetterState, 'held'>,
  resolution: string,
  at: Date,
): Promise<void> {
  await q.query('update dead_letters set state = $2, resolution = $3, resolved_at = $4 where id = $1', [
    id,
    state,
    resolution,
    at,
  ]);
}

export async function deadLetterCounts(q: SqlQueryable): Promise<{ reason: string; held: number }[]> {
  return q.query(
    "select reason, count(*)::int as held from dead_letters where state = 'held' group by reason order by held desc",
  );
}
