/**
 * Hub benchmark: the hub service (hub/main.ts, run as a child process with its own event loop) against a bare rhea
 * forwarder on the same private broker, in the same run.
 *
 *   npm run bench:hub [-- --runs N --messages N --experts N --database embedded|postgres --only routing|sync
 *                          --practitioners N --hospitals N --timeout-s S --hub-cpu-prof DIR]
 *
 * hub-routing    clinic-b sends N consult.request messages (1 KiB opaque body) to the uplink; the hub routes each to
 *                clinic-a's downlink (and answers clinic-b with a signed `delivered` receipt). Timed from the first send
 *                until clinic-a's downlink consumer has all N. Bare: a rhea forwarder connected as the hub's broker user
 *                reads the uplink with the same credit (200), sends each message to clinic-a's downlink, and accepts the
 *                uplink delivery once the downlink send is accepted. Bare with receipts: the same forwarder also answers
 *                each message as the protocol asks the hub to, with a signed receipt as large as the hub's, to clinic-b.
 *                Each run also prints the CPU per consult of the broker, of this process and of the hub (/proc).
 * hub-sync-100k  clinic-a publishes a full directory of N experts (+ a few hospitals) as ceil(N/1000) directory.publish
 *                batches of one set, sealed before timing. Timed from the first send until clinic-b's downlink has
 *                received every directory.update of the change (counted by opening each update, signed by the hub, and
 *                counting its entries). A fresh hub database per run. Bare: the same sealed bodies forwarded by a rhea
 *                forwarder to clinic-b's downlink, timed until clinic-b has all of them.
 *
 * The output ends with `hub-routing: receipts_bare_ratio=X with_receipts_ratio=Y` (bare with receipts ÷ bare; ours ÷
 * bare with receipts), `hub-routing: ratio=X` (our msg/s ÷ bare msg/s) and `hub-sync-100k: seconds=S ratio=X`
 * (our median seconds; our median time ÷ bare median time). Medians over the runs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import rhea, { type Connection, type Delivery, type EventContext, type Message, type Sender } from 'rhea';
import { endpointCredentials, loadBrokerEnv, createTestDatabase, loadPostgresEnv } from '../scripts/test-env/index.ts';
import { downlinkReceiveAddress, uplinkSendAddress, vhostHostname } from '../shared/broker/index.ts';
import { verify, type CmsSigner } from '../shared/cms/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import { CONTENT_TYPES, sealMessage, PROTOCOL_VERSION, type ApplicationProperties } from '../shared/protocol/index.ts';
import {
  buildDirectoryPublish,
  buildEndpointRegister,
  type DirectoryChange,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { newMessageId, rabbitmq3Adapter, bodyBytes } from '../transport/index.ts';
import { brokerCpuSeconds, processCpuSeconds } from './cpu-window.ts';
import { expertPractitioners } from './expert-certificates.ts';
import {
  purgeTestQueues,
  writeTestHubConfig,
  createTestRegion,
  expertEntry,
  hospital,
  type TestIdentity,
  type TestPractitioner,
  type TestRegion,
  rabbitmqAsBrokerUnderTest,
} from '../testkit/index.ts';

// --- options -----------------------------------------------------------------------------------------------------------

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '20000' },
    experts: { type: 'string', default: '100000' },
    database: { type: 'string', default: 'embedded' },
    only: { type: 'string' },
    practitioners: { type: 'string', default: '200' },
    hospitals: { type: 'string', default: '5' },
    'timeout-s': { type: 'string', default: '600' },
    'hub-cpu-prof': { type: 'string' },
    'hub-sql-trace': { type: 'string' },
    'profile-phase': { type: 'string', default: 'sync' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const positive = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, not ${value}`);
  return n;
};
const RUNS = positive('runs', opts.runs);
const MESSAGES = positive('messages', opts.messages);
const EXPERTS = positive('experts', opts.experts);
const POOL = positive('practitioners', opts.practitioners);
const HOSPITALS = positive('hospitals', opts.hospitals);
const TIMEOUT_MS = positive('timeout-s', opts['timeout-s']) * 1000;
const DATABASE = opts.database;
if (DATABASE !== 'embedded' && DATABASE !== 'postgres') throw new Error('--database: embedded or postgres');
const ONLY = opts.only;
if (ONLY !== undefined && ONLY !== 'routing' && ONLY !== 'sync') throw new Error('--only: routing or sync');
const PROFILE_DIR = opts['hub-cpu-prof'];
const SQL_TRACE_DIR = opts['hub-sql-trace'];
const PROFILE_PHASE = opts['profile-phase'];

const V = PROTOCOL_VERSION;
const CREDIT = 200;
const ROLES_PER_BATCH = 1000;
const WARMUP = 200;

const broker = loadBrokerEnv();
const postgres = loadPostgresEnv();
if (DATABASE === 'postgres' && !postgres)
  throw new Error('--database postgres: no private PostgreSQL (run through scripts/with-test-env.sh)');
const port = broker.nodes[0]!.amqpPort;
const management = `http://127.0.0.1:${broker.nodes[0]!.managementPort}/api`;
const managementAuth = `Basic ${Buffer.from(`${broker.users.admin.name}:${broker.users.admin.password}`).toString('base64')}`;

// --- small helpers -----------------------------------------------------------------------------------------------------

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const secs = (ms: number) => (ms / 1000).toFixed(2);
const fmtRate = (n: number) => n.toFixed(n >= 100 ? 0 : 1);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const hrUs = () => Number(process.hrtime.bigint() / 1000n);

async function until(
  condition: () => boolean,
  timeoutMs: number,
  what: () => string,
  progress?: () => string,
): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  while (!condition()) {
    const now = Date.now();
    if (now - started > timeoutMs) throw new Error(`timed out after ${secs(timeoutMs)} s waiting for ${what()}`);
    if (progress && now - lastReport >= 30_000) {
      lastReport = now;
      console.log(`    … ${secs(now - started)} s: ${progress()}`);
    }
    await sleep(10);
  }
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${management}/${path}`, {
    ...init,
    headers: { authorization: managementAuth, ...init.headers },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`management API ${path}: ${response.status} ${await response.text()}`);
  return response;
}

// --- AMQP endpoints and forwarder --------------------------------------------------------------------------------------

async function connectAmqp(user: string, password: string, label: string): Promise<Connection> {
  const connection = rhea.create_container({ id: `bench-${label}-${randomUUID().slice(0, 6)}` }).connect({
    host: '127.0.0.1',
    port,
    hostname: vhostHostname(broker.vhost),
    username: user,
    password,
    reconnect: false,
    idle_time_out: 60_000,
  });
  connection.on('error', (context: EventContext) =>
    console.error(`bench ${label}: connection error ${JSON.stringify(context.error ?? null)}`),
  );
  connection.on('session_error', (context: EventContext) =>
    console.error(`bench ${label}: session error ${JSON.stringify(context.session?.error ?? null)}`),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: connect timed out`)), 15_000);
    connection.once('connection_open', () => {
      clearTimeout(timer);
      resolve();
    });
    connection.once('disconnected', (context: EventContext) => {
      clearTimeout(timer);
      reject(new Error(`${label}: cannot connect: ${String(context.error ?? 'disconnected')}`));
    });
  });
  return connection;
}

async function openSender(connection: Connection, address: string): Promise<Sender> {
  const sender = connection.open_sender({ target: { address }, autosettle: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sender ${address}: not sendable`)), 15_000);
    sender.once('sendable', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return sender;
}

/** Sends every message as fast as link credit allows; resolves when the broker accepted all of them. */
function sendAll(sender: Sender, messages: readonly Message[], timeoutMs = TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    if (messages.length === 0) return resolve();
    const mine = new Set<Delivery>();
    let next = 0;
    let accepted = 0;
    const timer = setTimeout(
      () => finish(new Error(`sending: ${accepted}/${messages.length} accepted after ${secs(timeoutMs)} s`)),
      timeoutMs,
    );
    const pump = () => {
      while (next < messages.length && sender.sendable()) mine.add(sender.send(messages[next++]!));
    };
    const onAccepted = (context: EventContext) => {
      if (!mine.delete(context.delivery!)) return;
      if (++accepted === messages.length) finish();
    };
    const onRefused = (context: EventContext) => {
      if (mine.has(context.delivery!))
        finish(new Error(`the broker refused a message: ${JSON.stringify(context.delivery?.remote_state ?? null)}`));
    };
    function finish(error?: Error) {
      clearTimeout(timer);
      sender.removeListener('sendable', pump);
      sender.removeListener('accepted', onAccepted);
      for (const event of ['rejected', 'released', 'modified']) sender.removeListener(event, onRefused);
      if (error) reject(error);
      else resolve();
    }
    sender.on('sendable', pump);
    sender.on('accepted', onAccepted);
    for (const event of ['rejected', 'released', 'modified']) sender.on(event, onRefused);
    pump();
  });
}

