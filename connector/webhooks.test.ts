import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteDatabase } from '../transport/index.ts';
import { openEventFeed, type EventFeed, type FeedEvent } from './event-feed.ts';
import { openTestStore } from './testing/test-store.ts';
import {
  startWebhooks,
  verifyWebhookSignature,
  type WebhookConfig,
  type WebhookLogEvent,
  type WebhookOptions,
  type Webhooks,
} from './webhooks.ts';

const SECRET = 'whsec-0123456789abcdef';
const FEED_EVENT_FIELDS = new Set([
  'cursor',
  'type',
  'at',
  'caseId',
  'messageId',
  'publicationId',
  'messageType',
  'state',
  'reason',
]);

interface Received {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number | 'no answer';
}

let dir: string;
let db: SqliteDatabase;
let feed: EventFeed;
let server: Server;
let url: string;
let received: Received[];
/** The status to answer the i-th request with (0-based), or 'no answer' to leave it hanging. */
let answer: (i: number) => number | 'no answer';
let hooks: Webhooks | undefined;
let logged: WebhookLogEvent[];

const start = (
  config: Partial<WebhookConfig> = {},
  backoff: WebhookOptions['backoff'] = { initialMs: 20, maxMs: 100 },
) => {
  hooks = startWebhooks({
    db,
    feed,
    hooks: [{ id: 'erp', url, secret: SECRET, ...config }],
    log: (e) => logged.push(e),
    backoff,
  });
  return hooks;
};
const insertPublication = (id: string) =>
  db.prepare(`insert into connector_publications values (?, 'full', 'queued', 1, 20, null, null, 1, 1)`).run(id);
const updatePublication = (id: string, state: string) =>
  db.prepare('update connector_publications set state = ? where publication_id = ?').run(state, id);
