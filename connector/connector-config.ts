import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { directoryIdSchema } from '../shared/protocol/index.ts';
import { secretReferenceSchema } from '../shared-node/index.ts';

/**
 * connector.json: what one clinic system's connector needs (docs/connector.md §Configuration). Paths are relative to
 * the file; every secret is a reference (shared-node/secret-reference.ts), never the secret itself.
 */
const pkcs12Schema = z.object({ pkcs12File: z.string().min(1), password: secretReferenceSchema }).strict();

export const DEFAULT_API_PORT = 7390;
/** A consult with its files is at most ~16 MiB of attachments, base64 in JSON: 32 MiB covers it with room. */
export const DEFAULT_MAX_REQUEST_BYTES = 32 * 1024 * 1024;

export const connectorConfigSchema = z
  .object({
    /** The enrolment file the region's administrator wrote for this clinic system (rts region add-endpoint). */
    enrolmentFile: z.string().min(1),
    /** The region CA's SHA-256 fingerprint, as the administrator read it out by another channel (AB:CD:…). */
    caFingerprint: z
      .string()
      .regex(
        /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/,
        'the SHA-256 fingerprint as openssl prints it (32 hex pairs joined by colons)',
      ),
    brokerPassword: secretReferenceSchema,
    /** The clinic system's own certificate and key: it registers, publishes the directory and signs receipts it answers alone. */
    clinicSystem: pkcs12Schema,
    /** The clinic's practitioners this connector acts for, with their signing and encryption keys. */
    practitioners: z
      .array(
        z
          .object({
            id: directoryIdSchema,
            signing: pkcs12Schema,
            encryption: pkcs12Schema,
            /** Encryption keys replaced by `encryption`, kept to read the cases sent to them before (newest first). */
            earlierEncryption: z.array(pkcs12Schema).max(20).default([]),
          })
          .strict(),
      )
      .max(10_000)
      .default([]),
    /** The encrypted store, audit log and event feed. */
    dataDir: z.string().min(1),
    /** Service name under which the store's and the audit log's keys are kept in the OS keychain. */
    keychainService: z.string().min(1).default('rts-connector'),
    /**
     * On a server with no OS keychain: a master key (by reference) that seals those keys in a file of the data
     * directory instead (sealed-file-vault.ts).
     */
    masterKey: secretReferenceSchema.optional(),
    /** The organisation named in the registration. */
    organization: z.string().min(1).max(200).optional(),
    api: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(DEFAULT_API_PORT),
        token: secretReferenceSchema,
        maxRequestBytes: z
          .number()
          .int()
          .min(1024)
          .max(256 * 1024 * 1024)
          .default(DEFAULT_MAX_REQUEST_BYTES),
        /**
         * The API speaks plain HTTP, with patient data and the token in it: it listens on loopback unless this is set,
         * for a host whose network path to the clinic system is protected otherwise (a TLS-terminating proxy, a private link).
         */
        allowNonLoopback: z.boolean().default(false),
      })
      .strict(),
    webhooks: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-z0-9-]{1,40}$/),
            url: z.string().url(),
            secret: secretReferenceSchema,
            types: z.array(z.string().min(1)).optional(),
          })
          .strict(),
      )
      .max(20)
      .default([]),
    /** Events kept for replay (cursor reads). */
    retainEventsDays: z.number().int().min(1).max(3650).default(30),
  })
  .strict();

export type ConnectorConfig = z.infer<typeof connectorConfigSchema>;

export class ConnectorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorConfigError';
  }
}

export interface LoadedConnectorConfig {
  readonly config: ConnectorConfig;
  /** A path of the file, resolved against the file's directory. */
  readonly path: (relative: string) => string;
}

export function parseConnectorConfig(raw: unknown, baseDir: string): LoadedConnectorConfig {
  const parsed = connectorConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConnectorConfigError(`connector configuration: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const config = parsed.data;
  if (!config.api.allowNonLoopback && !isLoopback(config.api.host)) {
    throw new ConnectorConfigError(
      `connector configuration: api.host ${config.api.host} is not a loopback address; the API is plain HTTP with patient data in it (set api.allowNonLoopback only behind a TLS proxy or on a private link)`,
    );
  }
  const ids = new Set<string>();
  for (const p of config.practitioners) {
    if (ids.has(p.id))
      throw new ConnectorConfigError(`connector configuration: practitioners: ${p.id} is listed twice`);
    ids.add(p.id);
  }
  return { config, path: (relative) => resolve(baseDir, relative) };
}

export function loadConnectorConfig(file: string): LoadedConnectorConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConnectorConfigError(`cannot read connector configuration ${file}: ${(error as Error).message}`);
  }
  return parseConnectorConfig(raw, dirname(resolve(file)));
}

/** The API token is compared in constant time, and must not be guessable: as long as `openssl rand -base64 24` gives. */
export const MIN_API_TOKEN_LENGTH = 32;

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** The endpoint id a directory id belongs to: what is before the dot. */
export const clinicOf = (directoryId: string) => directoryId.slice(0, directoryId.indexOf('.'));