interface Arrived {
  readonly message: Message;
  readonly at: number;
  readonly type: string;
  readonly messageId: string;
  readonly correlationId?: string;
  readonly properties: Record<string, unknown>;
}

interface BenchEndpoint {
  readonly id: string;
  readonly sender: Sender;
  /** Everything the downlink consumer receives goes to the listeners; nothing is kept. */
  listen(listener: (m: Arrived) => void): () => void;
  waitFor(predicate: (m: Arrived) => boolean, what: string, timeoutMs?: number): Promise<Arrived>;
  close(): void;
}

async function openEndpoint(id: string): Promise<BenchEndpoint> {
  const { password } = endpointCredentials(broker, id);
  const connection = await connectAmqp(id, password, id);
  const listeners = new Set<(m: Arrived) => void>();
  const receiver = connection.open_receiver({ source: { address: downlinkReceiveAddress(id) }, credit_window: CREDIT });
  receiver.on('message', (context: EventContext) => {
    const m = context.message!;
    const properties = (m.application_properties ?? {}) as Record<string, unknown>;
    const arrived: Arrived = {
      message: m,
      at: performance.now(),
      type: typeof properties.rtsType === 'string' ? properties.rtsType : '',
      messageId: String(m.message_id),
      ...(typeof m.correlation_id === 'string' && { correlationId: m.correlation_id }),
      properties,
    };
    for (const listener of listeners) listener(arrived);
  });
  await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
  const sender = await openSender(connection, uplinkSendAddress(id));
  const listen = (listener: (m: Arrived) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return {
    id,
    sender,
    listen,
    waitFor: (predicate, what, timeoutMs = 60_000) =>
      new Promise<Arrived>((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`${id}: timed out waiting for ${what}`));
        }, timeoutMs);
        const off = listen((m) => {
          if (!predicate(m)) return;
          clearTimeout(timer);
          off();
          resolve(m);
        });
      }),
    close: () => connection.close(),
  };
}

/** What the bare forwarder answers each message with, as the protocol asks of the hub (§7: a `delivered` receipt). */
interface BareReceipts {
  readonly to: string;
  /** The size of the hub's own signed receipt, measured in the run. */
  readonly bytes: number;
}

/**
 * The bare baseline of the hub's forwarding: reads the uplink as the hub's broker user (credit 200, no auto-accept),
 * sends each message to one downlink, and accepts the uplink delivery when the broker accepted the downlink send.
 * With `receipts`, it also answers each message as the protocol asks: a receipt of the hub's receipt's size, signed
 * with ECDSA P-256 (node:crypto, nothing else built or checked), sent to the sender's downlink; the uplink delivery is
 * accepted once the broker accepted both.
 */
