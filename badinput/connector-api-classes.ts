import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestRegion } from '../testkit/index.ts';
import { writeConnectorFiles } from '../integration/testing/connector-harness.ts';
import { createMemoryVault } from '../main/node/index.ts';
import { createFreePortHost, freeLoopbackPort } from '../scripts/test-env/index.ts';
import { runConnector, type RunningConnector } from '../connector/index.ts';

/**
 * The bad-input classes of the clinic connector's HTTP API (issue 18): a real connector (its store, identity, core and
 * API) on a throw-away region PKI, its enrolment naming a loopback port nobody listens on, so that the broker link keeps
 * retrying while the API serves and nothing it accepts could leave. Each variant sends one bad request and must be
 * answered with its status and problem `code` (RFC 9457), naming the pointer, CSV line or field where there is one;
 * then a good request (GET /v1/state) must still be answered, and the outbox counts must not have moved: nothing
 * partial was queued.
 */
const CLINIC = 'clinic-c';
const COLE = `${CLINIC}.dr-cole`;
/** Small, so that the size refusals are cheap to reach; above the 200 KB of the deeply nested bodies, so that they are parsed. */
const MAX_REQUEST_BYTES = 256 * 1024;
const BIG_BODY_BYTES = 10 * 1024 * 1024;
/** A refusal of a body too large must come before this much of it was sent (the limit and a few pieces in flight). */
const LATE_ANSWER_BYTES = 1024 * 1024;
const ANSWER_TIMEOUT_MS = 20_000;

export interface ConnectorApiTarget {
  readonly connector: RunningConnector;
  readonly port: number;
  readonly token: string;
  stop(): Promise<void>;
}

export async function startConnectorApiTarget(): Promise<ConnectorApiTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'rts-badinput-connector-'));
  try {
    const region = await createTestRegion(join(dir, 'pki'));
    const files = await writeConnectorFiles({
      region,
      // Nobody listens there: the connector stays offline and keeps retrying.
      brokerHosts: [await createFreePortHost()],
      vhost: 'rts',
      brokerPassword: randomBytes(12).toString('base64url'),
      endpointId: CLINIC,
      clinic: await region.clinic(CLINIC),
      practitioners: [await region.practitioner(COLE), await region.practitioner(`${CLINIC}.dr-dahl`)],
      apiPort: await freeLoopbackPort(),
      dir: join(dir, 'connector'),
      maxRequestBytes: MAX_REQUEST_BYTES,
    });
    const connector = await runConnector({
      configFile: files.configFile,
      vault: createMemoryVault(),
      env: { ...process.env, ...files.env },
      reconnectDelayMs: { initial: 200, max: 1_000 },
    });
    return {
      connector,
      port: connector.api.port,
      token: files.token,
      async stop() {
        await connector.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// --- talking to it ---------------------------------------------------------------------------------------------------

interface ProblemBody {
  readonly code?: string;
  readonly errors?: readonly { pointer?: string; line?: number; field?: string }[];
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** How much of a streamed body had been sent when the answer came. */
  readonly sentBeforeAnswer?: number;
}

interface Sent {
  readonly method?: string;
  readonly path: string;
  /** `null`: no Authorization header; a string: that header instead of the right one. */
  readonly authorization?: string | null;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** One request on its own connection (node:http, not fetch: bodies fetch would not send, e.g. invalid UTF-8). */
function send(target: ConnectorApiTarget, sent: Sent): Promise<Answer> {
  const body = typeof sent.body === 'string' ? Buffer.from(sent.body) : sent.body;
  const authorization = sent.authorization === undefined ? `Bearer ${target.token}` : sent.authorization;
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method: sent.method ?? (body ? 'POST' : 'GET'),
        path: sent.path,
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
        headers: {
          ...(authorization !== null && { authorization }),
          ...(body && { 'content-length': String(body.length) }),
          ...sent.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`)));
    request.on('error', reject);
    request.end(body);
  });
}

const json = (path: string, value: unknown, headers: Record<string, string> = {}): Sent => ({
  path,
  body: JSON.stringify(value),
  headers: { 'content-type': 'application/json', ...headers },
});

/**
 * A body of `total` bytes written 64 KiB a millisecond: with `declare`, behind a Content-Length of the whole; without,
 * chunked, growing past the limit. Paced so that the kernel's socket buffers do not swallow megabytes the connector
 * never reads before its answer can arrive: what had been written when the answer came is then an upper bound of what
 * the connector can have read. Resolves with the answer and that amount.
 */
function stream(target: ConnectorApiTarget, path: string, total: number, declare: boolean): Promise<Answer> {
  const piece = Buffer.alloc(64 * 1024, 'a');
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered: number | undefined;
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method: 'POST',
        path,
        agent: false,
        timeout: ANSWER_TIMEOUT_MS,
        headers: {
          authorization: `Bearer ${target.token}`,
          'content-type': 'application/json',
          ...(declare && { 'content-length': String(total) }),
        },
      },
      (response) => {
        answered = written;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
            sentBeforeAnswer: answered ?? written,
          });
          request.destroy();
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(
        new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s (${Math.round(written / 1024)} KiB written)`),
      ),
    );
    // After the answer the connector closes the connection under the rest of the body: EPIPE or a reset is expected then.
    request.on(
      'error',
      (error) =>
        answered !== undefined ||
        reject(new Error(`${error.message} after ${Math.round(written / 1024)} KiB, before any answer`)),
    );
    const pump = (): void => {
      if (answered !== undefined || request.destroyed) return;
      if (written >= total) {
        request.end();
        return;
      }
      const next = piece.subarray(0, Math.min(piece.length, total - written));
      written += next.length;
      // A 64 KiB piece is above the stream's high-water mark: write() says false each time, so wait for drain, then pace.
      if (request.write(next)) setTimeout(pump, 1);
      else request.once('drain', () => setTimeout(pump, 1));
    };
    pump();
  });
}

