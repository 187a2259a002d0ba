/**
 * Throughput of the transport (durable outbox → broker → inbox with commit-before-accept) against bare rhea
 * (send, receive with auto-accept, nothing stored) on the same private broker, in the same run. Also measured: bare
 * rhea sending the same messages as ours (the protocol's properties cost rhea and the broker; 7 Dec), and bare
 * rhea made durable in the least way the transport's guarantees allow (`bare(…, durable)`), the floor of any
 * store-and-forward design on this machine's disk. Run with npm run bench:transport. Ends with `transport-1k: ratio=X` and
 * `transport-1m: ratio=X` (our messages/s ÷ bare messages/s). Each mode also prints, for its timed phase, the CPU per
 * message of this process (both endpoints) and of the broker, and how many of the machine's cores were busy: where a
 * mode's rate comes from, the broker or the endpoints.
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writevSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type EventContext } from 'rhea';
import { startCpuWindow } from './cpu-window.ts';
import {
  broker,
  connect,
  createConsumer,
  createProducer,
  effectCounts,
  until,
  uplinkMessage,
} from '../faults/fault-harness.ts';
import { toRheaMessage } from '../transport/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'rts-bench-transport-'));
const RUNS = 3;
const BARE_CREDIT = 500;

/**
 * The least a durable store must do with bodies, and nothing else: each sealed with AES-256-GCM and appended to a file
 * with one gathered write, then one fsync. No database, no rows, no reclaiming.
 */
function durableAppender(file: string) {
  const fd = openSync(file, 'a', 0o600);
  const key = randomBytes(32);
  let counter = 0;
  return {
    append(bodies: readonly Uint8Array[]): void {
      const parts: Uint8Array[] = [];
      for (const body of bodies) {
        const nonce = Buffer.alloc(12);
        nonce.writeUInt32BE(++counter, 8);
        const cipher = createCipheriv('aes-256-gcm', key, nonce);
        parts.push(nonce, cipher.update(body), cipher.final(), cipher.getAuthTag());
      }
      writevSync(fd, parts);
      fsyncSync(fd);
    },
    close: () => closeSync(fd),
  };
}

/**
 * Bare rhea: one sender, one receiver, as fast as credit allows; done when every message was received. It sends the
 * body and one property (issue 19's baseline), or with `sameMessages` the messages ours sends: the protocol's
 * properties and the body, made the same way, whose encoding costs rhea and the broker. Made durable
 * (`durable`), the sender stores every body before it sends (in one group, as ours is queued) and the receiver stores
 * what one turn of the event loop brings before it accepts it: the floor of store-before-send and commit-before-accept.
 */
async function bare(
  key: string,
  count: number,
  bodyBytes: number,
  { durable = false, sameMessages = false }: { durable?: boolean; sameMessages?: boolean } = {},
): Promise<number> {
  const producer = await connect(broker.endpoint('clinic-a'));
  const consumer = await connect(broker.hub);
  const run = randomUUID();
  const ofThisRun = (context: EventContext) =>
    (context.message?.application_properties as { run?: string } | undefined)?.run === run;
  let received = 0;
  const receiver = consumer.amqp!.open_receiver({
    source: { address: broker.adapter.uplinkSource() },
    credit_window: BARE_CREDIT,
    autoaccept: !durable,
  });
  const receiverStore = durable ? durableAppender(join(dir, `bare-receiver-${run}`)) : undefined;
  let unstored: EventContext[] = [];
  const storeAndAccept = () => {
    const batch = unstored;
    unstored = [];
    receiverStore!.append(batch.map((c) => (c.message!.body as { content: Uint8Array }).content));
    for (const context of batch) {
      context.delivery!.accept();
      if (ofThisRun(context)) received++;
    }
  };
  receiver.on('message', (context: EventContext) => {
    if (!receiverStore) {
      if (ofThisRun(context)) received++;
    } else if (unstored.push(context) === 1) setImmediate(storeAndAccept);
  });
  await until(() => receiver.is_open(), 10_000, 'bare receiver');
  const sender = producer.amqp!.open_sender({ target: { address: broker.adapter.uplinkTarget('clinic-a') } });
  const body = Buffer.alloc(bodyBytes, 7);
  let accepted = 0;
  sender.on('accepted', () => accepted++);
  const phase = timedPhase(key, count);
  const started = performance.now();
  const senderStore = durable ? durableAppender(join(dir, `bare-sender-${run}`)) : undefined;
  senderStore?.append(Array.from({ length: count }, () => body));
  let sent = 0;
  const pushSome = () => {
    while (sent < count && sender.sendable()) {
      sender.send(
        sameMessages
          ? toRheaMessage(uplinkMessage('clinic-a', run, sent, bodyBytes))
          : {
              message_id: randomUUID(),
              durable: true,
              application_properties: { run },
              body: rhea.message.data_section(body) as unknown,
            },
      );
      sent++;
    }
  };
  sender.on('sendable', pushSome);
  pushSome();
  await until(() => received === count && accepted === count, 600_000, 'bare delivery');
  const seconds = (performance.now() - started) / 1000;
  phase.stop();
  receiver.close();
  await producer.stop();
  await consumer.stop();
  receiverStore?.close();
  senderStore?.close();
  return count / seconds;
}

/** Bytes this process has caused to be written to storage so far (Linux). */
/** CPU per message (µs) of this process and of the broker, and the machine's busy cores, by benchmark and body size. */
const cpuOf: Record<string, { bench: number; broker: number; machine: number }[]> = {};
/** Starts the CPU window of one timed phase (connecting and closing are outside it); `stop` records it. */
function timedPhase(key: string, count: number): { stop(): void } {
  const window = startCpuWindow();
  return {
    stop() {
      const used = window.stop();
      (cpuOf[key] ??= []).push({
        bench: (used.processS * 1e6) / count,
        broker: (used.brokerS * 1e6) / count,
        machine: used.machineBusyS / used.wallS,
      });
    },
  };
}

