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
import { killNode, restartNode, BROKER_STATE_ENV } from '../scripts/test-env/index.ts';
import { createConsumer, createProducer, effectCounts, openConsumerDatabase, report, until } from './fault-harness.ts';

const MESSAGES = Number(process.env.RTS_FAULT_MESSAGES ?? 10_000);
const stateFile = process.env[BROKER_STATE_ENV]!;
const dir = mkdtempSync(join(tmpdir(), 'rts-faults-'));

async function brokerKill(): Promise<boolean> {
  const run = randomUUID();
  const consumerPath = join(dir, `broker-kill-consumer.db`);
  const consumer = await createConsumer(consumerPath, run);
  const producer = await createProducer(dir, run);
  producer.queue(MESSAGES);
  await until(() => effectCounts(consumer.db, run).distinct >= MESSAGES * 0.3, 120_000, '30% delivered');
  await killNode(stateFile, 0);
  const downFor = await restartNode(stateFile, 0);
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

const suites = { 'broker-kill': brokerKill, 'consumer-kill': consumerKill, poison };
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
