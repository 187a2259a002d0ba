import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { z } from 'zod';
import { CoreError } from '../main/node/index.ts';
import * as S from './api-schemas.ts';
import type { ConnectorCore } from './connector-core.ts';
import { ConnectorIdentityError } from './connector-identity.ts';
import { readConsultResources } from './consult-input.ts';
import {
  readDirectoryBundle,
  readDirectoryDelta,
  readExpertCsv,
  type DirectoryInputContext,
  type DirectoryInputProblem,
} from './directory-input.ts';
import { readReportResources } from './report-input.ts';

/**
 * The connector's local HTTP API (docs/connector.md, docs/connector-openapi.yaml): JSON over HTTP on loopback by
 * default, every route but the OpenAPI document behind a bearer token compared in constant time. Every request is
 * validated against api-schemas.ts before anything is queued, and refused with an RFC 9457 problem naming the field
 * (or the CSV line); a body above the configured size is refused from its Content-Length, or as soon as it grows
 * past it, before it is read whole. The route table below is also what the OpenAPI document is made from.
 */
export interface ConnectorApi {
  readonly port: number;
  close(): Promise<void>;
}

class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors?: z.infer<typeof S.problemSchema>['errors'];
  /** For a 405: the methods the path has (RFC 9110 requires them in Allow). */
  allow?: string;
  constructor(status: number, code: string, detail: string, errors?: z.infer<typeof S.problemSchema>['errors']) {
    super(detail);
    this.status = status;
    this.code = code;
    if (errors) this.errors = errors;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** An RFC 6901 JSON pointer: '' is the whole body, not '/' (which names a member called ''). */
const pointerOf = (path: readonly PropertyKey[]) =>
  path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

function invalid(error: z.ZodError, where: 'body' | 'query'): Problem {
  // An unknown member is named by its own place, not by the object it is in.
  const places = error.issues
    .slice(0, 50)
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: [...issue.path, key], detail: 'not a known member' }))
        : [{ path: issue.path, detail: issue.message }],
    );
  const errors = places.map(({ path, detail }) =>
    where === 'body' ? { pointer: pointerOf(path), detail } : { field: path.join('.') || '(query)', detail },
  );
  return new Problem(
    422,
    'invalid-request',
    `The ${where === 'body' ? 'request body' : 'query'} is not valid: ${errors
      .map((e) => `${'pointer' in e ? e.pointer : e.field} ${e.detail}`)
      .slice(0, 3)
      .join('; ')}`,
    errors,
  );
}

interface Context {
  readonly params: Record<string, string>;
  readonly query: unknown;
  readonly body: unknown;
  readonly idempotencyKey?: string;
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** Besides JSON: a CSV body is read into `{ csv }` with the query's mode. */
  readonly csvBody?: boolean;
  readonly idempotent?: boolean;
  readonly status: number;
  readonly response: z.ZodType;
  readonly handle: (core: ConnectorCore, context: Context) => unknown;
}

function isListed(core: ConnectorCore, practitionerId: string): boolean {
  try {
    core.expert(practitionerId);
    return true;
  } catch {
    return false;
  }
}

function directoryContext(core: ConnectorCore): DirectoryInputContext {
  return { clinicId: core.endpointId, endpointId: core.endpointId, certificatesOf: (id) => core.certificatesOf(id) };
}