async function startForwarder(
  toEndpoint: string,
  receipts?: BareReceipts,
): Promise<{ forwarded: () => number; close: () => void }> {
  const connection = await connectAmqp(broker.users.hub.name, broker.users.hub.password, 'forwarder');
  const sender = await openSender(connection, rabbitmq3Adapter.downlinkTarget(toEndpoint));
  const receiptSender = receipts && (await openSender(connection, rabbitmq3Adapter.downlinkTarget(receipts.to)));
  const receiptKey = receipts && generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const waiting: EventContext[] = [];
  /** Each uplink delivery with the number of its sends the broker has yet to accept. */
  const upstream = new Map<Delivery, { up: Delivery; open: number }>();
  const hubUser = Buffer.from(broker.users.hub.name);
  let forwarded = 0;
  const receiptFor = (m: Message): Message => {
    const body = randomBytes(receipts!.bytes);
    sign('sha256', body.subarray(0, receipts!.bytes - 72), receiptKey!).copy(body, receipts!.bytes - 72);
    return {
      message_id: randomUUID(),
      user_id: hubUser,
      creation_time: new Date(),
      content_type: CONTENT_TYPES.signed,
      durable: true,
      correlation_id: m.message_id,
      application_properties: { rtsType: 'receipt', rtsReceipt: 'delivered' },
      body: rhea.message.data_section(body) as unknown,
    } as unknown as Message;
  };
  const pump = () => {
    while (waiting.length > 0 && sender.sendable() && (!receiptSender || receiptSender.sendable())) {
      const { message, delivery } = waiting.shift()!;
      const m = message!;
      const body = bodyBytes(m.body) as Uint8Array;
      const out = sender.send({
        message_id: m.message_id,
        user_id: hubUser,
        creation_time: m.creation_time,
        content_type: m.content_type,
        durable: true,
        application_properties: m.application_properties,
        ...(m.correlation_id !== undefined && { correlation_id: m.correlation_id }),
        body: rhea.message.data_section(Buffer.from(body.buffer, body.byteOffset, body.byteLength)) as unknown,
      } as unknown as Message);
      const entry = { up: delivery!, open: receiptSender ? 2 : 1 };
      upstream.set(out, entry);
      if (receiptSender) upstream.set(receiptSender.send(receiptFor(m)), entry);
    }
  };
  sender.on('sendable', pump);
  receiptSender?.on('sendable', pump);
  for (const link of receiptSender ? [sender, receiptSender] : [sender]) {
    link.on('accepted', (context: EventContext) => {
      const entry = upstream.get(context.delivery!);
      if (!entry) return;
      upstream.delete(context.delivery!);
      if (entry.open <= 0 || --entry.open > 0) return; // released already, or the other send still open
      entry.up.accept();
      forwarded += 1;
    });
    for (const event of ['rejected', 'released', 'modified']) {
      link.on(event, (context: EventContext) => {
        const entry = upstream.get(context.delivery!);
        if (!entry) return;
        upstream.delete(context.delivery!);
        console.error(`forwarder: downlink send ${event}`);
        if (entry.open > 0) entry.up.release();
        entry.open = 0;
      });
    }
  }
  const receiver = connection.open_receiver({
    source: { address: rabbitmq3Adapter.uplinkSource() },
    autoaccept: false,
    credit_window: CREDIT,
  });
  receiver.on('message', (context: EventContext) => {
    waiting.push(context);
    pump();
  });
  await new Promise<void>((resolve) => receiver.once('receiver_open', () => resolve()));
  return { forwarded: () => forwarded, close: () => connection.close() };
}

// --- the hub as a child process ----------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
const killChildren = () => {
  for (const child of children) {
    try {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
};
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

type DatabaseSpec = { kind: 'embedded'; path: string } | { kind: 'postgres'; url: string };

async function newDatabase(dir: string, name: string): Promise<DatabaseSpec> {
  if (DATABASE === 'embedded') return { kind: 'embedded', path: join(dir, `db-${name}`) };
  return { kind: 'postgres', url: await createTestDatabase(postgres!, 'hub_bench') };
}

async function dropDatabase(spec: DatabaseSpec): Promise<void> {
  if (spec.kind === 'embedded') {
    rmSync(spec.path, { recursive: true, force: true });
    return;
  }
  const name = new URL(spec.url).pathname.slice(1);
  const client = new pg.Client({ connectionString: postgres!.url });
  await client.connect();
  await client.query(`drop database if exists ${name}`).catch(() => undefined);
  await client.end();
}

interface HubLogLine {
  readonly at: string;
  readonly event: string;
  readonly [key: string]: unknown;
}

interface HubChild {
  readonly pid: number;
  readonly logFile: string;
  log(): HubLogLine[];
  stop(): Promise<void>;
}

/** Diagnostics for one hub child: a V8 CPU profile (--cpu-prof) and/or a PGlite statement trace (bench/pglite-trace.ts). */
interface Diagnostics {
  readonly cpuProfDir?: string;
  readonly sqlTraceFile?: string;
}

/** The CPU profile covers run 1 of the chosen phase; the (cheap) statement trace every run of it. */
function diagnosticsFor(phase: string, run: number): Diagnostics {
  if (PROFILE_PHASE !== phase) return {};
  return {
    ...(PROFILE_DIR && run === 1 && { cpuProfDir: PROFILE_DIR }),
    ...(SQL_TRACE_DIR && { sqlTraceFile: join(SQL_TRACE_DIR, `sql-trace-${phase}-${run}.json`) }),
  };
}

async function startHubChild(
  dir: string,
  region: TestRegion,
  name: string,
  database: DatabaseSpec,
  diagnostics: Diagnostics = {},
): Promise<HubChild> {
  const config = writeTestHubConfig({ dir, name, region, broker: rabbitmqAsBrokerUnderTest(broker), database });
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const nodeArgs = [
    ...(diagnostics.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', diagnostics.cpuProfDir] : []),
    ...(diagnostics.sqlTraceFile ? ['--import', './bench/pglite-trace.ts'] : []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, 'hub/main.ts', '--config', config.file], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      ...config.env,
      ...(diagnostics.sqlTraceFile && { RTS_BENCH_SQL_TRACE: diagnostics.sqlTraceFile }),
    },
  });
  closeSync(fd);
  children.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      children.delete(child);
      resolve();
    }),
  );
  const text = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const log = () =>
    text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as HubLogLine);
  const tail = () => text().split('\n').slice(-15).join('\n');
  const hub: HubChild = {
    pid: child.pid!,
    logFile,
    log,
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await until(
      () => exitCode !== undefined || text().includes('"event":"started"'),
      120_000,
      () => `the hub to start (log: ${tail()})`,
    );
    if (exitCode !== undefined) throw new Error(`the hub exited (${exitCode}) while starting:\n${tail()}`);
  } catch (error) {
    await hub.stop();
    throw error;
  }
  return hub;
}