// --- variants -------------------------------------------------------------------------------------------------------

export interface ApiVariant {
  readonly name: string;
  /** `<status> <code>`, then `@<pointer | line N | field>` where the problem must name the place. */
  readonly expected: string;
  /** Sends the bad request; resolves with what was observed, in the terms of `expected`. */
  send(target: ConnectorApiTarget): Promise<{ observed: string; evidence: string }>;
}

export interface ApiClass {
  readonly name: string;
  readonly variants: readonly ApiVariant[];
}

const placeOf = (e: { pointer?: string; line?: number; field?: string }) =>
  e.line !== undefined ? `line ${e.line}` : (e.pointer ?? e.field ?? '(none)');

const shown = (place: string) => (place === '' ? '(whole body)' : place);

/**
 * The answer in the terms of `expected`: status, problem code, the named place when one is expected, and for a
 * streamed body, whether the answer came late.
 */
function observe(answer: Answer, at: string | undefined): string {
  let problem: ProblemBody | undefined;
  if (String(answer.headers['content-type']).startsWith('application/problem+json')) {
    try {
      problem = JSON.parse(answer.text) as ProblemBody;
    } catch {
      problem = undefined;
    }
  }
  let observed = `${answer.status} ${problem?.code ?? `(no problem body: ${answer.headers['content-type'] ?? 'no content type'})`}`;
  if (at !== undefined) {
    const places = (problem?.errors ?? []).map(placeOf);
    observed += ` @${shown(places.includes(at) ? at : (places[0] ?? '(no place named)'))}`;
  }
  if ((answer.sentBeforeAnswer ?? 0) > LATE_ANSWER_BYTES)
    observed += ` (only after ${Math.round(answer.sentBeforeAnswer! / 1024)} KiB were sent)`;
  return observed;
}