function inputProblems(
  problems: readonly { line?: number; pointer?: string; field?: string; detail: string }[],
  what: string,
): Problem {
  const first = problems[0];
  const where = first?.line !== undefined ? `line ${first.line}: ` : first?.pointer ? `${first.pointer}: ` : '';
  return new Problem(
    422,
    'invalid-request',
    `${what} was refused (${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was queued). First: ${where}${first?.detail ?? ''}`,
    problems.slice(0, 200).map((p) => ({ ...p })),
  );
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/state',
    operationId: 'getState',
    summary: 'Broker connection, registration, directory version, outbox and refused counts',
    status: 200,
    response: S.stateSchema,
    handle: (core) => core.state(),
  },
  {
    method: 'POST',
    path: '/v1/directory/publications',
    operationId: 'publishDirectory',
    summary: "Publish the clinic's experts: a full list or a delta, from CSV or a FHIR Bundle",
    body: S.publishRequestSchema,
    csvBody: true,
    idempotent: true,
    status: 202,
    response: S.publicationSchema,
    async handle(core, { body, idempotencyKey }) {
      const request = body as z.infer<typeof S.publishRequestSchema>;
      const context = directoryContext(core);
      // The readers point into the Bundle, or into the delta `{ upsert, retire }`: in the request, upsert is bundle or csv.
      const upserted = request.bundle !== undefined ? '/bundle' : '/csv';
      const inBody = (problems: readonly DirectoryInputProblem[], from: 'bundle' | 'delta') =>
        problems.map((p) =>
          p.pointer === undefined
            ? p
            : {
                ...p,
                pointer:
                  from === 'bundle' ? `${upserted}${p.pointer}` : p.pointer.replace(/^\/upsert(?=\/|$)/, upserted),
              },
        );
      if (request.mode === 'full') {
        const read =
          request.csv !== undefined
            ? readExpertCsv(request.csv, context)
            : readDirectoryBundle(request.bundle, context);
        if (!read.ok) throw inputProblems(inBody(read.problems, 'bundle'), 'The list');
        // A full list replaces everything: an empty one would retire every expert of the clinic at once.
        if (read.experts === 0)
          throw new Problem(
            422,
            'invalid-request',
            "The full list has no experts: it would retire all of the clinic's experts. To retire experts, send a delta with retire.",
          );
        return core.publish({ mode: 'full', resources: read.resources }, idempotencyKey);
      }
      const read = readDirectoryDelta(
        {
          ...(request.csv !== undefined && { upsert: request.csv }),
          ...(request.bundle !== undefined && { upsert: request.bundle }),
          ...(request.retire && { retire: request.retire }),
        },
        context,
      );
      if (!read.ok) throw inputProblems(inBody(read.problems, 'delta'), 'The delta');
      return core.publish({ mode: 'delta', changes: read.changes }, idempotencyKey);
    },
  },
  {
    method: 'GET',
    path: '/v1/directory/publications',
    operationId: 'listPublications',
    summary: 'The newest publications, newest first',
    status: 200,
    response: z.array(S.publicationSchema),
    handle: (core) => core.publications(50),
  },
  {
    method: 'GET',
    path: '/v1/directory/publications/{publicationId}',
    operationId: 'getPublication',
    summary: "What became of a publication: queued, sent, accepted, or rejected with the hub's reason",
    status: 200,
    response: S.publicationSchema,
    handle: (core, { params }) => core.publication(params.publicationId!),
  },
  {
    method: 'GET',
    path: '/v1/directory/experts',
    operationId: 'searchDirectory',
    summary: "Search the regional directory (the connector's mirror)",
    query: S.searchQuerySchema,
    status: 200,
    response: z.array(S.expertSummarySchema),
    handle: (core, { query }) => core.searchDirectory(query as z.infer<typeof S.searchQuerySchema>),
  },
  {
    method: 'GET',
    path: '/v1/directory/experts/{practitionerId}',
    operationId: 'getExpert',
    summary: 'One expert of the directory',
    status: 200,
    response: S.expertSchema,
    handle: (core, { params }) => core.expert(params.practitionerId!),
  },
  {
    method: 'GET',
    path: '/v1/practitioners',
    operationId: 'listPractitioners',
    summary: "The clinic's practitioners this connector holds keys for",
    status: 200,
    response: S.practitionersSchema,
    handle: (core) => core.practitioners().map((id) => ({ practitionerId: id, inDirectory: isListed(core, id) })),
  },
  {
    method: 'POST',
    path: '/v1/consults',
    operationId: 'createConsult',
    summary: "Send a consult from one of the clinic's practitioners to an expert (signed, encrypted, queued)",
    body: S.createConsultRequestSchema,
    idempotent: true,
    status: 202,
    response: S.consultSummarySchema,
    async handle(core, { body, idempotencyKey }) {
      const request = body as z.infer<typeof S.createConsultRequestSchema>;
      const read = readConsultResources({
        ...(request.priority && { priority: request.priority }),
        resources: request.resources,
      });
      // Its pointers are into { priority, resources }: into the request body as they are.
      if (!read.ok) throw inputProblems(read.problems, 'The consult');
      return core.createConsult(request.from, { ...read.value, expertId: request.to }, idempotencyKey);
    },
  },
  {
    method: 'GET',
    path: '/v1/consults',
    operationId: 'listConsults',
    summary: "Consults of the clinic's practitioners, newest first (no patient data)",
    query: S.listConsultsQuerySchema,
    status: 200,
    response: z.array(S.consultSummarySchema),
    handle: (core, { query }) => core.listConsults(query as z.infer<typeof S.listConsultsQuerySchema>),
  },
  {
    method: 'GET',
    path: '/v1/consults/{caseId}',
    operationId: 'getConsult',
    summary: 'One consult, decrypted and verified: every message with its signer',
    status: 200,
    response: S.consultViewSchema,
    handle: (core, { params }) => core.openConsult(params.caseId!),
  },
  {
    method: 'GET',
    path: '/v1/consults/{caseId}/messages/{messageId}',
    operationId: 'getConsultMessage',
    summary:
      'One message of a consult as the FHIR message Bundle it travelled as, decrypted and verified, with its signer',
    status: 200,
    response: S.consultMessageSchema,
    handle: (core, { params }) => core.readMessage(params.caseId!, params.messageId!),
  },
  {
    method: 'POST',
    path: '/v1/consults/{caseId}/actions',
    operationId: 'actOnConsult',
    summary: 'A lifecycle step: accept, decline, request-information, redirect, provide-information, cancel',
    body: S.actionRequestSchema,
    status: 202,
    response: S.consultSummarySchema,
    handle: (core, { params, body }) =>
      core.act({ ...(body as object), caseId: params.caseId! } as Parameters<ConnectorCore['act']>[0]),
  },
  {
    method: 'POST',
    path: '/v1/consults/{caseId}/report',
    operationId: 'sendReport',
    summary:
      "The expert's signed report, as fields or as FHIR resources (DiagnosticReport, findings, MedicationRequests); completes the case",
    body: S.reportRequestSchema,
    status: 202,
    response: S.consultSummarySchema,
    handle(core, { params, body }) {
      const request = body as z.infer<typeof S.reportRequestSchema>;
      if (!('resources' in request)) return core.report({ ...request, caseId: params.caseId! });
      const read = readReportResources(request.resources);
      if (!read.ok) throw inputProblems(read.problems, 'The report');
      return core.report({ ...read.value, caseId: params.caseId! });
    },
  },
  {
    method: 'GET',
    path: '/v1/events',
    operationId: 'readEvents',
    summary: 'The event feed: events after a cursor, waiting up to `wait` seconds for one',
    query: S.eventsQuerySchema,
    status: 200,
    response: S.eventsSchema,
    async handle(core, { query }) {
      const q = query as z.infer<typeof S.eventsQuerySchema>;
      const after = q.after ?? 0;
      const range = core.events.range();
      if (after > 0 && (range.first !== undefined ? after < range.first - 1 : after < range.last)) {
        throw new Problem(
          410,
          'gone',
          `Events after ${after} are no longer kept (the oldest kept is ${range.first ?? 'none'}); read the current state (GET /v1/consults) and go on from ${range.last}.`,
        );
      }
      if (after > range.last)
        throw new Problem(
          410,
          'gone',
          `The cursor ${after} is ahead of this connector's feed (${range.last}): was its store restored from a backup? Read the current state and go on from ${range.last}.`,
        );
      const limit = q.limit ?? 100;
      let events = core.events.read(after, limit);
      if (events.length === 0 && (q.wait ?? 0) > 0) events = await core.events.wait(after, q.wait! * 1000);
      events = events.slice(0, limit);
      return { events, next: events.length > 0 ? events[events.length - 1]!.cursor : after };
    },
  },
  {
    method: 'GET',
    path: '/v1/outbox',
    operationId: 'getOutbox',
    summary: 'Messages waiting for the broker, and those given up with their reason',
    status: 200,
    response: S.outboxSchema,
    handle: (core) => core.outbox(),
  },
  {
    method: 'GET',
    path: '/v1/refused',
    operationId: 'listRefused',
    summary: 'Received messages the connector refused, with their reason codes',
    status: 200,
    response: S.refusedSchema,
    handle: (core) => core.refused(500),
  },
];