function summarizeLog(lines: readonly HubLogLine[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const key = line.event === 'message' ? `${String(line.type)}:${String(line.outcome)}` : line.event;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
}

const problems = (lines: readonly HubLogLine[]) =>
  lines.filter(
    (l) =>
      [
        'transient-failure',
        'consumer.batch-failed',
        'outbox-error',
        'inbox.receiver-error',
        'sender.link-lost',
      ].includes(l.event) ||
      (l.event === 'message' && l.outcome === 'rejected'),
  );

// --- protocol messages -------------------------------------------------------------------------------------------------

function toWire(fields: Awaited<ReturnType<typeof sealMessage>>, userId: string): Message {
  const body = fields.body;
  return {
    ...fields,
    user_id: Buffer.from(userId),
    body: rhea.message.data_section(Buffer.from(body.buffer, body.byteOffset, body.byteLength)) as unknown,
  } as unknown as Message;
}

async function seal(
  from: string,
  properties: ApplicationProperties,
  payload: (messageId: string, timestamp: Date) => ReturnType<typeof buildDirectoryPublish>,
  signer: CmsSigner,
): Promise<{ id: string; message: Message; bytes: number }> {
  const messageId = newMessageId();
  const creationTime = new Date();
  const fields = await sealMessage({
    messageId,
    creationTime,
    userId: from,
    properties,
    payload: payload(messageId, creationTime),
    signer,
  });
  return { id: messageId, message: toWire(fields, from), bytes: fields.body.byteLength };
}

const receiptFor = (messageId: string, outcome?: string) => (m: Arrived) =>
  m.type === 'receipt' &&
  m.correlationId === messageId &&
  (outcome === undefined || m.properties.rtsReceipt === outcome);

async function register(endpoint: BenchEndpoint, clinic: TestIdentity): Promise<void> {
  const id = endpoint.id;
  const sealed = await seal(
    id,
    { rtsType: 'endpoint.register', rtsVersion: V, rtsSender: id },
    (messageId, timestamp) =>
      buildEndpointRegister(
        { messageId, timestamp, sender: id },
        { kind: 'clinic-system', name: `${id} system`, organization: `${id} Health` },
      ),
    clinic,
  );
  const receipt = endpoint.waitFor(receiptFor(sealed.id), `registration receipt of ${id}`);
  await sendAll(endpoint.sender, [sealed.message]);
  const r = await receipt;
  if (r.properties.rtsReceipt !== 'processed')
    throw new Error(`${id}: registration ${String(r.properties.rtsReceipt)} (${String(r.properties.rtsReason)})`);
}

async function publishDelta(endpoint: BenchEndpoint, clinic: TestIdentity, changes: DirectoryChange[]): Promise<void> {
  const id = endpoint.id;
  const sealed = await seal(
    id,
    {
      rtsType: 'directory.publish',
      rtsVersion: V,
      rtsSender: id,
      rtsDirectoryMode: 'delta',
      rtsBatchId: randomUUID(),
      rtsBatchIndex: 1,
      rtsBatchCount: 1,
    },
    (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: id }, { delta: changes }),
    clinic,
  );
  const receipt = endpoint.waitFor(receiptFor(sealed.id), `publish receipt of ${id}`);
  await sendAll(endpoint.sender, [sealed.message]);
  const r = await receipt;
  if (r.properties.rtsReceipt !== 'processed')
    throw new Error(`${id}: directory publish ${String(r.properties.rtsReceipt)} (${String(r.properties.rtsReason)})`);
}

const APPLICANT = 'clinic-b.dr-applicant';
const EXPERT = 'clinic-a.dr-expert';

/** Raw consult requests as clinic-b sends them: the hub routes by properties and never opens the body. */
function consults(count: number): Message[] {
  const userId = Buffer.from('clinic-b');
  return Array.from(
    { length: count },
    () =>
      ({
        message_id: newMessageId(),
        user_id: userId,
        creation_time: new Date(),
        durable: true,
        content_type: CONTENT_TYPES.authEnveloped,
        application_properties: {
          rtsType: 'consult.request',
          rtsVersion: V,
          rtsSender: 'clinic-b',
          rtsCase: randomUUID(),
          rtsFromPractitioner: APPLICANT,
          rtsToPractitioner: EXPERT,
          rtsSequence: 1,
        },
        body: rhea.message.data_section(randomBytes(1024)) as unknown,
      }) as unknown as Message,
  );
}

