/**
 * What the P1, P2 and P6 benchmarks share: options, statistics, the machine and version header, and the bare rhea
 * baseline (one sender, one receiver, the same private broker) that P1 and P2 measure themselves against.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import rhea, { type EventContext } from 'rhea';
import { endpointCredentials, loadBrokerEnv } from '../scripts/test-env/index.ts';
import { rabbitmq3Adapter, type BrokerConnection } from '../transport/index.ts';
import { connect, until } from '../faults/fault-harness.ts';
import { startChildService, type ChildService } from '../integration/testing/hub-process.ts';
import { startCpuWindow, type CpuWindow } from './cpu-window.ts';

export const positive = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, not ${value}`);
  return n;
};

/**
 * Where the hub runs: `inline` (the default, as every figure before 6 Dec was measured), in the benchmark's process
 * beside the workstation cores; or `process`, in a process of its own as a region runs it, and then the two-hop
 * baseline's bare forwarder too. P2 measured no difference on 6 Dec: the one event loop that carries both workstation
 * cores was the limit, and the hub's share of it was about a tenth.
 */
/** Where a part runs: in the benchmark's process, or in one of its own (`--hub`, `--expert`). */
export const processOption = (name: string, value: string | undefined): 'process' | 'inline' => {
  if (value === undefined || value === 'process' || value === 'inline') return value ?? 'inline';
  throw new Error(`--${name} must be process or inline, not ${value}`);
};
export const hubOption = (value: string | undefined) => processOption('hub', value);

export const databaseOption = (value: string | undefined): 'embedded' | 'postgres' => {
  if (value !== 'embedded' && value !== 'postgres') throw new Error(`--database: embedded or postgres, not ${value}`);
  return value;
};

/** Nearest rank: the value at or above which (1 - q) of the samples lie. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
export const median = (values: readonly number[]) => quantile(values, 0.5);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const fixed = (v: number, digits = 2) => v.toFixed(digits);
/** `min / median / max` of the runs, formatted. */
export const spread = (values: readonly number[], format: (v: number) => string = fixed) =>
  `${format(Math.min(...values))} / ${format(median(values))} / ${format(Math.max(...values))}`;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '?';
  }
}

async function rabbitmqVersion(): Promise<string> {
  try {
    const broker = loadBrokerEnv();
    const auth = Buffer.from(`${broker.users.admin.name}:${broker.users.admin.password}`).toString('base64');
    const response = await fetch(`http://127.0.0.1:${broker.nodes[0]!.managementPort}/api/overview`, {
      headers: { authorization: `Basic ${auth}` },
      signal: AbortSignal.timeout(10_000),
    });
    const overview = (await response.json()) as { rabbitmq_version?: string; erlang_version?: string };
    return `RabbitMQ ${overview.rabbitmq_version ?? '?'} (Erlang ${overview.erlang_version ?? '?'})`;
  } catch {
    return 'RabbitMQ (not reachable)';
  }
}

function codeRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'main/node', 'hub', 'shared', 'shared-node', 'transport');
    return `${git('log', '-1', '--format=%h %cd', '--date=format:%Y-%m-%d %H:%M')}${dirty ? ` + ${dirty.split('\n').length} uncommitted file(s) in main/node, hub, shared, shared-node, transport` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** The header every benchmark prints: machine, load, versions, code. */
export async function printHeader(title: string, options: string): Promise<void> {
  const cpu = cpus();
  console.log(title);
  console.log(
    `machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}; load average ${load()} at start (${new Date().toISOString()})`,
  );
  console.log(
    `versions: node ${process.version}, ${await rabbitmqVersion()}, rhea ${packageVersion('rhea')}, pkijs ${packageVersion('pkijs')}, ` +
      `better-sqlite3-multiple-ciphers ${packageVersion('better-sqlite3-multiple-ciphers')}, @electric-sql/pglite ${packageVersion('@electric-sql/pglite')}, @medplum/core ${packageVersion('@medplum/core')}`,
  );
  console.log(`code: ${codeRevision()}`);
  console.log(`options: ${options}`);
}

export const printLoad = () => console.log(`load average ${load()} at end (${new Date().toISOString()})`);

export interface BareResult {
  /** From the first send until the last message was received. */
  readonly ms: number;
  /** Per message, from its send until it was received. */
  readonly latenciesMs: number[];
  readonly cpu?: ReturnType<CpuWindow['stop']>;
}

/**
 * Bare rhea: `clinic-a` sends the bodies to the uplink (durable, as fast as credit allows, or one at a time with
 * `oneAtATime`), the hub's broker user receives them from the uplink queue with auto-accept; nothing is stored or
 * opened. No hub may be consuming the uplink meanwhile.
 *
 * With `via`, the bodies take the region's two hops, as ours do: a bare rhea forwarder (the hub's broker user) takes
 * them from the uplink and sends them to `via.toEndpoint`'s downlink, accepting each upstream once the broker accepted
 * it downstream, and a receiver connected as that endpoint takes them there: the least any path through a hub can take,
 * before anything is opened, checked or stored.
 */
export async function bareRhea(
  bodies: readonly Uint8Array[],
  options: {
    oneAtATime?: boolean;
    credit?: number;
    timeoutMs?: number;
    /** `ownProcess`: the forwarder runs in a process of its own (bare-forwarder-process.ts), as the hub then does. */
    via?: { toEndpoint: string; ownProcess?: boolean };
    /** Where the CPU went from the first send until the last message was received (bench/cpu-window.ts). */
    measureCpu?: boolean;
  } = {},
): Promise<BareResult> {
  const broker = loadBrokerEnv();
  const credit = options.credit ?? 200;
  const producer = await connect(endpointCredentials(broker, 'clinic-a'));
  const consumer = await connect(options.via ? endpointCredentials(broker, options.via.toEndpoint) : broker.users.hub);
  const forwarder = options.via && !options.via.ownProcess ? await connect(broker.users.hub) : undefined;
  let forwarderProcess: ChildService | undefined;
  try {
    const run = randomUUID();
    const sentAt = new Map<string, number>();
    const latenciesMs: number[] = [];
    let lastAt = 0;
    const source = options.via
      ? rabbitmq3Adapter.downlinkSource(options.via.toEndpoint)
      : rabbitmq3Adapter.uplinkSource();
    const receiver = consumer.amqp!.open_receiver({ source: { address: source }, credit_window: credit });
    receiver.on('message', (context: EventContext) => {
      const m = context.message!;
      if ((m.application_properties as { run?: string } | undefined)?.run !== run) return;
      lastAt = performance.now();
      latenciesMs.push(lastAt - sentAt.get(String(m.message_id))!);
    });
    await until(() => receiver.is_open(), 10_000, 'bare receiver');
    if (forwarder && options.via) await startForwarder(forwarder, options.via.toEndpoint, run, credit);
    if (options.via?.ownProcess) {
      forwarderProcess = await startChildService(
        fileURLToPath(new URL('bare-forwarder-process.ts', import.meta.url)),
        [options.via.toEndpoint, run, String(credit)],
        { ready: (line) => line === 'ready' },
      );
    }
    const sender = producer.amqp!.open_sender({ target: { address: rabbitmq3Adapter.uplinkTarget('clinic-a') } });
    await until(() => sender.sendable(), 10_000, 'bare sender');
    const send = (body: Uint8Array) => {
      const id = randomUUID();
      sentAt.set(id, performance.now());
      sender.send({
        message_id: id,
        durable: true,
        application_properties: { run },
        body: rhea.message.data_section(Buffer.from(body.buffer, body.byteOffset, body.byteLength)) as unknown,
      });
    };
    const timeoutMs = options.timeoutMs ?? 600_000;
    const cpu = options.measureCpu ? startCpuWindow() : undefined;
    const started = performance.now();
    if (options.oneAtATime) {
      for (const body of bodies) {
        const before = latenciesMs.length;
        await until(() => sender.sendable(), timeoutMs, 'bare credit');
        send(body);
        await until(() => latenciesMs.length > before, timeoutMs, 'bare delivery');
      }
    } else {
      let next = 0;
      const pump = () => {
        while (next < bodies.length && sender.sendable()) send(bodies[next++]!);
      };
      sender.on('sendable', pump);
      pump();
      await until(
        () => latenciesMs.length === bodies.length,
        timeoutMs,
        `bare delivery (${latenciesMs.length}/${bodies.length})`,
      );
    }
    const cpuUsed = cpu?.stop();
    receiver.close();
    return { ms: lastAt - started, latenciesMs, ...(cpuUsed && { cpu: cpuUsed }) };
  } finally {
    await producer.stop();
    await consumer.stop();
    await forwarder?.stop();
    await forwarderProcess?.stop();
  }
}

/** The two-hop baseline's forwarder: sends each message of this run on as it comes, keeping their order. */
export async function startForwarder(
  connection: BrokerConnection,
  toEndpoint: string,
  run: string,
  credit: number,
): Promise<void> {
  const sender = connection.amqp!.open_sender({ target: { address: rabbitmq3Adapter.downlinkTarget(toEndpoint) } });
  await until(() => sender.sendable(), 10_000, 'bare forwarder sender');
  const ready: EventContext[] = [];
  const upstream = new Map<unknown, EventContext>();
  const pump = () => {
    while (ready.length > 0 && sender.sendable()) {
      const context = ready.shift()!;
      const m = context.message!;
      const out = sender.send({
        message_id: m.message_id,
        durable: true,
        application_properties: m.application_properties,
        body: m.body as unknown,
      });
      upstream.set(out, context);
    }
  };
  sender.on('sendable', pump);
  sender.on('accepted', (context: EventContext) => {
    upstream.get(context.delivery)?.delivery?.accept();
    upstream.delete(context.delivery);
  });
  const receiver = connection.amqp!.open_receiver({
    source: { address: rabbitmq3Adapter.uplinkSource() },
    autoaccept: false,
    credit_window: credit,
  });
  receiver.on('message', (context: EventContext) => {
    if ((context.message!.application_properties as { run?: string } | undefined)?.run !== run) {
      context.delivery?.release();
      return;
    }
    ready.push(context);
    pump();
  });
  await until(() => receiver.is_open(), 10_000, 'bare forwarder receiver');
}
