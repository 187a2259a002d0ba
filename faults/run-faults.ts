/**
 * Fault suites on one broker node (npm run test:faults runs them with the cluster suite). Each prints
 * `SUITE: sent=N confirmed=N delivered=N lost=N duplicates=N …`; the process fails unless every suite lost nothing
 * and surfaced no duplicate to the application.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboxSender, createSqliteTransportStore, openDatabase } from '../transport/index.ts';
import {
  STORE_KEY,
  connect,
  createConsumer,
  createProducer,
  effectCounts,
  broker,
  openConsumerDatabase,
  report,
  until,
} from './fault-harness.ts';

const MESSAGES = Number(process.env.RTS_FAULT_MESSAGES ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'rts-faults-'));

async function brokerKill(): Promise<boolean> {
  const run = randomUUID();
  const consumerPath = join(dir, `broker-kill-consumer.db`);
  const consumer = await createConsumer(consumerPath, run);
  const producer = await createProducer(dir, run);
  producer.queue(MESSAGES);
  await until(() => effectCounts(consumer.db, run).distinct >= MESSAGES * 0.3, 120_000, '30% delivered');
  await broker.kill();
  const downFor = await broker.restart();
  await until(
    () => effectCounts(consumer.db, run).distinct >= MESSAGES && producer.confirmed() === MESSAGES,
    300_000,
    'all delivered after the broker restart',
  );
  const effects = effectCounts(consumer.db, run);
  const ok = report('broker-kill', {
    sent: producer.sent(),
    confirmed: producer.confirmed(),
    delivered: effects.distinct,
    lost: MESSAGES - effects.distinct,
    duplicates: effects.rows - effects.distinct,
    extra: { broker_down_ms: downFor, longest_pause_ms: effects.longestPauseMs },
  });
  await producer.close();
  await consumer.close();
  return ok;
}

function startConsumerProcess(path: string, run: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'consumer-process.ts'), path, run], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`consumer process exited early (${code})`)));
  });
}

async function consumerKill(): Promise<boolean> {
  const run = randomUUID();
  const path = join(dir, 'consumer-kill.db');
  openConsumerDatabase(path).db.close();
  const observer = openConsumerDatabase(path);
  let child = await startConsumerProcess(path, run);
  const producer = await createProducer(dir, run);
  producer.queue(MESSAGES);
  await until(() => effectCounts(observer.db, run).distinct >= MESSAGES * 0.3, 120_000, '30% consumed');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const killedAt = effectCounts(observer.db, run).distinct;
  child = await startConsumerProcess(path, run);
  await until(
    () => effectCounts(observer.db, run).distinct >= MESSAGES && producer.confirmed() === MESSAGES,
    300_000,
    'all consumed after the consumer restart, every send confirmed',
  );
  const effects = effectCounts(observer.db, run);
  const ok = report('consumer-kill', {
    sent: producer.sent(),
    confirmed: producer.confirmed(),
    delivered: effects.distinct,
    lost: MESSAGES - effects.distinct,
    duplicates: effects.rows - effects.distinct,
    extra: { killed_after: killedAt, longest_pause_ms: effects.longestPauseMs },
  });
  child.kill('SIGKILL');
  await producer.close();
  observer.db.close();
  return ok;
}

async function poison(): Promise<boolean> {
  const run = randomUUID();
  const total = Math.min(MESSAGES, 2_000);
  const consumer = await createConsumer(join(dir, 'poison.db'), run);
  const producer = await createProducer(dir, run);
  // Every 50th is rejected for good (dead-lettered by us at once); every 97th makes the handler crash until the
  // broker's delivery limit dead-letters it.
  producer.queue(total, { poisonEvery: 50, crashEvery: 97 });
  const poisonCount = Math.floor(total / 50);
  const crashCount = Array.from({ length: total }, (_, n) => n).filter((n) => n % 50 !== 49 && n % 97 === 96).length;
  const good = total - poisonCount - crashCount;
  // The producer's confirmations are recorded a tick after the broker settles: wait for them too, not only for the
  // consumer (under load the consumer can finish first).
  await until(
    () =>
      effectCounts(consumer.db, run).distinct >= good &&
      consumer.store.deadLetters.list({ limit: 10_000 }).length >= poisonCount &&
      producer.confirmed() === total,
    300_000,
    'good messages, poison dead letters and every confirmation',
  );
  const effects = effectCounts(consumer.db, run);
  const letters = consumer.store.deadLetters.list({ limit: 10_000 });
  const withReason = letters.filter((l) => l.reason === 'schema-invalid' && l.detail.length > 0).length;
  const ok =
    report('poison', {
      sent: producer.sent(),
      confirmed: producer.confirmed(),
      delivered: effects.distinct,
      lost: good - effects.distinct,
      duplicates: effects.rows - effects.distinct,
      extra: {
        good,
        poison: poisonCount,
        dead_lettered_with_reason: withReason,
        crashing: crashCount,
        longest_pause_ms: effects.longestPauseMs,
      },
    }) && withReason === poisonCount;
  await producer.close();
  await consumer.close();
  return ok;
}

/**
 * The sending endpoint killed -9 while it writes a body into a segment file, several times over: each opening must find
 * the torn tail, cut it off and keep every message whose enqueue had returned; then everything acknowledged is sent and
 * delivered once, and whatever was committed but not yet acknowledged at the kill is delivered too or never existed.
 */