function variant(
  name: string,
  expected: { status: number; code: string; at?: string },
  request: (target: ConnectorApiTarget) => Sent | Promise<Answer>,
): ApiVariant {
  return {
    name,
    expected: `${expected.status} ${expected.code}${expected.at !== undefined ? ` @${shown(expected.at)}` : ''}`,
    async send(target) {
      const made = request(target);
      const answer = made instanceof Promise ? await made : await send(target, made);
      const sent = answer.sentBeforeAnswer;
      return {
        observed: observe(answer, expected.at),
        evidence: sent === undefined ? 'problem body' : `problem body after ${Math.round(sent / 1024)} KiB of the body`,
      };
    },
  };
}

/** A consult the schema takes; from dr-cole, whom the connector holds. */
const goodConsult = (change: Record<string, unknown> = {}) => ({
  from: COLE,
  to: 'clinic-a.dr-ahmed',
  resources: [
    { resourceType: 'Patient', name: [{ family: 'Hansen', given: ['Ola'] }], gender: 'male', birthDate: '1950-02-03' },
    {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      priority: 'routine',
      reasonCode: [{ text: 'Palpitations' }],
    },
  ],
  ...change,
});
const CSV_HEADER = 'local_id,given,family,specialties,organization_id,organization_name';
const CSV_ROW = 'dr-cole,Ruth,Cole,Cardiology,vestby,Vestby Hospital';
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const bundle = (resources: readonly Record<string, unknown>[]) => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: resources.map((resource) => ({ resource })),
});

