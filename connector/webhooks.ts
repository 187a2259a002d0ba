import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { isLoopbackHost } from '../shared/broker/index.ts';
import { migrate, type SqliteDatabase } from '../transport/index.ts';
import { FEED_EVENT_TYPES, type EventFeed, type FeedEvent } from './event-feed.ts';

/**
 * Pushes the event feed to a clinic system's URLs: per hook, batches in feed order, each POSTed until a 2xx and only
 * then the hook's cursor moved on, in the store (at least once: a receiver de-duplicates by event cursor). A batch is
 * `{ "events": FeedEvent[] }`, so ids, types, states and reason codes only; the receiver reads details through the API.
 * Each POST is signed: `X-RTS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`, and carries
 * `X-RTS-Delivery: <uuid>`, the same for every attempt of one batch.
 */
export interface WebhookConfig {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  /** Only these event types are sent; the others are passed over (the cursor moves past them). Default: all. */
  readonly types?: readonly string[];
}

export interface WebhookLogEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface WebhookStatus {
  readonly id: string;
  readonly url: string;
  /** The last event the receiver acknowledged (or passed over by type). */
  readonly cursor: number;
  /** Failed attempts since the last delivery. */
  readonly failures: number;
  readonly nextAttemptAt?: string;
  readonly lastError?: string;
}

export interface Webhooks {
  /** Ends the waits, back-offs and requests under way; resolves when every hook has stopped. */
  stop(): Promise<void>;
  status(): WebhookStatus[];
}

export interface WebhookOptions {
  readonly db: SqliteDatabase;
  readonly feed: EventFeed;
  readonly hooks: readonly WebhookConfig[];
  /** Hook ids, HTTP statuses and error codes only: never bodies or URLs (a URL may hold a token). */
  readonly log: (event: WebhookLogEvent) => void;
  readonly now?: () => number;
  /** Retry delays: from `initialMs` (1 s), doubling up to `maxMs` (5 min); `requestTimeoutMs` (10 s) per POST. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly requestTimeoutMs?: number };
}

export const WEBHOOK_BATCH = 100;
export const MIN_WEBHOOK_SECRET_LENGTH = 16;
/** How long one wait on the feed lasts before it is read again (events written without notify() arrive by then). */
const WAIT_MS = 30_000;

const MIGRATIONS = [
  {
    version: 1,
    sql: 'create table connector_webhook_cursors (hook_id text primary key, cursor integer not null) without rowid;',
  },
];

const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const KNOWN_TYPES: ReadonlySet<string> = new Set(FEED_EVENT_TYPES);

function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol !== 'http:') return `${parsed.protocol} URLs are not supported; use https`;
  if (isLoopbackHost(parsed.hostname)) return undefined;
  return `plain HTTP to ${parsed.hostname} is refused: events and their signatures would travel in clear (http is only for a receiver on this computer: localhost, 127.0.0.1, ::1); use https`;
}