async function tornWrite(): Promise<boolean> {
  const run = randomUUID();
  const path = join(dir, 'torn-write-producer.db');
  const acknowledged = new Set<string>();
  let torn = 0;
  let next = 0;
  const ROUNDS = 8;
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, 'outbox-writer-process.ts'), path, run, String(next)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let buffered = '';
    let acks = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, a, b] = line.split(' ');
        if (word === 'torn') torn += 1;
        if (word === 'ack') {
          acknowledged.add(b!);
          next = Number(a) + 1;
          acks += 1;
        }
      }
    });
    // A few messages in, then at a random moment: most of the time is spent writing bodies of up to 4 MiB.
    await until(() => acks >= 3, 60_000, `the writer's first messages (round ${round + 1})`);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  const logged = (code: string) => void (code === 'segments.torn-tail' && (torn += 1));
  const store = createSqliteTransportStore(openDatabase(path, STORE_KEY), {
    logger: { info: logged, warn: logged, error: logged },
  });
  const queued = store.outbox.counts().queued;
  const consumer = await createConsumer(join(dir, 'torn-write-consumer.db'), run);
  const connection = await connect(broker.endpoint('clinic-a'));
  const sender = createOutboxSender({ connection, outbox: store.outbox });
  sender.wake();
  await until(
    () => store.outbox.counts().queued === 0 && consumer.committed() >= queued,
    300_000,
    'every message that survived the kills delivered',
  );
  const ids = new Set(
    (consumer.db.prepare('select message_id from effects where run = ?').all(run) as { message_id: string }[]).map(
      (r) => r.message_id,
    ),
  );
  const effects = effectCounts(consumer.db, run);
  // Lost: acknowledged but not delivered, or found queued after the kills but not delivered.
  const lost = [...acknowledged].filter((id) => !ids.has(id)).length + Math.max(0, queued - effects.distinct);
  const ok = report('torn-write', {
    sent: queued,
    confirmed: queued - store.outbox.counts().queued,
    delivered: effects.distinct,
    lost,
    duplicates: effects.rows - effects.distinct,
    extra: {
      acknowledged: acknowledged.size,
      kills: ROUNDS,
      torn_tails_cut: torn,
      committed_not_acknowledged: effects.distinct - acknowledged.size,
    },
  });
  sender.stop();
  await connection.stop();
  store.close();
  await consumer.close();
  return ok && effects.distinct >= acknowledged.size;
}

const suites = { 'broker-kill': brokerKill, 'consumer-kill': consumerKill, poison, 'torn-write': tornWrite };
const selected = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(suites);
let allOk = true;
try {
  for (const name of selected) {
    const started = Date.now();
    const ok = await suites[name as keyof typeof suites]();
    console.log(`${name}: ${ok ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    allOk &&= ok;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(allOk ? 0 : 1);
