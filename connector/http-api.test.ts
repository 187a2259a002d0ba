import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ConnectorCore } from './connector-core.ts';
import { buildOpenApiDocument, openApiYaml, ROUTES, startConnectorApi, type ConnectorApi } from './http-api.ts';
import { CONNECTOR_VERSION } from './run-connector.ts';

const DOCUMENT = join(import.meta.dirname, '..', 'docs', 'connector-openapi.yaml');

describe('the connector API document', () => {
  it('is the one checked in (node scripts/generate-protocol-docs.ts writes it)', () => {
    const checkedIn = readFileSync(DOCUMENT, 'utf8');
    expect(checkedIn.slice(checkedIn.indexOf('\n') + 1)).toBe(openApiYaml(CONNECTOR_VERSION));
  });

  it('describes every route, and its request schemas are the ones the code validates with', () => {
    const document = parse(readFileSync(DOCUMENT, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: object }> } }>
      >;
    };
    for (const route of ROUTES)
      expect(document.paths[route.path]?.[route.method.toLowerCase()]?.operationId, route.path).toBe(route.operationId);
    const ajv = new Ajv2020({ strict: false });
    const consult = ajv.compile(document.paths['/v1/consults']!.post!.requestBody!.content['application/json']!.schema);
    const route = ROUTES.find((r) => r.operationId === 'createConsult')!;
    const good = { from: 'clinic-c.dr-dahl', to: 'clinic-a.dr-ahmed', resources: [{ resourceType: 'Patient' }] };
    const bad = [
      { ...good, to: 'nobody' },
      { ...good, resources: [] },
      { ...good, extra: 1 },
      { from: good.from, resources: good.resources },
    ];
    expect(consult(good)).toBe(true);
    expect(route.body!.safeParse(good).success).toBe(true);
    for (const b of bad) {
      expect(consult(b), JSON.stringify(b)).toBe(false);
      expect(route.body!.safeParse(b).success, JSON.stringify(b)).toBe(false);
    }
    expect(buildOpenApiDocument('x')).toMatchObject({
      openapi: '3.1.0',
      components: { securitySchemes: { bearer: { scheme: 'bearer' } } },
    });
  });
});

describe('the connector API over HTTP', () => {
  let api: ConnectorApi;
  let url: string;
  const state = {
    endpointId: 'clinic-c',
    region: 'Test',
    connection: { status: 'online', since: new Date().toISOString() },
    registration: { state: 'accepted' },
    directory: { experts: 0 },
    outbox: { waiting: 0, failed: 0 },
    refused: 0,
    practitioners: 1,
    crl: { state: 'current' },
    events: { last: 0 },
  };
  const queued: unknown[] = [];
  // The HTTP layer alone: a core that answers state and records what would have been queued.
  const core = {
    endpointId: 'clinic-c',
    state: () => state,
    createConsult: async (...args: unknown[]) => {
      queued.push(args);
      throw new Error('not reached by these tests');
    },
  } as unknown as ConnectorCore;

  beforeAll(async () => {
    api = await startConnectorApi({
      core,
      host: '127.0.0.1',
      port: 0,
      token: 'the-token-0123456789',
      maxRequestBytes: 4096,
      version: 'test',
    });
    url = `http://127.0.0.1:${api.port}`;
  });
  afterAll(() => api.close());

  const auth = { authorization: 'Bearer the-token-0123456789' };

  it('answers only with the token, and serves its document without one', async () => {
    expect((await fetch(`${url}/v1/state`)).status).toBe(401);
    expect((await fetch(`${url}/v1/state`, { headers: { authorization: 'Bearer the-token-0123456788' } })).status).toBe(
      401,
    );
    const ok = await fetch(`${url}/v1/state`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ endpointId: 'clinic-c' });
    const document = await fetch(`${url}/openapi.yaml`);
    expect(document.headers.get('content-type')).toContain('application/yaml');
    expect(await document.text()).toBe(openApiYaml('test'));
  });

  it('refuses bad bodies with a problem naming the field, before the core sees them', async () => {
    const post = (body: string, type = 'application/json', headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/consults`, { method: 'POST', headers: { ...auth, 'content-type': type, ...headers }, body });
    const notJson = await post('{"from":');
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toContain('application/problem+json');
    expect(await notJson.json()).toMatchObject({
      status: 400,
      code: 'invalid-request',
      type: 'urn:rts:connector:problem:invalid-request',
    });
    expect((await post('x', 'text/plain')).status).toBe(415);
    const invalid = await post(JSON.stringify({ from: 'clinic-c.dr-dahl', to: 'x', resources: [{}], colour: 'red' }));
    expect(invalid.status).toBe(422);
    const problem = (await invalid.json()) as { errors: { pointer: string }[] };
    expect(problem.errors.map((e) => e.pointer)).toEqual(expect.arrayContaining(['/to', '/colour']));
    expect(
      (
        await post(
          JSON.stringify({ from: 'clinic-c.dr-dahl', to: 'clinic-a.dr-ahmed', resources: [{}] }),
          'application/json',
          { 'idempotency-key': 'k'.repeat(201) },
        )
      ).status,
    ).toBe(422);
    expect(queued).toEqual([]);
  });

  it('refuses a body above the limit from its Content-Length, and a chunked one as it grows past it', async () => {
    const declared = await fetch(`${url}/v1/consults`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: 'x'.repeat(5000),
    });
    expect(declared.status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
        controller.close();
      },
    });
    const streamed = await fetch(`${url}/v1/consults`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await fetch(`${url}/v1/state`, { headers: auth })).status).toBe(200);
  });

  it('answers a request target that is no URL with 400, before the token, and goes on serving', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(api.port, '127.0.0.1', () => socket.end('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${url}/v1/state`, { headers: auth })).status).toBe(200);
  });

  it('wants the mode said with a CSV body', async () => {
    const csv = await fetch(`${url}/v1/directory/publications`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: 'local_id\n',
    });
    expect(csv.status).toBe(422);
    expect(await csv.json()).toMatchObject({ errors: [{ field: 'mode' }] });
  });

  it('says 404 for an unknown route or a malformed id, and 405 for another method', async () => {
    expect((await fetch(`${url}/v1/nothing`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/v1/consults/not-a-uuid`, { headers: auth })).status).toBe(404);
    const wrongMethod = await fetch(`${url}/v1/state`, { method: 'POST', headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });
});