/** Bytes a process has caused to be written to storage so far (Linux), and its peak resident memory. */
const hubWrittenBytes = (pid: number | undefined) =>
  Number(/write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
/**
 * The CPU the machine's parties have used so far, in seconds: the broker's nodes, this process (the clinics, and the
 * bare forwarder when it runs), the hub's child if one runs. Taken around a timed phase, it says what a consult costs
 * each of them: every mode runs with the two cores full, so the CPU per consult of all of them sets its rate.
 */
const partiesCpuS = (hubPid?: number) => {
  const own = process.cpuUsage();
  return {
    broker: brokerCpuSeconds(),
    bench: (own.user + own.system) / 1e6,
    hub: hubPid ? processCpuSeconds(hubPid) : 0,
  };
};
type PartiesCpu = ReturnType<typeof partiesCpuS>;
const cpuPerConsult = (before: PartiesCpu, after: PartiesCpu, messages: number) =>
  Object.fromEntries(
    Object.entries(after).map(([party, s]) => [party, ((s - before[party as keyof PartiesCpu]) * 1e6) / messages]),
  ) as PartiesCpu;
const fmtParties = (cpu: PartiesCpu) =>
  `broker ${cpu.broker.toFixed(0)}, bench process ${cpu.bench.toFixed(0)}${cpu.hub ? `, hub ${cpu.hub.toFixed(0)}` : ''}`;

const hubPeakRssMb = (pid: number | undefined) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

// --- hub-routing -------------------------------------------------------------------------------------------------------

interface RoutingRates {
  readonly bare: number[];
  /** The bare forwarder answering each message with a signed receipt of the hub's receipt's size. */
  readonly bareReceipts: number[];
  readonly ours: number[];
}

interface RoutingResult {
  readonly rate: number;
  readonly ms: number;
  readonly sentMs: number;
  /** Copies of a message (or of its receipt) received more than once. */
  readonly duplicates: number;
  readonly receipts?: { delivered: number; other: number };
}

/** Sends `messages` from clinic-b; resolves when clinic-a has received every one of them (and, for the hub, receipts). */
async function routeOnce(
  a: BenchEndpoint,
  b: BenchEndpoint,
  messages: readonly Message[],
  expectReceipts: boolean,
): Promise<RoutingResult> {
  const ids = new Set(messages.map((m) => String(m.message_id)));
  const seen = new Set<string>();
  const receiptsSeen = new Set<string>();
  let received = 0;
  let duplicates = 0;
  let lastAt = 0;
  let delivered = 0;
  let other = 0;
  const offA = a.listen((m) => {
    if (!ids.has(m.messageId)) return;
    if (seen.has(m.messageId)) {
      duplicates += 1;
      return;
    }
    seen.add(m.messageId);
    received += 1;
    lastAt = m.at;
  });
  const offB = b.listen((m) => {
    if (m.type !== 'receipt' || !m.correlationId || !ids.has(m.correlationId)) return;
    if (receiptsSeen.has(m.correlationId)) {
      duplicates += 1;
      return;
    }
    receiptsSeen.add(m.correlationId);
    if (m.properties.rtsReceipt === 'delivered') delivered += 1;
    else {
      other += 1;
      if (other <= 3) console.log(`    receipt ${String(m.properties.rtsReceipt)} ${String(m.properties.rtsReason)}`);
    }
  });
  try {
    const started = performance.now();
    await sendAll(b.sender, messages);
    const sentMs = performance.now() - started;
    await until(
      () => received >= ids.size || other > 0,
      TIMEOUT_MS,
      () => `clinic-a to receive ${ids.size} consults (got ${received})`,
      () => `clinic-a received ${received}/${ids.size}, receipts delivered ${delivered}`,
    );
    if (other > 0) throw new Error(`the hub refused ${other} consult(s); see the receipts above`);
    const ms = lastAt - started;
    if (expectReceipts) {
      await until(
        () => delivered + other >= ids.size,
        60_000,
        () => `${ids.size} receipts on clinic-b (got ${delivered} delivered, ${other} other)`,
      ).catch((error: unknown) => console.log(`    ${(error as Error).message}`));
    }
    return {
      rate: ids.size / (ms / 1000),
      ms,
      sentMs,
      duplicates,
      ...(expectReceipts && { receipts: { delivered, other } }),
    };
  } finally {
    offA();
    offB();
  }
}

async function benchRouting(
  dir: string,
  region: TestRegion,
  clinics: Record<string, TestIdentity>,
  a: BenchEndpoint,
  b: BenchEndpoint,
): Promise<RoutingRates> {
  console.log('');
  console.log(
    `hub-routing: ${MESSAGES} consult.request of 1024 bytes, clinic-b → uplink → clinic-a's downlink; ${RUNS} run(s), each bare (hub stopped), bare answering with receipts, then ours (hub child)`,
  );
  let receiptBytes = 0;
  const database = await newDatabase(dir, 'routing');
  // Registration and a directory in which the applicant is reached at clinic-b and the expert at clinic-a.
  let hub = await startHubChild(dir, region, 'hub-routing-setup', database);
  try {
    await register(a, clinics['clinic-a']!);
    await register(b, clinics['clinic-b']!);
    const expert: TestPractitioner = await region.practitioner(EXPERT);
    const applicant: TestPractitioner = await region.practitioner(APPLICANT);
    await publishDelta(a, clinics['clinic-a']!, [
      { upsert: hospital('clinic-a.riverside', 'Riverside Hospital') },
      ...expertEntry(expert, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-a'] }).map((upsert) => ({
        upsert,
      })),
    ]);
    await publishDelta(b, clinics['clinic-b']!, [
      { upsert: hospital('clinic-b.hillview', 'Hillview Hospital') },
      ...expertEntry(applicant, { organizationId: 'clinic-b.hillview', endpoints: ['clinic-b'] }).map((upsert) => ({
        upsert,
      })),
    ]);
    const offReceipts = b.listen((m) => {
      if (m.type === 'receipt')
        receiptBytes = Math.max(receiptBytes, (bodyBytes(m.message.body) as Uint8Array).byteLength);
    });
    await routeOnce(a, b, consults(10), true).finally(offReceipts);
    console.log(
      `  setup: clinic-a and clinic-b registered; directory: ${EXPERT} at clinic-a, ${APPLICANT} at clinic-b; a test consult routed`,
    );
  } finally {
    await hub.stop();
  }

  console.log(`  the hub's delivered receipt: ${receiptBytes} bytes; the bare forwarder's receipts are as large`);
  const bare: number[] = [];
  const bareReceipts: number[] = [];
  const ours: number[] = [];
  const bareRun = async (receipts?: BareReceipts) => {
    const forwarder = await startForwarder('clinic-a', receipts);
    try {
      await routeOnce(a, b, consults(WARMUP), receipts !== undefined);
      const cpuBefore = partiesCpuS();
      const result = await routeOnce(a, b, consults(MESSAGES), receipts !== undefined);
      return { ...result, cpu: cpuPerConsult(cpuBefore, partiesCpuS(), MESSAGES) };
    } finally {
      forwarder.close();
      await sleep(500);
      await purgeTestQueues(broker);
    }
  };
  for (let run = 1; run <= RUNS; run++) {
    await purgeTestQueues(broker);
    const bareResult = await bareRun();
    const receiptsResult = await bareRun({ to: 'clinic-b', bytes: receiptBytes });

    const diagnostics = diagnosticsFor('routing', run);
    hub = await startHubChild(dir, region, `hub-routing-${run}`, database, diagnostics);
    let ourResult: RoutingResult;
    let ourCpu: PartiesCpu;
    let hubDisk: { perMessage: number; peakRssMb: number; cpuUsPerMessage: number };
    try {
      await routeOnce(a, b, consults(WARMUP), true); // proves the hub consumes, and warms it up
      const writtenBefore = hubWrittenBytes(hub.pid);
      const partiesBefore = partiesCpuS(hub.pid);
      const window = { fromUs: hrUs(), toUs: 0 };
      ourResult = await routeOnce(a, b, consults(MESSAGES), true);
      window.toUs = hrUs();
      ourCpu = cpuPerConsult(partiesBefore, partiesCpuS(hub.pid), MESSAGES);
      hubDisk = {
        perMessage: (hubWrittenBytes(hub.pid) - writtenBefore) / MESSAGES,
        peakRssMb: hubPeakRssMb(hub.pid),
        cpuUsPerMessage: ourCpu.hub,
      };
      if (diagnostics.cpuProfDir)
        writeFileSync(
          join(diagnostics.cpuProfDir, 'window.json'),
          JSON.stringify({ ...window, phase: 'routing', pid: hub.pid }),
        );
    } finally {
      await hub.stop();
    }
    const lines = hub.log();
    const logSummary = summarizeLog(lines);
    for (const p of problems(lines).slice(0, 5)) console.log(`    hub: ${JSON.stringify(p)}`);
    bare.push(bareResult.rate);
    bareReceipts.push(receiptsResult.rate);
    ours.push(ourResult.rate);
    console.log(
      `  run ${run}: bare ${fmtRate(bareResult.rate)} msg/s (${secs(bareResult.ms)} s, all sent by ${secs(bareResult.sentMs)} s)` +
        ` | bare with receipts ${fmtRate(receiptsResult.rate)} msg/s (${secs(receiptsResult.ms)} s, delivered receipts ${receiptsResult.receipts!.delivered}/${MESSAGES})` +
        ` | ours ${fmtRate(ourResult.rate)} msg/s (${secs(ourResult.ms)} s, all sent by ${secs(ourResult.sentMs)} s);` +
        ` delivered receipts on clinic-b ${ourResult.receipts!.delivered}/${MESSAGES}${ourResult.receipts!.other ? `, other ${ourResult.receipts!.other}` : ''}` +
        `; duplicates received: bare ${bareResult.duplicates + receiptsResult.duplicates}, ours ${ourResult.duplicates}`,
    );
    console.log(`    hub log (incl. ${WARMUP} warm-up): ${logSummary}`);
    console.log(
      `    CPU per consult, µs (/proc): bare: ${fmtParties(bareResult.cpu)} | bare with receipts: ${fmtParties(receiptsResult.cpu)} | ours: ${fmtParties(ourCpu)}`,
    );
    console.log(
      `    hub process: ${hubDisk.cpuUsPerMessage.toFixed(0)} µs of CPU per consult (/proc/PID/stat), ${(hubDisk.perMessage / 1024).toFixed(2)} KiB written to disk per consult of 1 KiB (its database, /proc/PID/io), peak RSS ${hubDisk.peakRssMb.toFixed(0)} MB`,
    );
    await purgeTestQueues(broker);
  }
  await dropDatabase(database);
  return { bare, bareReceipts, ours };
}

