/**
 * Failover (run under scripts/with-test-env.sh --nodes 3, or RTS_BROKER=artemis scripts/with-artemis.sh --pair):
 * producer and consumer both start on node 1 — of a 3-node RabbitMQ cluster with quorum queues, or the primary of an
 * Artemis pair whose backup replicates its journal — which is killed (-9) under load; they must fail over to another
 * node (the backup, once it has taken over) and lose nothing. Ends with
 * `cluster-failover: sent=N confirmed=N delivered=N lost=N duplicates=N …` (`pair-failover:` on Artemis).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { broker, createConsumer, createProducer, effectCounts, report, until } from './fault-harness.ts';

const MESSAGES = Number(process.env.RTS_FAULT_MESSAGES ?? 10_000);
const SUITE = broker.kind === 'artemis' ? 'pair-failover' : 'cluster-failover';
if (broker.hosts.length < (broker.kind === 'artemis' ? 2 : 3))
  throw new Error(
    'the failover suite needs a 3-node RabbitMQ cluster (scripts/with-test-env.sh --nodes 3 …) or an Artemis pair (RTS_BROKER=artemis scripts/with-artemis.sh --pair …)',
  );
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
  await broker.kill();
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
  ok = report(SUITE, {
    sent: producer.sent(),
    confirmed: producer.confirmed(),
    delivered: effects.distinct,
    lost: MESSAGES - effects.distinct,
    duplicates: effects.rows - effects.distinct,
    extra: { producer_failover_ms: failoverMs, longest_pause_ms: effects.longestPauseMs },
  });
  console.log(`${SUITE}: producer moved from ${startedOn[0]} to ${producer.connection.state.host}`);
  await producer.close();
  await consumer.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
