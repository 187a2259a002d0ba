import { preparedStatement, type SqliteDatabase } from '../../../transport/index.ts';
import type { ConsultMessageType } from './case-store.ts';

/** One of our consult messages still queued in the outbox: what the outbox screen lists. */
export interface WaitingMessage {
  readonly messageId: string;
  readonly caseId: string;
  readonly type: ConsultMessageType;
  readonly createdAt: number;
  /** A request that is its case's only message: taking it back leaves nothing the peer could have heard of. */
  readonly withdrawable: boolean;
}

/**
 * Our consult messages still queued, oldest first, or the one `messageId` names if it is (the outbox table is the
 * transport's; read, never written here).
 */
export function waitingMessages(db: SqliteDatabase, limit: number, messageId?: string): WaitingMessage[] {
  return preparedStatement<
    (string | number)[],
    { message_id: string; case_id: string; type: ConsultMessageType; created_at: number; alone: number }
  >(
    db,
    `select m.message_id, m.case_id, m.type, m.created_at,
        (select count(*) from case_messages x where x.case_id = m.case_id) = 1 as alone
      from outbox o join case_messages m on m.message_id = o.message_id
      where o.state = 'pending' and m.direction = 'out' ${messageId === undefined ? '' : 'and o.message_id = ?'}
      order by o.seq limit ?`,
  )
    .all(...(messageId === undefined ? [limit] : [messageId, limit]))
    .map((r) => ({
      messageId: r.message_id,
      caseId: r.case_id,
      type: r.type,
      createdAt: r.created_at,
      withdrawable: r.type === 'consult.request' && r.alone === 1,
    }));
}