export const CONNECTOR_API_CLASSES: readonly ApiClass[] = [
  {
    name: 'api: no or wrong bearer token',
    variants: [
      variant('no Authorization header', { status: 401, code: 'unauthorized' }, () => ({
        path: '/v1/state',
        authorization: null,
      })),
      variant('wrong token', { status: 401, code: 'unauthorized' }, () => ({
        path: '/v1/state',
        authorization: `Bearer ${randomBytes(24).toString('base64url')}`,
      })),
      variant('the token without "Bearer"', { status: 401, code: 'unauthorized' }, (t) => ({
        path: '/v1/state',
        authorization: t.token,
      })),
      variant('a good consult with a wrong token', { status: 401, code: 'unauthorized' }, () => ({
        ...json('/v1/consults', goodConsult()),
        authorization: 'Bearer wrong',
      })),
    ],
  },
  {
    name: 'api: body not JSON',
    variants: [
      variant('truncated JSON', { status: 400, code: 'invalid-request' }, () => ({
        path: '/v1/consults',
        body: '{"from":"clinic-c.dr-cole","to":',
        headers: { 'content-type': 'application/json' },
      })),
      variant('empty body', { status: 400, code: 'invalid-request' }, () => ({
        path: '/v1/consults',
        body: '',
        headers: { 'content-type': 'application/json' },
      })),
      variant('invalid UTF-8 in a string', { status: 400, code: 'invalid-request' }, () => ({
        path: '/v1/consults',
        body: Buffer.concat([
          Buffer.from('{"from":"clinic-c.dr-cole","to":"clinic-a.dr-'),
          Buffer.from([0xc3, 0x28, 0xff]),
          Buffer.from('","resources":[]}'),
        ]),
        headers: { 'content-type': 'application/json' },
      })),
    ],
  },
  {
    name: 'api: wrong content type',
    variants: [
      variant('text/plain', { status: 415, code: 'unsupported-media-type' }, () => ({
        path: '/v1/consults',
        body: JSON.stringify(goodConsult()),
        headers: { 'content-type': 'text/plain' },
      })),
      variant('no content type', { status: 415, code: 'unsupported-media-type' }, () => ({
        path: '/v1/consults',
        body: JSON.stringify(goodConsult()),
      })),
      variant('text/csv where only JSON is read', { status: 415, code: 'unsupported-media-type' }, () => ({
        path: '/v1/consults',
        body: `${CSV_HEADER}\n${CSV_ROW}\n`,
        headers: { 'content-type': 'text/csv' },
      })),
    ],
  },
  {
    name: 'api: body above api.maxRequestBytes',
    variants: [
      variant('Content-Length of 10 MiB', { status: 413, code: 'too-large' }, (t) =>
        stream(t, '/v1/consults', BIG_BODY_BYTES, true),
      ),
      variant('10 MiB chunked, no Content-Length', { status: 413, code: 'too-large' }, (t) =>
        stream(t, '/v1/directory/publications', BIG_BODY_BYTES, false),
      ),
    ],
  },
  {
    name: 'api: JSON nested 100,000 deep',
    variants: [
      variant('the whole body', { status: 422, code: 'invalid-request', at: '' }, () => ({
        path: '/v1/consults',
        body: nested(100_000),
        headers: { 'content-type': 'application/json' },
      })),
      variant(
        'as the name of the Patient',
        { status: 422, code: 'invalid-request', at: '/resources/0/name/0/family' },
        () => ({
          path: '/v1/consults',
          body: JSON.stringify(goodConsult()).replace(/"name":\[.*?\]\}\]/, `"name":${nested(100_000)}`),
          headers: { 'content-type': 'application/json' },
        }),
      ),
      variant('in an extension of a resource (ignored)', { status: 404, code: 'not-found' }, () => ({
        path: '/v1/consults',
        body: JSON.stringify(goodConsult()).replace(
          '"gender":"male"',
          `"gender":"male","extension":${nested(100_000)}`,
        ),
        headers: { 'content-type': 'application/json' },
      })),
      variant('in a directory Bundle', { status: 422, code: 'invalid-request', at: '/bundle/entry/0' }, () => ({
        path: '/v1/directory/publications',
        body: `{"mode":"full","bundle":{"resourceType":"Bundle","type":"collection","entry":${nested(100_000)}}}`,
        headers: { 'content-type': 'application/json' },
      })),
    ],
  },
  {
    name: 'api: consult schema violations',
    variants: [
      variant('no Patient', { status: 422, code: 'invalid-request', at: '/resources' }, () =>
        json('/v1/consults', goodConsult({ resources: goodConsult().resources.slice(1) })),
      ),
      variant('an unknown field', { status: 422, code: 'invalid-request', at: '/patientName' }, () =>
        json('/v1/consults', goodConsult({ patientName: 'Hansen' })),
      ),
      variant('`to` a number', { status: 422, code: 'invalid-request', at: '/to' }, () =>
        json('/v1/consults', goodConsult({ to: 42 })),
      ),
      variant('`resources` a string', { status: 422, code: 'invalid-request', at: '/resources' }, () =>
        json('/v1/consults', goodConsult({ resources: 'Patient' })),
      ),
      variant('a resource that is a string', { status: 422, code: 'invalid-request', at: '/resources/1' }, () =>
        json('/v1/consults', goodConsult({ resources: [goodConsult().resources[0], 'ServiceRequest'] })),
      ),
      variant(
        'a birth date that is no date',
        { status: 422, code: 'invalid-request', at: '/resources/0/birthDate' },
        () =>
          json(
            '/v1/consults',
            goodConsult({
              resources: [{ ...goodConsult().resources[0], birthDate: 'yesterday' }, goodConsult().resources[1]],
            }),
          ),
      ),
    ],
  },
  {
    name: 'api: directory CSV with bad rows, or an empty full list',
    variants: [
      variant('a row without a family name (JSON)', { status: 422, code: 'invalid-request', at: 'line 3' }, () =>
        json('/v1/directory/publications', {
          mode: 'full',
          csv: `${CSV_HEADER}\n${CSV_ROW}\ndr-x,Ola,,Cardiology,vestby,Vestby Hospital\n`,
        }),
      ),
      variant('a row with too many fields (text/csv)', { status: 422, code: 'invalid-request', at: 'line 2' }, () => ({
        path: '/v1/directory/publications?mode=full',
        body: `${CSV_HEADER}\n${CSV_ROW},extra,more\n${CSV_ROW.replace('dr-cole', 'dr-dahl')}\n`,
        headers: { 'content-type': 'text/csv' },
      })),
      variant('a required column missing', { status: 422, code: 'invalid-request', at: 'line 1' }, () =>
        json('/v1/directory/publications', {
          mode: 'full',
          csv: 'local_id,given,specialties,organization_id\ndr-cole,Ruth,Cardiology,vestby\n',
        }),
      ),
      variant('an empty full list (header only)', { status: 422, code: 'invalid-request' }, () =>
        json('/v1/directory/publications', { mode: 'full', csv: `${CSV_HEADER}\n` }),
      ),
      variant('an empty file', { status: 422, code: 'invalid-request', at: 'line 1' }, () => ({
        path: '/v1/directory/publications?mode=full',
        body: '',
        headers: { 'content-type': 'text/csv' },
      })),
    ],
  },
  {
    name: 'api: FHIR Bundle invalid',
    variants: [
      variant('not a Bundle', { status: 422, code: 'invalid-request', at: '/bundle' }, () =>
        json('/v1/directory/publications', { mode: 'full', bundle: { resourceType: 'Patient' } }),
      ),
      variant(
        'an entry of another resource type',
        { status: 422, code: 'invalid-request', at: '/bundle/entry/0/resource/resourceType' },
        () =>
          json('/v1/directory/publications', {
            mode: 'full',
            bundle: bundle([{ resourceType: 'Patient', id: `${CLINIC}.p1` }]),
          }),
      ),
      variant(
        'a delta entry with an id of another clinic',
        { status: 422, code: 'invalid-request', at: '/bundle/entry/0/resource/id' },
        () =>
          json('/v1/directory/publications', {
            mode: 'delta',
            bundle: bundle([{ resourceType: 'Organization', id: 'clinic-a.nordby', name: 'Nordby' }]),
          }),
      ),
      variant('csv and bundle both', { status: 422, code: 'invalid-request', at: '' }, () =>
        json('/v1/directory/publications', { mode: 'full', csv: `${CSV_HEADER}\n${CSV_ROW}\n`, bundle: bundle([]) }),
      ),
    ],
  },
  {
    name: 'api: unknown route, wrong method',
    variants: [
      variant('GET /v1/nothing', { status: 404, code: 'not-found' }, () => ({ path: '/v1/nothing' })),
      variant('GET /', { status: 404, code: 'not-found' }, () => ({ path: '/' })),
      variant('DELETE /v1/state', { status: 405, code: 'method-not-allowed' }, () => ({
        method: 'DELETE',
        path: '/v1/state',
      })),
      variant('GET /v1/consults/{caseId}/report', { status: 405, code: 'method-not-allowed' }, () => ({
        path: `/v1/consults/${randomUUID()}/report`,
      })),
    ],
  },
  {
    name: 'api: malformed path parameters',
    variants: [
      variant('case id not a UUID', { status: 404, code: 'not-found' }, () => ({ path: '/v1/consults/not-a-case' })),
      variant('case id 10,000 characters', { status: 404, code: 'not-found' }, () => ({
        path: `/v1/consults/${'a'.repeat(10_000)}`,
      })),
      variant('broken percent-encoding', { status: 404, code: 'not-found' }, () => ({ path: '/v1/consults/%E0%A4%A' })),
      variant('practitioner id with an encoded slash', { status: 404, code: 'not-found' }, () => ({
        path: '/v1/directory/experts/clinic-c%2Fdr-cole',
      })),
    ],
  },
  {
    name: 'api: unknown case, publication or practitioner',
    variants: [
      variant('GET an unknown case', { status: 404, code: 'not-found' }, () => ({
        path: `/v1/consults/${randomUUID()}`,
      })),
      variant('accept an unknown case', { status: 404, code: 'not-found' }, () =>
        json(`/v1/consults/${randomUUID()}/actions`, { action: 'accept' }),
      ),
      variant('GET an unknown publication', { status: 404, code: 'not-found' }, () => ({
        path: `/v1/directory/publications/${randomUUID()}`,
      })),
      variant('a consult from a practitioner the connector does not hold', { status: 404, code: 'not-found' }, () =>
        json('/v1/consults', goodConsult({ from: `${CLINIC}.dr-nobody` })),
      ),
      variant('a consult to an expert not in the directory', { status: 404, code: 'not-found' }, () =>
        json('/v1/consults', goodConsult()),
      ),
    ],
  },
  {
    name: 'api: bad query',
    variants: [
      variant('limit=-1', { status: 422, code: 'invalid-request', at: 'limit' }, () => ({
        path: '/v1/consults?limit=-1',
      })),
      variant('wait=999', { status: 422, code: 'invalid-request', at: 'wait' }, () => ({
        path: '/v1/events?wait=999',
      })),
      variant('limit=abc', { status: 422, code: 'invalid-request', at: 'limit' }, () => ({
        path: '/v1/directory/experts?limit=abc',
      })),
      variant('an unknown parameter', { status: 422, code: 'invalid-request', at: 'sort' }, () => ({
        path: '/v1/consults?sort=newest',
      })),
    ],
  },
  {
    name: 'api: event cursor ahead of the feed',
    variants: [
      variant('after=1000000', { status: 410, code: 'gone' }, () => ({ path: '/v1/events?after=1000000' })),
      variant('after=-1', { status: 422, code: 'invalid-request', at: 'after' }, () => ({
        path: '/v1/events?after=-1',
      })),
    ],
  },
  {
    name: 'api: Idempotency-Key too long',
    variants: [
      variant('201 characters', { status: 422, code: 'invalid-request', at: 'Idempotency-Key' }, () =>
        json('/v1/consults', goodConsult(), { 'idempotency-key': 'k'.repeat(201) }),
      ),
      variant('8 KiB', { status: 422, code: 'invalid-request', at: 'Idempotency-Key' }, () =>
        json(
          '/v1/directory/publications',
          { mode: 'full', csv: `${CSV_HEADER}\n${CSV_ROW}\n` },
          { 'idempotency-key': 'k'.repeat(8 * 1024) },
        ),
      ),
    ],
  },
];