// --- hub-sync ----------------------------------------------------------------------------------------------------------

interface SealedSet {
  readonly messages: Message[];
  readonly ids: string[];
  readonly bytes: number;
}

async function sealDirectory(clinic: TestIdentity, experts: readonly TestPractitioner[]): Promise<SealedSet> {
  const hospitals = Array.from({ length: HOSPITALS }, (_, i) =>
    hospital(`clinic-a.hospital-${i + 1}`, `Hospital ${i + 1}`),
  );
  const batchCount = Math.ceil(EXPERTS / ROLES_PER_BATCH);
  const batchId = randomUUID();
  const messages: Message[] = [];
  const ids: string[] = [];
  let bytes = 0;
  for (let index = 0; index < batchCount; index++) {
    const resources: DirectoryResource[] = index === 0 ? [...hospitals] : [];
    for (let n = index * ROLES_PER_BATCH; n < Math.min(EXPERTS, (index + 1) * ROLES_PER_BATCH); n++) {
      resources.push(
        ...expertEntry(experts[n]!, {
          organizationId: hospitals[n % hospitals.length]!.id!,
          endpoints: ['clinic-a'],
          family: `Expert${n}`,
        }),
      );
    }
    const sealed = await seal(
      'clinic-a',
      {
        rtsType: 'directory.publish',
        rtsVersion: V,
        rtsSender: 'clinic-a',
        rtsDirectoryMode: 'full',
        rtsBatchId: batchId,
        rtsBatchIndex: index + 1,
        rtsBatchCount: batchCount,
      },
      (messageId, timestamp) =>
        buildDirectoryPublish({ messageId, timestamp, sender: 'clinic-a' }, { full: resources }),
      clinic,
    );
    messages.push(sealed.message);
    ids.push(sealed.id);
    bytes += sealed.bytes;
  }
  return { messages, ids, bytes };
}

async function syncBare(set: SealedSet, a: BenchEndpoint, b: BenchEndpoint): Promise<number> {
  const forwarder = await startForwarder('clinic-b');
  const ids = new Set(set.ids);
  let received = 0;
  let lastAt = 0;
  const off = b.listen((m) => {
    if (!ids.has(m.messageId)) return;
    received += 1;
    lastAt = m.at;
  });
  try {
    const started = performance.now();
    await sendAll(a.sender, set.messages);
    await until(
      () => received >= ids.size,
      TIMEOUT_MS,
      () => `clinic-b to receive ${ids.size} forwarded publishes (got ${received})`,
      () => `clinic-b received ${received}/${ids.size} forwarded publishes`,
    );
    return lastAt - started;
  } finally {
    off();
    forwarder.close();
  }
}

interface SyncResult {
  readonly ms: number;
  readonly sentMs: number;
  readonly updates: number;
  readonly versions: string;
  readonly entries: { roles: number; practitioners: number; organizations: number; retired: number };
  readonly receipts: number;
  readonly firstUpdateMs: number;
  /** From the hub's log: when batch k's transaction committed (ms after the first send). */
  readonly batchCommittedMs: number[];
  readonly updatesOnA: number;
  readonly verifyMs: number;
  readonly duplicates: number;
}