const PATH_PARAMS: Record<string, RegExp> = {
  publicationId: /^[0-9a-f-]{36}$/,
  practitionerId: /^[A-Za-z0-9.-]{3,64}$/,
  caseId: /^[0-9a-f-]{36}$/,
  messageId: /^[0-9a-f-]{36}$/,
};

function matcher(route: Route): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    })}$`,
  );
  return (path) => {
    const match = pattern.exec(path);
    if (!match) return undefined;
    const params: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      let value: string;
      try {
        value = decodeURIComponent(match[i + 1]!);
      } catch {
        throw new Problem(404, 'not-found', `${name} is not well-formed (broken percent-encoding)`);
      }
      if (!PATH_PARAMS[name]!.test(value))
        throw new Problem(404, 'not-found', `${name} ${JSON.stringify(value.slice(0, 80))} is not well-formed`);
      params[name] = value;
    }
    return params;
  };
}

/** The route a target names, for the log (ids replaced): never throws. */
function routeOf(target: string | undefined): string {
  const path = (target ?? '').split('?')[0]!.slice(0, 200);
  return path
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** The OpenAPI 3.1 document of the routes above. */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  const problem = {
    description: 'A problem (RFC 9457)',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(route.query
        ? Object.entries(
            (json(route.query, 'input') as { properties?: Record<string, unknown>; required?: string[] }).properties ??
              {},
          ).map(([name, schema]) => ({ name, in: 'query', required: false, schema }))
        : []),
      ...(route.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'Repeating a request with the same key returns what the first made, and queues nothing more',
              schema: { type: 'string', maxLength: 200 },
            },
          ]
        : []),
    ];
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(parameters.length > 0 && { parameters }),
      ...(route.body && {
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: json(route.body, 'input') },
            ...(route.csvBody && {
              'text/csv': { schema: { type: 'string', description: 'experts as CSV; give ?mode=full or ?mode=delta' } },
            }),
          },
        },
      }),
      responses: {
        [String(route.status)]: {
          description: 'OK',
          content: { 'application/json': { schema: json(route.response, 'output') } },
        },
        ...(route.body || route.query ? { 422: problem } : {}),
        401: problem,
        ...(route.path.includes('{') ? { 404: problem } : {}),
        ...(route.body ? { 413: problem } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'RTS clinic connector',
      version,
      description:
        'The local HTTP API through which a clinic system joins the region: it sends and receives plain documents; the connector signs, encrypts, queues, receives, verifies and decrypts (docs/connector.md).',
    },
    servers: [{ url: 'http://127.0.0.1:7390' }],
    security: [{ bearer: [] }],
    paths: {
      '/openapi.yaml': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          security: [],
          responses: {
            200: { description: 'OpenAPI 3.1', content: { 'application/yaml': { schema: { type: 'string' } } } },
          },
        },
      },
      ...paths,
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: "The token of the connector's configuration (api.token)",
        },
      },
      schemas: { Problem: json(S.problemSchema, 'output') },
    },
  };
}

export function openApiYaml(version: string): string {
  return stringify(buildOpenApiDocument(version), { lineWidth: 0 });
}

export async function startConnectorApi(options: {
  core: ConnectorCore;
  host: string;
  port: number;
  token: string;
  maxRequestBytes: number;
  version: string;
}): Promise<ConnectorApi> {
  const { core } = options;
  // Both sides hashed first: equal lengths for timingSafeEqual, and the token's length is not revealed either.
  const expected = createHash('sha256').update(`Bearer ${options.token}`).digest();
  const authorized = (request: IncomingMessage) =>
    timingSafeEqual(
      createHash('sha256')
        .update(request.headers.authorization ?? '')
        .digest(),
      expected,
    );
  const matchers = ROUTES.map((route) => ({ route, match: matcher(route) }));
  const document = openApiYaml(options.version);

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > options.maxRequestBytes)
      throw new Problem(
        413,
        'too-large',
        `The body (${declared} bytes) is larger than this connector accepts (${options.maxRequestBytes}).`,
      );
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxRequestBytes)
        throw new Problem(
          413,
          'too-large',
          `The body is larger than this connector accepts (${options.maxRequestBytes} bytes).`,
        );
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  async function parseBody(route: Route, request: IncomingMessage, query: URLSearchParams): Promise<unknown> {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const csv = route.csvBody === true && type === 'text/csv';
    if (!csv && type !== 'application/json')
      throw new Problem(
        415,
        'unsupported-media-type',
        `Send the body as application/json${route.csvBody ? ' (or text/csv)' : ''}, not ${type || 'nothing'}.`,
      );
    // A full list retires every expert it leaves out: with CSV, the mode is said, never assumed.
    if (csv && !query.get('mode'))
      throw new Problem(
        422,
        'invalid-request',
        'Say ?mode=full (the whole list: experts not in it are retired) or ?mode=delta with a CSV body.',
        [{ field: 'mode', detail: 'required with text/csv' }],
      );
    const raw = await readBody(request);
    if (csv) {
      const text = new TextDecoder('utf-8', { fatal: false }).decode(raw);
      return {
        mode: query.get('mode'),
        csv: text,
        ...(query.getAll('retire').length > 0 && { retire: query.getAll('retire') }),
      };
    }
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
    } catch (error) {
      throw new Problem(400, 'invalid-request', `The body is not JSON: ${(error as Error).message.slice(0, 200)}`);
    }
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let url: URL;
    try {
      // An absolute-form target (GET http://host/path) is taken as it is; one that is no URL at all is refused.
      url = new URL(request.url ?? '/', 'http://connector.invalid');
    } catch {
      throw new Problem(400, 'invalid-request', 'The request target is not a URL.');
    }
    if (request.method === 'GET' && url.pathname === '/openapi.yaml') {
      response
        .writeHead(200, { 'content-type': 'application/yaml; charset=utf-8', 'cache-control': 'no-store' })
        .end(document);
      return;
    }
    if (!authorized(request))
      throw new Problem(
        401,
        'unauthorized',
        'A bearer token is required (Authorization: Bearer <api.token of the connector configuration>).',
      );
    let found: { route: Route; params: Record<string, string> } | undefined;
    const allowed: string[] = [];
    for (const { route, match } of matchers) {
      const params = match(url.pathname);
      if (!params) continue;
      if (route.method === request.method) {
        found = { route, params };
        break;
      }
      allowed.push(route.method);
    }
    if (!found && allowed.length > 0) {
      const problem = new Problem(
        405,
        'method-not-allowed',
        `${request.method} is not allowed on ${url.pathname}; ${allowed.join(', ')} is.`,
      );
      problem.allow = allowed.join(', ');
      throw problem;
    }
    if (!found) throw new Problem(404, 'not-found', `There is no ${url.pathname} (GET /openapi.yaml lists the API).`);
    const { route, params } = found;
    let query: unknown = {};
    if (route.query) {
      const parsed = route.query.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success) throw invalid(parsed.error, 'query');
      query = parsed.data;
    }
    let body: unknown;
    if (route.body) {
      const parsed = route.body.safeParse(await parseBody(route, request, url.searchParams));
      if (!parsed.success) throw invalid(parsed.error, 'body');
      body = parsed.data;
    }
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && (key.length === 0 || key.length > 200))
      throw new Problem(422, 'invalid-request', 'Idempotency-Key must have 1 to 200 characters.', [
        { field: 'Idempotency-Key', detail: 'must have 1 to 200 characters' },
      ]);
    const result = await route.handle(core, {
      params,
      query,
      body,
      ...(route.idempotent && typeof key === 'string' && { idempotencyKey: key }),
    });
    // What leaves is what the document says: a response outside its schema is our bug, reported as such.
    const checked = route.response.safeParse(result);
    if (!checked.success)
      throw new Error(
        `${route.operationId}: response outside its schema: ${checked.error.issues[0]?.message ?? ''} at ${pointerOf(checked.error.issues[0]?.path ?? [])}`,
      );
    response
      .writeHead(route.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      .end(JSON.stringify(checked.data));
  }

  function send(response: ServerResponse, problem: Problem): void {
    if (response.headersSent) return;
    const body: z.infer<typeof S.problemSchema> = {
      type: `urn:rts:connector:problem:${problem.code}`,
      title: TITLES[problem.status] ?? 'Error',
      status: problem.status,
      detail: problem.message,
      code: problem.code,
      ...(problem.errors && { errors: problem.errors }),
    };
    response
      .writeHead(problem.status, {
        'content-type': 'application/problem+json; charset=utf-8',
        ...(problem.status === 413 && { connection: 'close' }),
        ...(problem.allow && { allow: problem.allow }),
      })
      .end(JSON.stringify(body));
  }

  function toProblem(error: unknown): Problem {
    if (error instanceof Problem) return error;
    if (error instanceof CoreError) {
      const status =
        error.code === 'not-found'
          ? 404
          : error.code === 'not-allowed'
            ? 409
            : error.code === 'invalid-request'
              ? 422
              : error.code === 'not-configured'
                ? 503
                : 409;
      return new Problem(status, error.code, error.message);
    }
    if (error instanceof ConnectorIdentityError) return new Problem(404, 'not-found', error.message);
    return new Problem(500, 'internal-error', 'The connector could not do this; its log says why.');
  }

  const server: Server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      const problem = toProblem(error);
      // Ids and reason only: a request's content (patient data) never reaches the log.
      // The route and the error's kind only: neither a request's content nor a message about it reaches the log.
      if (problem.status === 500)
        console.error(
          JSON.stringify({
            event: 'api-error',
            method: request.method,
            route: routeOf(request.url),
            error: error instanceof Error ? error.name : typeof error,
          }),
        );
      send(response, problem);
    });
  });
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