/** Every problem of the configuration, each naming its field. */
function configProblems(hooks: readonly WebhookConfig[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  hooks.forEach((hook, i) => {
    const at = `hooks[${i}]`;
    if (typeof hook.id !== 'string' || !ID_PATTERN.test(hook.id))
      problems.push(`${at}.id: 1-64 of A-Z, a-z, 0-9, '.', '_', '-'`);
    else if (seen.has(hook.id)) problems.push(`${at}.id: ${hook.id} is used by an earlier hook`);
    else seen.add(hook.id);
    const url = typeof hook.url === 'string' ? urlProblem(hook.url) : 'missing';
    if (url) problems.push(`${at}.url: ${url}`);
    if (typeof hook.secret !== 'string' || hook.secret.length < MIN_WEBHOOK_SECRET_LENGTH)
      problems.push(`${at}.secret: at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
    if (hook.types !== undefined) {
      if (!Array.isArray(hook.types) || hook.types.length === 0)
        problems.push(`${at}.types: a non-empty list of event types, or absent for all`);
      else
        (hook.types as readonly unknown[]).forEach((type, j) => {
          if (typeof type !== 'string' || !KNOWN_TYPES.has(type))
            problems.push(`${at}.types[${j}]: ${String(type)} is not an event type (${FEED_EVENT_TYPES.join(', ')})`);
        });
    }
  });
  return problems;
}

function sign(secret: string, t: number, body: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

/**
 * For receivers (and tests): whether `header` is a valid X-RTS-Signature of `rawBody` (the bytes as received, before
 * any JSON parsing) under `secret`, made within `toleranceSeconds` of now. Any v1 may match (a secret being changed).
 */
export function verifyWebhookSignature(
  secret: string,
  header: string,
  rawBody: string | Uint8Array,
  toleranceSeconds = 300,
  nowSeconds = Date.now() / 1000,
): boolean {
  let t: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = sign(secret, t, rawBody);
  return signatures.some((s) => timingSafeEqual(s, expected));
}

/** An error's code (ECONNREFUSED, …) rather than its message, which may quote the URL. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return `request failed: ${cause.code}`;
  return error instanceof Error ? error.name : 'request failed';
}

/** Resolves true after `ms`, or false as soon as `signal` aborts; its timer goes either way. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(slept);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

interface HookState {
  readonly hook: WebhookConfig;
  readonly types?: ReadonlySet<string>;
  cursor: number;
  failures: number;
  nextAttemptAt?: number;
  lastError?: string;
}

export function startWebhooks(options: WebhookOptions): Webhooks {
  const problems = configProblems(options.hooks);
  if (problems.length > 0) throw new Error(`webhooks: ${problems.join('; ')}`);
  const { db, feed, log } = options;
  const now = options.now ?? Date.now;
  const initialMs = options.backoff?.initialMs ?? 1000;
  const maxMs = options.backoff?.maxMs ?? 300_000;
  const requestTimeoutMs = options.backoff?.requestTimeoutMs ?? 10_000;
  migrate(db, 'connector-webhooks', MIGRATIONS);
  const readCursor = db.prepare<[string], { cursor: number }>(
    'select cursor from connector_webhook_cursors where hook_id = ?',
  );
  const saveCursor = db.prepare<[string, number]>(
    'insert into connector_webhook_cursors (hook_id, cursor) values (?, ?) on conflict (hook_id) do update set cursor = excluded.cursor',
  );

  const stopping = new AbortController();
  const signal = stopping.signal;
  const { last } = feed.range();
  const states = options.hooks.map((hook): HookState => {
    let cursor = readCursor.get(hook.id)?.cursor;
    // A new hook announces what happens from now on; what happened before is in the feed.
    if (cursor === undefined) saveCursor.run(hook.id, (cursor = last));
    else if (cursor > last) {
      // The store is older than the cursor (restored from a backup): the events after `last` will be new ones.
      log({ event: 'webhook.cursor-ahead', hook: hook.id, cursor, last });
      saveCursor.run(hook.id, (cursor = last));
    }
    return { hook, ...(hook.types && { types: new Set(hook.types) }), cursor, failures: 0 };
  });

  /** One POST; undefined when the receiver took it (2xx), else why not. Throws only when stopped. */
  async function post(hook: WebhookConfig, body: string, deliveryId: string): Promise<string | undefined> {
    const t = Math.floor(now() / 1000);
    const request = new AbortController();
    const timer = setTimeout(() => request.abort(), requestTimeoutMs);
    const onStop = () => request.abort();
    signal.addEventListener('abort', onStop, { once: true });
    try {
      const response = await fetch(hook.url, {
        method: 'POST',
        body,
        signal: request.signal,
        // A redirect is a failure: following it could leave https, or this computer.
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/json',
          'X-RTS-Delivery': deliveryId,
          'X-RTS-Signature': `t=${t},v1=${sign(hook.secret, t, body).toString('hex')}`,
        },
      });
      await response.body?.cancel();
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      if (signal.aborted) throw error;
      return request.signal.aborted ? `no answer within ${requestTimeoutMs / 1000} s` : describe(error);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
    }
  }

  /** Counts a failure and waits out its back-off; false when stopped meanwhile. */
  async function backOff(state: HookState, error: string): Promise<boolean> {
    state.failures += 1;
    state.lastError = error;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(state.failures - 1, 30));
    // Jitter: hooks failing together (the receiver down) do not all come back at the same moment.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    state.nextAttemptAt = now() + delay;
    log({ event: 'webhook.failed', hook: state.hook.id, error, failures: state.failures, retryInMs: delay });
    const slept = await sleep(delay, signal);
    delete state.nextAttemptAt;
    return slept;
  }

  /** Sends one batch until the receiver takes it; false when stopped first. */
  async function deliver(state: HookState, events: readonly FeedEvent[]): Promise<boolean> {
    const body = JSON.stringify({ events });
    const deliveryId = randomUUID();
    for (;;) {
      const error = await post(state.hook, body, deliveryId);
      if (error === undefined) break;
      if (!(await backOff(state, error))) return false;
    }
    if (state.failures > 0) log({ event: 'webhook.recovered', hook: state.hook.id, failures: state.failures });
    state.failures = 0;
    delete state.lastError;
    return true;
  }

  async function run(state: HookState): Promise<void> {
    while (!signal.aborted) {
      try {
        const events = await feed.wait(state.cursor, WAIT_MS, signal, WEBHOOK_BATCH);
        const newest = events.at(-1);
        if (!newest) continue;
        const { first } = feed.range();
        if (first !== undefined && state.cursor < first - 1)
          log({ event: 'webhook.gap', hook: state.hook.id, missed: first - 1 - state.cursor });
        const wanted = state.types ? events.filter((e) => state.types?.has(e.type)) : events;
        if (wanted.length > 0 && !(await deliver(state, wanted))) return;
        saveCursor.run(state.hook.id, newest.cursor);
        state.cursor = newest.cursor;
      } catch (error) {
        if (signal.aborted) return;
        // The store failed under us: try again later rather than end the hook.
        if (!(await backOff(state, error instanceof Error ? `store: ${error.message}` : 'store failed'))) return;
      }
    }
  }

  const running = states.map(run);
  return {
    async stop() {
      stopping.abort();
      await Promise.all(running);
    },
    status: () =>
      states.map((s) => ({
        id: s.hook.id,
        url: s.hook.url,
        cursor: s.cursor,
        failures: s.failures,
        ...(s.nextAttemptAt !== undefined && { nextAttemptAt: new Date(s.nextAttemptAt).toISOString() }),
        ...(s.lastError !== undefined && { lastError: s.lastError }),
      })),
  };
}