async function syncOurs(
  set: SealedSet,
  region: TestRegion,
  a: BenchEndpoint,
  b: BenchEndpoint,
  hub: HubChild,
): Promise<SyncResult> {
  const ids = new Set(set.ids);
  const trust = {
    anchors: [region.ca.certificate],
    crls: pemToDerAll(readFileSync(region.files.crl, 'utf8'), PEM_LABELS.crl),
  };
  const hubCertificate = Buffer.from(region.hub.certificate);
  const entries = { roles: 0, practitioners: 0, organizations: 0, retired: 0 };
  const versions = new Set<number>();
  let updates = 0;
  let firstUpdateAt = 0;
  let lastCountedAt = 0;
  let verifyMs = 0;
  let failure: Error | undefined;
  let receipts = 0;
  let updatesOnA = 0;

  // Updates are opened one at a time, off the receive path: arrival times are taken when they arrive.
  const toOpen: Arrived[] = [];
  let opening = false;
  const openNext = async () => {
    if (opening) return;
    opening = true;
    try {
      while (toOpen.length > 0) {
        const m = toOpen.shift()!;
        const t0 = performance.now();
        const verified = await verify(bodyBytes(m.message.body) as Uint8Array, trust, { maxBytes: 64 * 1024 * 1024 });
        if (!hubCertificate.equals(Buffer.from(verified.signer.certificate)))
          throw new Error('a directory update not signed by the hub');
        const payload = JSON.parse(Buffer.from(verified.content).toString('utf8')) as {
          entry: { resource: { entry: { resource?: { resourceType: string }; request?: { method: string } }[] } }[];
        };
        for (const e of payload.entry[1]!.resource.entry) {
          if (e.request?.method === 'DELETE') entries.retired += 1;
          else if (e.resource?.resourceType === 'PractitionerRole') entries.roles += 1;
          else if (e.resource?.resourceType === 'Practitioner') entries.practitioners += 1;
          else if (e.resource?.resourceType === 'Organization') entries.organizations += 1;
        }
        lastCountedAt = Math.max(lastCountedAt, m.at);
        verifyMs += performance.now() - t0;
      }
    } catch (error) {
      failure = error as Error;
    } finally {
      opening = false;
    }
  };
  const updateIds = new Set<string>();
  let duplicates = 0;
  const offB = b.listen((m) => {
    if (m.type !== 'directory.update') return;
    if (updateIds.has(m.messageId)) {
      duplicates += 1;
      return;
    }
    updateIds.add(m.messageId);
    updates += 1;
    versions.add(Number(m.properties.rtsDirectoryVersion));
    if (!firstUpdateAt) firstUpdateAt = m.at;
    toOpen.push(m);
    void openNext();
  });
  const offA = a.listen((m) => {
    if (m.type === 'directory.update') updatesOnA += 1;
    if (m.type !== 'receipt' || !m.correlationId || !ids.has(m.correlationId)) return;
    if (m.properties.rtsReceipt === 'processed') receipts += 1;
    else
      failure ??= new Error(
        `the hub ${String(m.properties.rtsReceipt)} a publish batch: ${String(m.properties.rtsReason)}`,
      );
  });
  const complete = () =>
    entries.roles >= EXPERTS && entries.practitioners >= EXPERTS && entries.organizations >= HOSPITALS;
  try {
    const startedEpoch = Date.now();
    const started = performance.now();
    await sendAll(a.sender, set.messages);
    const sentMs = performance.now() - started;
    await until(
      () => complete() || failure !== undefined,
      TIMEOUT_MS,
      () =>
        `clinic-b to receive the directory updates (updates ${updates}, roles ${entries.roles}/${EXPERTS}, batch receipts ${receipts}/${ids.size})`,
      () =>
        `batch receipts on clinic-a ${receipts}/${ids.size}, updates on clinic-b ${updates} (roles counted ${entries.roles}/${EXPERTS})`,
    );
    if (failure) throw failure;
    const index = new Map(set.ids.map((id, i) => [id, i]));
    const batchCommittedMs: number[] = [];
    for (const line of hub.log()) {
      const i = line.event === 'message' && typeof line.messageId === 'string' ? index.get(line.messageId) : undefined;
      if (i !== undefined) batchCommittedMs[i] = Date.parse(line.at) - startedEpoch;
    }
    const sorted = [...versions].sort((x, y) => x - y);
    return {
      ms: lastCountedAt - started,
      sentMs,
      updates,
      versions: sorted.length ? `${sorted[0]}..${sorted[sorted.length - 1]} (${sorted.length} distinct)` : 'none',
      entries: { ...entries },
      receipts,
      firstUpdateMs: firstUpdateAt - started,
      batchCommittedMs,
      updatesOnA,
      verifyMs,
      duplicates,
    };
  } finally {
    offA();
    offB();
  }
}

async function benchSync(
  dir: string,
  region: TestRegion,
  clinics: Record<string, TestIdentity>,
  a: BenchEndpoint,
  b: BenchEndpoint,
): Promise<{ bare: number[]; ours: number[] }> {
  const batchCount = Math.ceil(EXPERTS / ROLES_PER_BATCH);
  console.log('');
  console.log(
    `hub-sync: full directory of ${EXPERTS} experts (Practitioner + PractitionerRole each) and ${HOSPITALS} hospitals from clinic-a, ` +
      `${batchCount} directory.publish batches of ≤${ROLES_PER_BATCH} roles, one rtsBatchId; ${RUNS} run(s), each bare then ours (fresh hub database)`,
  );
  const t0 = performance.now();
  const experts = await expertPractitioners(
    region,
    Array.from({ length: EXPERTS }, (_, n) => `clinic-a.dr-${String(n).padStart(6, '0')}`),
    POOL,
  );
  console.log(
    `  certificates: ${EXPERTS * 2}, each naming its expert (the hub refuses any other), over ${POOL} key pairs, made in ${secs(performance.now() - t0)} s (bench/expert-certificates.ts); the hub checks every one`,
  );

  const bare: number[] = [];
  const ours: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const sealStart = performance.now();
    const set = await sealDirectory(clinics['clinic-a']!, experts);
    console.log(
      `  run ${run}: sealed ${set.messages.length} publish messages (${mb(set.bytes)} MiB of CMS bodies, signed by clinic-a's system certificate) in ${secs(performance.now() - sealStart)} s, before timing`,
    );

    await purgeTestQueues(broker);
    const bareMs = await syncBare(set, a, b);
    await sleep(500);
    await purgeTestQueues(broker);

    const database = await newDatabase(dir, `sync-${run}`);
    const diagnostics = diagnosticsFor('sync', run);
    const hub = await startHubChild(dir, region, `hub-sync-${run}`, database, diagnostics);
    let result: SyncResult;
    try {
      await register(a, clinics['clinic-a']!);
      await register(b, clinics['clinic-b']!);
      await sleep(1000); // the registration snapshots drain
      const window = { fromUs: hrUs(), toUs: 0 };
      result = await syncOurs(set, region, a, b, hub);
      window.toUs = hrUs();
      if (diagnostics.cpuProfDir)
        writeFileSync(
          join(diagnostics.cpuProfDir, 'window.json'),
          JSON.stringify({ ...window, phase: 'sync', pid: hub.pid }),
        );
    } finally {
      await hub.stop();
    }
    const lines = hub.log();
    for (const p of problems(lines).slice(0, 5)) console.log(`    hub: ${JSON.stringify(p)}`);
    await dropDatabase(database);
    bare.push(bareMs);
    ours.push(result.ms);
    const committed = result.batchCommittedMs;
    const n = committed.length;
    console.log(
      `    bare ${secs(bareMs)} s | ours ${secs(result.ms)} s (${fmtRate(EXPERTS / (result.ms / 1000))} experts/s)`,
    );
    console.log(
      `    ours timeline (s after first send): all ${set.messages.length} publishes accepted by the broker ${secs(result.sentMs)};` +
        ` hub committed batch 1 ${n ? secs(committed[0] ?? NaN) : '?'}, batch ${n - 1} ${n > 1 ? secs(committed[n - 2] ?? NaN) : '?'} (each applied and fanned out as it came),` +
        ` batch ${n} ${n ? secs(committed[n - 1] ?? NaN) : '?'} (the last: applied, then what the list no longer names retired);` +
        ` first update on clinic-b ${secs(result.firstUpdateMs)}, last ${secs(result.ms)}`,
    );
    console.log(
      `    clinic-b: ${result.updates} directory.update (${result.duplicates} duplicate copies), versions ${result.versions}; entries counted ${result.entries.roles} PractitionerRole, ` +
        `${result.entries.practitioners} Practitioner, ${result.entries.organizations} Organization, ${result.entries.retired} retired ` +
        `(opened with cms verify, hub as signer, ${secs(result.verifyMs)} s of bench CPU); clinic-a: ${result.receipts}/${set.messages.length} processed receipts, ${result.updatesOnA} updates`,
    );
    console.log(`    hub log: ${summarizeLog(lines)}`);
    await purgeTestQueues(broker);
  }
  return { bare, ours };
}

