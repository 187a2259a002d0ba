import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { BROKER_KINDS, plainAmqpProblem, plainHttpProblem } from '../shared/broker/index.ts';
import { envOrFileSecretReferenceSchema as secretRef, type EnvOrFileSecretReference } from '../shared-node/index.ts';

/**
 * The hub's configuration file (JSON). Paths are relative to the file. Secrets are never written in it: each names an
 * environment variable or a file (e.g. a mounted secret) to read them from. See hub/README.md for an example.
 */
export const hubConfigSchema = z
  .object({
    /** Distinguishes instances in `rts hub status`; defaults to host name and pid. */
    instanceId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
    broker: z
      .object({
        /** Which broker the region runs (docs/brokers.md); RabbitMQ when absent. */
        kind: z.enum(BROKER_KINDS).default('rabbitmq'),
        hosts: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1),
        vhost: z.string().default('rts'),
        username: z.string().default('rts-hub'),
        password: secretRef,
        /** amqps: the CA (PEM file) the broker's certificate must chain to. */
        tls: z.object({ caFile: z.string(), servername: z.string().optional() }).strict().optional(),
        /** Deliveries the broker may push ahead of processing. */
        credit: z.number().int().min(1).max(1000).default(200),
        /**
         * Where the hub provisions an endpoint's downlink and permissions at its registration. RabbitMQ: the management
         * HTTP API at `url`. Artemis: its management address over AMQP on the broker's hosts (no url), as a user with
         * the `manage` permission; the delivery limit is broker.xml's.
         */
        management: z
          .object({
            url: z.string().url().optional(),
            username: z.string(),
            password: secretRef,
            deliveryLimit: z.number().int().min(1).optional(),
          })
          .strict(),
      })
      .strict()
      .superRefine((broker, context) => {
        const amqp = broker.tls
          ? undefined
          : plainAmqpProblem(broker.hosts, "set broker.tls.caFile to the CA of the broker's certificate");
        if (amqp) context.addIssue({ code: 'custom', path: ['tls'], message: amqp });
        const { url, deliveryLimit } = broker.management;
        if (broker.kind === 'rabbitmq') {
          if (url === undefined)
            context.addIssue({ code: 'custom', path: ['management', 'url'], message: "RabbitMQ's management API URL" });
          const http = url === undefined ? undefined : plainHttpProblem(url);
          if (http) context.addIssue({ code: 'custom', path: ['management', 'url'], message: http });
        } else {
          const where = 'Artemis is managed over AMQP on broker.hosts';
          if (url !== undefined) context.addIssue({ code: 'custom', path: ['management', 'url'], message: where });
          if (deliveryLimit !== undefined) {
            const message = "Artemis's delivery limit is max-delivery-attempts in broker.xml (rts broker definitions)";
            context.addIssue({ code: 'custom', path: ['management', 'deliveryLimit'], message });
          }
        }
      }),
    database: z.discriminatedUnion('kind', [
      /** PGlite in-process: one instance, no server. `templates`: where a new database is copied from (made there). */
      z.object({ kind: z.literal('embedded'), path: z.string(), templates: z.string().optional() }).strict(),
      /** A PostgreSQL server: any number of instances. */
      z
        .object({
          kind: z.literal('postgres'),
          url: secretRef,
          maxConnections: z.number().int().min(1).max(100).optional(),
        })
        .strict(),
    ]),
    identity: z.object({ certificateFile: z.string(), privateKeyFile: z.string() }).strict(),
    trust: z
      .object({
        anchorFiles: z.array(z.string()).min(1),
        crlFiles: z.array(z.string()).default([]),
        /** How often the CRL files are read again (a newer CRL is taken without a restart); default 60. */
        crlReloadSeconds: z.number().int().min(1).max(86_400).optional(),
        /** A CRL is reported as expiring this long before its nextUpdate; default 72. */
        crlWarningHours: z.number().min(0).max(8_760).optional(),
      })
      .strict(),
    /** The operator API (`rts hub …`): HTTP on 127.0.0.1 at this port, with this bearer token. */
    operator: z
      .object({ port: z.number().int().min(1).max(65535), token: secretRef })
      .strict()
      .optional(),
    /** A claimed outbox row not renewed for this long is taken over by another instance. */
    claimMs: z.number().int().min(1000).default(30_000),
  })
  .strict();

export type HubConfig = z.infer<typeof hubConfigSchema>;

export class HubConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubConfigError';
  }
}

export interface LoadedHubConfig {
  readonly config: HubConfig;
  /** Resolves a path of the file against the file's directory. */
  readonly path: (relative: string) => string;
  readonly secret: (ref: EnvOrFileSecretReference) => string;
}

export function loadHubConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedHubConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new HubConfigError(`cannot read hub configuration ${file}: ${(error as Error).message}`);
  }
  const parsed = hubConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HubConfigError(`hub configuration ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const base = dirname(resolve(file));
  const path = (relative: string) => resolve(base, relative);
  const secret = (ref: EnvOrFileSecretReference): string => {
    if ('env' in ref) {
      const value = env[ref.env];
      if (!value) throw new HubConfigError(`hub configuration: environment variable ${ref.env} is not set`);
      return value;
    }
    try {
      return readFileSync(path(ref.file), 'utf8').trim();
    } catch (error) {
      throw new HubConfigError(`hub configuration: cannot read secret file ${ref.file}: ${(error as Error).message}`);
    }
  };
  return { config: parsed.data, path, secret };
}
