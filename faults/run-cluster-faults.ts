/**
 * Failover on a 3-node cluster with quorum queues (run under scripts/with-test-env.sh --nodes 3): producer and
 * consumer both start on node 1, which is killed (-9) under load; they must fail over to the other nodes and lose
 * nothing. Ends with `cluster-failover: sent=N confirmed=N delivered=N lost=N duplicates=N …`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BROKER_STATE_ENV, killNode } from '../scripts/test-env/index.ts';
import { broker, createConsumer, createProducer, effectCounts, report, until } from './fault-harness.ts';

const MESSAGES = Number(process.env.RTS_FAULT_MESSAGES ?? 10_000);
if (broker.kind !== 'rabbitmq' || broker.hosts.length < 3)
  throw new Error('the failover suite needs a 3-node cluster: scripts/with-test-env.sh --nodes 3 …');
const dir = mkdtempSync(join(tmpdir(), 'rts-cluster-faults-'));
const run = randomUUID();
let ok: boolean;
try {
  const consumer = await createConsumer(join(dir, 'consumer.db'), run);
  const producer = await createProducer(dir, run);
  const startedOn = [producer.connection.state.host];
  producer.queue(MESSAGES);
  await until(() => effectCounts(consumer.db, run).distinct >= MESSAGES * 0.3, 120_000, '30% delivered');
  const killedAt = Date.now();
  await killNode(process.env[BROKER_STATE_ENV]!, 0);
  await until(
    () => producer.connection.state.status === 'online' && producer.connection.state.host !== startedOn[0],
    60_000,
    'producer failover',
  );
  const failoverMs = Date.now() - killedAt;
  await until(
    () => effectCounts(consumer.db, run).distinct >= MESSAGES && producer.confirmed() === MESSAGES,
    300_000,
    'all delivered after failover',
  );
  const effects = effectCounts(consumer.db, run);
  ok = report('cluster-failover', {
    sent: producer.sent(),
    confirmed: producer.confirmed(),
    delivered: effects.distinct,
    lost: MESSAGES - effects.distinct,
    duplicates: effects.rows - effects.distinct,
    extra: { producer_failover_ms: failoverMs, longest_pause_ms: effects.longestPauseMs },
  });
  console.log(`cluster-failover: producer moved from ${startedOn[0]} to ${producer.connection.state.host}`);
  await producer.close();
  await consumer.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