// --- main --------------------------------------------------------------------------------------------------------------

async function versions(): Promise<string> {
  const parts: string[] = [];
  try {
    const overview = (await (await api('overview')).json()) as { rabbitmq_version?: string; erlang_version?: string };
    parts.push(
      `RabbitMQ ${overview.rabbitmq_version ?? '?'} (Erlang ${overview.erlang_version ?? '?'}, AMQP 1.0 plugin, quorum queues, one private node on loopback)`,
    );
  } catch {
    parts.push('RabbitMQ (version unknown)');
  }
  const pkg = (name: string) =>
    (
      JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string;
      }
    ).version;
  if (DATABASE === 'embedded')
    parts.push(
      `database: embedded PGlite ${pkg('@electric-sql/pglite')} (in the hub process, data dir in ${tmpdir()})`,
    );
  else {
    const client = new pg.Client({ connectionString: postgres!.url });
    await client.connect();
    const row = (await client.query<{ server_version: string }>('show server_version')).rows[0];
    await client.end();
    parts.push(
      `database: PostgreSQL ${row?.server_version ?? '?'} (private server on loopback, a fresh database per hub)`,
    );
  }
  parts.push(`rhea ${pkg('rhea')}`);
  return parts.join('; ');
}

/** The hub code measured: the commit, and whether hub/, shared/ or transport/ differ from it. */
function codeRevision(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' }).trim();
    const head = git('log', '-1', '--format=%h %cd %s', '--date=format:%Y-%m-%d %H:%M');
    const dirty = git('status', '--porcelain', '--', 'hub', 'shared', 'transport');
    return `${head.slice(0, 100)}${dirty ? ` + uncommitted changes in ${dirty.split('\n').length} file(s) of hub/shared/transport` : ' (hub/shared/transport as committed)'}`;
  } catch {
    return 'unknown (no git)';
  }
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `machine: ${platform()} ${release()}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}`,
  );
  console.log(`versions: ${await versions()}`);
  const revision = codeRevision();
  console.log(`code: ${revision}`);
  console.log(
    `options: runs=${RUNS} messages=${MESSAGES} experts=${EXPERTS} practitioner pool=${POOL} hospitals=${HOSPITALS} credit=${CREDIT}; the hub runs as a child process (node hub/main.ts), the broker, the hub and this bench share the machine`,
  );
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  if (SQL_TRACE_DIR) mkdirSync(SQL_TRACE_DIR, { recursive: true });
  if (PROFILE_DIR || SQL_TRACE_DIR)
    console.log(
      `diagnostics (slow the hub down) in the ${PROFILE_PHASE} phase:${PROFILE_DIR ? ` --cpu-prof of run 1's hub in ${PROFILE_DIR}` : ''}${SQL_TRACE_DIR ? ` PGlite statement trace of each run's hub in ${SQL_TRACE_DIR}` : ''}`,
    );

  const dir = mkdtempSync(join(tmpdir(), 'rts-bench-hub-'));
  const endpoints: BenchEndpoint[] = [];
  let routing: RoutingRates | undefined;
  let sync: { bare: number[]; ours: number[] } | undefined;
  try {
    const region = await createTestRegion(join(dir, 'pki'));
    const clinics: Record<string, TestIdentity> = {
      'clinic-a': await region.clinic('clinic-a'),
      'clinic-b': await region.clinic('clinic-b'),
    };
    await purgeTestQueues(broker);
    const a = await openEndpoint('clinic-a');
    const b = await openEndpoint('clinic-b');
    endpoints.push(a, b);
    if (ONLY !== 'sync') routing = await benchRouting(dir, region, clinics, a, b);
    await purgeTestQueues(broker);
    if (ONLY !== 'routing') sync = await benchSync(dir, region, clinics, a, b);
  } finally {
    for (const child of [...children]) {
      child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      if (children.has(child)) child.kill('SIGKILL');
    }
    for (const endpoint of endpoints) endpoint.close();
    if (opts['keep-logs']) console.log(`logs kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  console.log('');
  const revisionAfter = codeRevision();
  if (revisionAfter !== revision) console.log(`WARNING: the code changed during the bench; now: ${revisionAfter}`);
  const line = (name: string, values: number[], unit: (v: number) => string) =>
    `  ${name.padEnd(5)} ${unit(Math.min(...values))} / ${unit(median(values))} / ${unit(Math.max(...values))}`;
  if (routing) {
    console.log(`hub-routing (${MESSAGES} messages), msg/s min / median / max:`);
    console.log(line('bare', routing.bare, fmtRate));
    console.log(line('bare with receipts', routing.bareReceipts, fmtRate));
    console.log(line('ours', routing.ours, fmtRate));
  }
  if (sync) {
    console.log(`hub-sync (${EXPERTS} experts), seconds min / median / max:`);
    console.log(line('bare', sync.bare, (v) => secs(v)));
    console.log(line('ours', sync.ours, (v) => secs(v)));
  }
  if (routing) {
    // What the protocol's receipt alone costs the bare path, and ours against the bare path that pays it too.
    const ratio = (x: number[], y: number[]) => (median(x) / median(y)).toFixed(2);
    console.log(
      `hub-routing: receipts_bare_ratio=${ratio(routing.bareReceipts, routing.bare)} with_receipts_ratio=${ratio(routing.ours, routing.bareReceipts)}`,
    );
    console.log(`hub-routing: ratio=${ratio(routing.ours, routing.bare)}`);
  }
  if (sync)
    console.log(
      `hub-sync-100k: seconds=${(median(sync.ours) / 1000).toFixed(2)} ratio=${(median(sync.ours) / median(sync.bare)).toFixed(2)}`,
    );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`hub bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    killChildren();
    process.exit(1);
  },
);