const writtenBytes = () => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
const diskBytes: Record<string, number[]> = {};

/** Ours: queued in the producer's outbox (one transaction), delivered into the consumer's inbox with an effect row. */
async function ours(key: string, count: number, bodyBytes: number): Promise<number> {
  const writtenBefore = writtenBytes();
  const run = randomUUID();
  // The same credit as the bare receiver (500), and as many unsettled sends.
  const consumer = await createConsumer(join(dir, `consumer-${run}.db`), run, BARE_CREDIT);
  const producer = await createProducer(dir, run, 'clinic-a', BARE_CREDIT);
  const phase = timedPhase(key, count);
  const started = performance.now();
  // Independent messages (no ordering between them), as in a directory publish.
  producer.queue(count, { bodyBytes, orderKeys: count });
  // Polled by a counter, as bare counts: a count over the effects table every 25 ms would be ours to pay.
  await until(() => consumer.committed() >= count && producer.confirmed() === count, 600_000, 'transport delivery');
  const seconds = (performance.now() - started) / 1000;
  phase.stop();
  const effects = effectCounts(consumer.db, run);
  if (effects.distinct !== count || effects.rows !== count)
    throw new Error(`${effects.distinct} of ${count} delivered, ${effects.rows - effects.distinct} duplicates`);
  await producer.close();
  await consumer.close();
  // Both stores, both sides, until closed: what a message costs the disk, set against its body's size.
  (diskBytes[bodyBytes] ??= []).push((writtenBytes() - writtenBefore) / count);
  return count / seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : 1);

console.log(
  `machine: ${process.platform} ${cpus().length} x ${cpus()[0]?.model ?? '?'}; node ${process.version}; broker: ${broker.description}`,
);
console.log(`runs: ${RUNS} each, alternating bare and ours; figures are messages/s (min / median / max)`);
const results: Record<string, number> = {};
const floors: Record<string, number> = {};
const toFloor: Record<string, number> = {};
const toSame: Record<string, number> = {};
const sameToBare: Record<string, number> = {};
try {
  for (const [label, count, bytes] of [
    ['1k', 20_000, 1024],
    ['1m', 150, 1024 * 1024],
  ] as const) {
    const bareRates: number[] = [];
    const sameRates: number[] = [];
    const durableRates: number[] = [];
    const ourRates: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bareRates.push(await bare(`bare-${label}`, count, bytes));
      sameRates.push(await bare(`same-${label}`, count, bytes, { sameMessages: true }));
      durableRates.push(await bare(`durable-${label}`, count, bytes, { durable: true, sameMessages: true }));
      ourRates.push(await ours(`ours-${label}`, count, bytes));
    }
    const line = (name: string, rates: number[]) =>
      `${name.padEnd(5)} ${fmt(Math.min(...rates))} / ${fmt(median(rates))} / ${fmt(Math.max(...rates))} msg/s (${fmt((median(rates) * bytes) / 1024 / 1024)} MB/s)`;
    console.log(
      `transport-${label}: ${count} messages of ${bytes} bytes (bare made durable: sealed, written and fsynced before it is sent and before it is accepted)`,
    );
    console.log(`  ${line('bare', bareRates)}`);
    console.log(`  ${line('bare, the same messages as ours', sameRates)}`);
    console.log(`  ${line('bare made durable', durableRates)}`);
    console.log(`  ${line('ours', ourRates)}`);
    const perMessage = median(diskBytes[bytes] ?? []);
    console.log(
      `  ours: ${fmt(perMessage / 1024)} KiB written to disk per message of ${fmt(bytes / 1024)} KiB (${(perMessage / bytes).toFixed(2)} × the body; sender and receiver stores, median of ${RUNS})`,
    );
    for (const [name, key] of [
      ['bare', 'bare'],
      ['bare, the same messages as ours', 'same'],
      ['bare made durable', 'durable'],
      ['ours', 'ours'],
    ] as const) {
      const runs = cpuOf[`${key}-${label}`] ?? [];
      const of = (pick: (r: (typeof runs)[number]) => number) => fmt(median(runs.map(pick)));
      console.log(
        `  CPU per message, ${name}: the bench process (both endpoints) ${of((r) => r.bench)} µs, the broker ${of((r) => r.broker)} µs; the machine ${median(runs.map((r) => r.machine)).toFixed(2)} of ${cpus().length} cores busy (medians)`,
      );
    }
    results[label] = median(ourRates) / median(bareRates);
    floors[label] = median(durableRates) / median(sameRates);
    toFloor[label] = median(ourRates) / median(durableRates);
    toSame[label] = median(ourRates) / median(sameRates);
    sameToBare[label] = median(sameRates) / median(bareRates);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `peak RSS of the benchmark process (both endpoints, bare and ours): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
);
for (const label of ['1k', '1m']) {
  console.log(
    `transport-${label}: messages_ratio=${sameToBare[label]!.toFixed(2)} same_messages_ratio=${toSame[label]!.toFixed(2)} (bare sending the same messages as ours ÷ bare; ours ÷ bare sending the same messages)`,
  );
  console.log(
    `transport-${label}: floor_ratio=${floors[label]!.toFixed(2)} ours_to_floor=${toFloor[label]!.toFixed(2)} (bare made durable ÷ bare sending the same messages; ours ÷ bare made durable)`,
  );
}
console.log(`transport-1k: ratio=${results['1k']!.toFixed(2)}`);
console.log(`transport-1m: ratio=${results['1m']!.toFixed(2)}`);
process.exit(0);