// --- running -------------------------------------------------------------------------------------------------------

export interface ApiVariantOutcome {
  readonly variant: string;
  readonly expected: string;
  readonly observed: string;
  readonly evidence: string;
  readonly handled: boolean;
  /** The good request behind the bad one was not answered: the connector did not survive it. */
  readonly crashed: boolean;
}

async function outboxCounts(target: ConnectorApiTarget): Promise<string> {
  const answer = await send(target, { path: '/v1/outbox' });
  if (answer.status !== 200) throw new Error(`GET /v1/outbox answered ${answer.status}`);
  return JSON.stringify((JSON.parse(answer.text) as { counts: unknown }).counts);
}

export async function runApiVariant(target: ConnectorApiTarget, apiVariant: ApiVariant): Promise<ApiVariantOutcome> {
  let evidence = 'nothing';
  const outcome = (observed: string, handled: boolean, crashed = false): ApiVariantOutcome => ({
    variant: apiVariant.name,
    expected: apiVariant.expected,
    observed,
    evidence,
    handled,
    crashed,
  });
  let before: string;
  try {
    before = await outboxCounts(target);
  } catch (error) {
    return outcome(`the connector did not answer before it: ${(error as Error).message}`, false, true);
  }
  let observed: string;
  try {
    ({ observed, evidence } = await apiVariant.send(target));
  } catch (error) {
    observed = `could not send: ${(error as Error).message}`;
  }
  try {
    const state = await send(target, { path: '/v1/state' });
    if (state.status !== 200) throw new Error(`GET /v1/state answered ${state.status}`);
    const after = await outboxCounts(target);
    if (after !== before) observed += ` (outbox counts ${before} -> ${after})`;
  } catch (error) {
    return outcome(`${observed}; good request failed after it: ${(error as Error).message}`, false, true);
  }
  return outcome(observed, observed === apiVariant.expected);
}
