import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, loadPostgresEnv } from '../../scripts/test-env/index.ts';
import { migrateHubSchema } from './hub-schema.ts';
import * as store from './hub-store.ts';
import { openPostgres, type SqlClient } from './sql-client.ts';

/**
 * Two hub instances on one PostgreSQL: one forwards a consult (its forwards reach the broker before its commit) and the
 * other gets the recipient's receipt about it first. `awaitClaim` lets the second wait for the first's commit, so that
 * the receipt is judged against the route, not refused as routed by no one.
 */
describe('hub store: a route committed while a receipt about it waits', () => {
  let sql: SqlClient;

  beforeAll(async () => {
    sql = await openPostgres(await createTestDatabase(loadPostgresEnv()!, 'hub_route_claims'));
    await migrateHubSchema(sql);
  }, 30_000);

  afterAll(async () => {
    await sql.close();
  });

  it('waits for the transaction that claimed the message, then sees its route; records nothing itself', async () => {
    const messageId = randomUUID();
    const route = { messageId, sender: 'clinic-b', recipient: 'clinic-a' };
    let commit = () => undefined as void;
    const committing = new Promise<void>((resolve) => (commit = resolve));
    let claimed = () => undefined as void;
    const claimedNow = new Promise<void>((resolve) => (claimed = resolve));
    const forwarding = sql.transaction(async (tx) => {
      await store.claimMessage(tx, {
        messageId,
        sender: 'clinic-b',
        type: 'consult.request',
        outcome: 'delivered',
        at: new Date(),
      });
      await store.recordRoutes(tx, [{ messageId, sender: 'clinic-b', recipients: ['clinic-a'] }], new Date());
      claimed();
      await committing; // the forwards are with the broker
    });
    await claimedNow;

    const seen: string[] = [];
    const answering = sql.transaction(async (tx) => {
      seen.push(`before: ${await store.wasRouted(tx, route)}`);
      await store.awaitClaim(tx, messageId);
      seen.push(`after: ${await store.wasRouted(tx, route)}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual(['before: false']); // waiting for the first instance's commit
    commit();
    await Promise.all([forwarding, answering]);
    expect(seen).toEqual(['before: false', 'after: true']);
    const claims = await sql.query('select sender from processed_messages where message_id = $1', [messageId]);
    expect(claims).toEqual([{ sender: 'clinic-b' }]);
  });

  it('does not wait, and records nothing, for a message no one claimed', async () => {
    const messageId = randomUUID();
    await sql.transaction((tx) => store.awaitClaim(tx, messageId));
    expect(await sql.query('select 1 from processed_messages where message_id = $1', [messageId])).toEqual([]);
  });
});