/** A commit, then the connector's notify(). */
const publish = (id: string) => {
  insertPublication(id);
  feed.notify();
};
const setState = (id: string, state: string) => {
  updatePublication(id, state);
  feed.notify();
};
const eventsOf = (r: Received) => (JSON.parse(r.body) as { events: FeedEvent[] }).events;
const delivered = () =>
  received
    .filter((r) => r.status === 200)
    .flatMap(eventsOf)
    .map((e) => e.cursor);

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 5000; !condition();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-hooks-'));
  ({ db, feed } = openTestStore(join(dir, 'store.db')));
  received = [];
  logged = [];
  answer = () => 200;
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const status = answer(received.length);
      received.push({ method: req.method, url: req.url, headers: req.headers, body, status });
      if (status !== 'no answer')
        res.writeHead(status, status >= 300 && status < 400 ? { Location: '/elsewhere' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rts-events`;
});
afterEach(async () => {
  await hooks?.stop();
  hooks = undefined;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  feed.dispose();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('webhooks', () => {
  it('posts the new events as signed JSON carrying only the feed fields, and moves the cursor on', async () => {
    publish('pub-0'); // before the hook existed: not sent
    start();
    db.transaction(() => {
      insertPublication('pub-1');
      updatePublication('pub-1', 'rejected');
    })();
    feed.notify();
    await until(() => delivered().length === 2, 'the delivery');
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['x-rts-delivery']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const signature = String(request!.headers['x-rts-signature']);
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, signature, request!.body)).toBe(true);
    expect(verifyWebhookSignature(SECRET, signature, Buffer.from(request!.body))).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123', signature, request!.body)).toBe(false);
    expect(verifyWebhookSignature(SECRET, signature, request!.body.replace('pub-1', 'pub-9'))).toBe(false);
    expect(verifyWebhookSignature(SECRET, signature, request!.body, 300, Date.now() / 1000 + 301)).toBe(false);
    expect(
      verifyWebhookSignature(
        SECRET,
        signature.replace(/v1=(.)/, (_, c: string) => `v1=${c === '0' ? '1' : '0'}`),
        request!.body,
      ),
    ).toBe(false);
    expect(verifyWebhookSignature(SECRET, 'v1=' + signature.split('v1=')[1], request!.body)).toBe(false);

    expect(Object.keys(JSON.parse(request!.body) as object)).toEqual(['events']);
    const events = eventsOf(request!);
    expect(events).toEqual(feed.read(1, 10));
    expect(events.map((e) => [e.cursor, e.type, e.state])).toEqual([
      [2, 'publication.queued', 'queued'],
      [3, 'publication.state', 'rejected'],
    ]);
    expect(events.flatMap(Object.keys).every((k) => FEED_EVENT_FIELDS.has(k))).toBe(true);
    await until(() => hooks!.status()[0]!.cursor === 3, 'the cursor');
    expect(hooks!.status()).toEqual([{ id: 'erp', url, cursor: 3, failures: 0 }]);
  });

  it('retries a refused batch with back-off until taken, then goes on in order, each event taken once', async () => {
    answer = (i) => (i === 0 ? 500 : 200);
    start();
    publish('pub-1');
    await until(() => received.length === 1, 'the first attempt');
    publish('pub-2'); // written during the back-off
    await until(() => delivered().length === 2, 'both events');
    expect(received.map((r) => [r.status, eventsOf(r).map((e) => e.cursor)])).toEqual([
      [500, [1]],
      [200, [1]],
      [200, [2]],
    ]);
    expect(received[1]!.headers['x-rts-delivery']).toBe(received[0]!.headers['x-rts-delivery']);
    expect(received[2]!.headers['x-rts-delivery']).not.toBe(received[0]!.headers['x-rts-delivery']);
    expect(logged).toContainEqual(
      expect.objectContaining({ event: 'webhook.failed', hook: 'erp', error: 'HTTP 500', failures: 1 }),
    );
    expect(logged).toContainEqual({ event: 'webhook.recovered', hook: 'erp', failures: 1 });
    await until(() => hooks!.status()[0]!.cursor === 2, 'the cursor');
    expect(hooks!.status()[0]).toEqual({ id: 'erp', url, cursor: 2, failures: 0 });
  });

  it('takes a redirect as a failure rather than follow it', async () => {
    answer = (i) => (i === 0 ? 307 : 200);
    start();
    publish('pub-1');
    await until(() => delivered().length === 1, 'the delivery');
    expect(received.map((r) => [r.status, r.method, r.url])).toEqual([
      [307, 'POST', '/rts-events'],
      [200, 'POST', '/rts-events'],
    ]);
    expect(logged).toContainEqual(expect.objectContaining({ event: 'webhook.failed', error: 'HTTP 307' }));
  });

  it('gives up on a request without answer after the timeout and sends it again', async () => {
    answer = (i) => (i === 0 ? 'no answer' : 200);
    start({}, { initialMs: 20, maxMs: 100, requestTimeoutMs: 100 });
    publish('pub-1');
    await until(() => delivered().length === 1, 'the delivery');
    expect(received.map((r) => r.status)).toEqual(['no answer', 200]);
    expect(logged).toContainEqual(
      expect.objectContaining({ event: 'webhook.failed', error: 'no answer within 0.1 s' }),
    );
  });

  it('shows a receiver that is down in its status, without losing the batch', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    start({ url: `http://127.0.0.1:${port}/down` }, { initialMs: 10_000, maxMs: 10_000 });
    publish('pub-1');
    await until(() => hooks!.status()[0]!.failures === 1, 'the failure');
    const [status] = hooks!.status();
    expect(status).toMatchObject({ cursor: 0, failures: 1, lastError: 'request failed: ECONNREFUSED' });
    expect(Date.parse(status!.nextAttemptAt!)).toBeGreaterThan(Date.now() + 4000);
  });

  it('keeps its cursor across a restart: acknowledged events are not sent again, those written while stopped are', async () => {
    start();
    publish('pub-1');
    await until(() => hooks!.status()[0]!.cursor === 1, 'the first delivery');
    await hooks!.stop();
    publish('pub-2');
    start();
    await until(() => hooks!.status()[0]!.cursor === 2, 'the second delivery');
    expect(received.map((r) => eventsOf(r).map((e) => e.publicationId))).toEqual([['pub-1'], ['pub-2']]);
    expect(db.prepare('select hook_id, cursor from connector_webhook_cursors').all()).toEqual([
      { hook_id: 'erp', cursor: 2 },
    ]);
  });

  it('says when pruned events were never sent, and starts again from the end of a store older than its cursor', async () => {
    start();
    publish('pub-1');
    await until(() => hooks!.status()[0]!.cursor === 1, 'the first delivery');
    await hooks!.stop();
    for (const id of ['pub-2', 'pub-3', 'pub-4']) publish(id);
    openEventFeed(db, { maxEvents: 1 }).prune();
    start();
    await until(() => hooks!.status()[0]!.cursor === 4, 'the delivery after the gap');
    expect(delivered()).toEqual([1, 4]);
    expect(logged).toContainEqual({ event: 'webhook.gap', hook: 'erp', missed: 2 });
    await hooks!.stop();
    db.prepare(`update connector_webhook_cursors set cursor = 9`).run();
    start();
    expect(logged).toContainEqual({ event: 'webhook.cursor-ahead', hook: 'erp', cursor: 9, last: 4 });
    publish('pub-5');
    await until(() => hooks!.status()[0]!.cursor === 5, 'the delivery after the restore');
    expect(delivered()).toEqual([1, 4, 5]);
  });

  it('sends only the chosen event types, and moves past the others', async () => {
    start({ types: ['publication.state'] });
    publish('pub-1');
    setState('pub-1', 'sent');
    await until(() => delivered().length === 1, 'the delivery');
    expect(eventsOf(received[0]!).map((e) => [e.cursor, e.type])).toEqual([[2, 'publication.state']]);
    publish('pub-2');
    await until(() => hooks!.status()[0]!.cursor === 3, 'the cursor past a skipped event');
    expect(received).toHaveLength(1);
  });

  it('stops during a request and during a back-off, leaving no timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    answer = () => 'no answer';
    start();
    publish('pub-1');
    await until(() => received.length === 1, 'the request');
    await hooks!.stop();
    answer = () => 500;
    start({}, { initialMs: 60_000, maxMs: 60_000 });
    await until(() => hooks!.status()[0]!.failures === 1, 'the back-off');
    const stopped = Date.now();
    await hooks!.stop();
    expect(Date.now() - stopped).toBeLessThan(1000);
    expect(timers()).toBeLessThanOrEqual(before);
    expect(hooks!.status()[0]!.cursor).toBe(0);
  });

  it('refuses at start plain HTTP to another computer and every other bad setting, naming each', async () => {
    const bad = [
      { id: 'erp', url: 'http://erp.clinic.example/hooks', secret: SECRET },
      { id: 'erp', url: 'ftp://127.0.0.1/x', secret: 'short' },
      { id: 'lab system', url: 'not a url', secret: SECRET, types: ['publication.state', 'case.opened'] },
    ];
    expect(() => startWebhooks({ db, feed, hooks: bad, log: () => undefined })).toThrow(
      'webhooks: hooks[0].url: plain HTTP to erp.clinic.example is refused: events and their signatures would travel in clear' +
        ' (http is only for a receiver on this computer: localhost, 127.0.0.1, ::1); use https;' +
        ' hooks[1].id: erp is used by an earlier hook; hooks[1].url: ftp: URLs are not supported; use https; hooks[1].secret: at least 16 characters;' +
        " hooks[2].id: 1-64 of A-Z, a-z, 0-9, '.', '_', '-'; hooks[2].url: not a URL; hooks[2].types[1]: case.opened is not an event type",
    );
    const good = startWebhooks({
      db,
      feed,
      hooks: [
        { id: 'erp', url: 'https://erp.clinic.example/hooks', secret: SECRET },
        { id: 'lab', url: 'http://[::1]:8080/', secret: SECRET },
      ],
      log: () => undefined,
    });
    expect(good.status().map((s) => s.id)).toEqual(['erp', 'lab']);
    await good.stop();
  });
});
