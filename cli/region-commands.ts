import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import {
  ARTEMIS_ROLES,
  buildArtemisConfiguration,
  buildRabbitmqDefinitions,
  rabbitPasswordHash,
  createRabbitmqProvisioner,
  managementApiCall,
  ProvisioningError,
} from '../hub/index.ts';
import {
  artemisDownlinkAddress,
  BROKER_KINDS,
  plainAmqpProblem,
  plainHttpProblem,
  RABBITMQ_TOPOLOGY,
  downlinkQueueName,
  type BrokerKind,
} from '../shared/broker/index.ts';
import {
  ENDPOINT_KINDS,
  ENROLMENT_FILE_EXTENSION,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  certificateFingerprint,
  isEnrolmentError,
  signEnrolment,
  verifyEnrolment,
  type EndpointKind,
  type Enrolment,
} from '../shared/enrolment/index.ts';
import {
  commonNameOf,
  createCrl,
  createPkcs12,
  createRootCertificate,
  derToPem,
  describeCertificate,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  importSigningPrivateKey,
  issueCertificate,
  issueCertificateFromRequest,
  KEY_TYPES,
  parsePem,
  pemToDer,
  PEM_LABELS,
  readCrl,
  type CertificateIssuer,
  type CryptoKey,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import { isEndpointId, DIRECTORY_ID_PATTERN } from '../shared/protocol/index.ts';
import { ARTEMIS_FILES, writeArtemisFiles } from './broker-commands.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { prepareDirectory, readBytes, readText, writeFileAtomic } from './files.ts';
import { printJson, printLines } from './output.ts';

/**
 * `rts region …`: a real region's administration. The directory given with --dir is the region's admin state: the
 * CA and its key, the CRL, the hub's identity and configuration, the broker definitions (password hashes only), the
 * broker and .p12 passwords, one enrolment file per endpoint, and region.json, which says what was done. Every command
 * reads and writes only that directory (sync-broker also calls the broker's management API); running one again changes
 * nothing.
 */

const FILES = {
  state: 'region.json',
  caCertificate: 'ca.pem',
  caKey: 'ca.key.pem',
  crl: 'ca.crl.pem',
  hubCertificate: 'hub.cert.pem',
  hubKey: 'hub.key.pem',
  signerCertificate: 'enrolment-signer.cert.pem',
  signerKey: 'enrolment-signer.key.pem',
  brokerCa: 'broker-ca.pem',
  definitions: 'broker-definitions.json',
  /** An Artemis region's broker files (rts-topology.xml, artemis-users.properties, artemis-roles.properties). */
  artemis: 'artemis',
  secrets: 'secrets.json',
  hubConfig: 'hub-config.json',
  endpoints: 'endpoints',
} as const;

const HUB_USER = 'rts-hub';
const ADMIN_USER = 'rts-admin';
/** The operator API's bearer token in secrets.json; a ':' makes it no endpoint id. */
const OPERATOR_TOKEN = 'rts-hub:operator-token';
const DEFAULT_OPERATOR_PORT = 7380;
const HUB_ENDPOINT_ID = 'hub';
const DEFAULT_CRL_DAYS = 7;
const SECRET = 0o600;

const certificateRecord = z.object({
  serialNumber: z.string(),
  profile: z.string(),
  subject: z.string(),
  file: z.string(),
  notAfter: z.string(),
  revokedAt: z.string().optional(),
});

const endpointRecord = z.object({
  id: z.string(),
  kind: z.enum(ENDPOINT_KINDS),
  status: z.enum(['active', 'suspended', 'removed']),
  brokerUser: z.string(),
  /** This endpoint's TLS server name, when it reaches the broker by another name than the region's. */
  tlsServerName: z.string().optional(),
  addedAt: z.string(),
  certificates: z.array(certificateRecord),
});

const regionState = z.object({
  region: z.string(),
  createdAt: z.string(),
  broker: z.object({
    /** Absent in regions made before Artemis was supported: RabbitMQ. */
    kind: z.enum(BROKER_KINDS).optional(),
    hosts: z.array(z.object({ host: z.string(), port: z.number().int() })),
    vhost: z.string(),
    /** RabbitMQ's management API; an Artemis region is managed over AMQP on its hosts. */
    managementUrl: z.string().optional(),
    deliveryLimit: z.number().int(),
    tlsCaFile: z.string().optional(),
    tlsServerName: z.string().optional(),
  }),
  crl: z.object({ crlNumber: z.number().int(), nextUpdate: z.string() }),
  /** Every serial this CA revoked, including certificates issued outside `rts region` (e.g. `rts pki issue`). */
  revoked: z.array(z.object({ serialNumber: z.string(), revokedAt: z.string() })),
  hub: certificateRecord,
  endpoints: z.array(endpointRecord),
});

type RegionState = z.infer<typeof regionState>;
type EndpointRecord = z.infer<typeof endpointRecord>;
type Secrets = Record<string, string>;

function readState(dir: string): RegionState {
  const path = join(dir, FILES.state);
  if (!existsSync(path))
    throw new CliError(
      CLI_ERROR_CODES.notFound,
      `${dir} is not a region directory (no ${FILES.state}); create one with rts region create`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (error) {
    throw new CliError(CLI_ERROR_CODES.badManifest, `${path} is not JSON`, { cause: error });
  }
  const parsed = regionState.safeParse(json);
  if (!parsed.success)
    throw new CliError(
      CLI_ERROR_CODES.badManifest,
      `${path} is not a region state file: ${parsed.error.issues[0]?.message ?? ''}`,
    );
  return parsed.data;
}

const writeJson = (path: string, value: unknown, mode?: number) =>
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, mode);
const writeState = (dir: string, state: RegionState) => writeJson(join(dir, FILES.state), state);
const readSecrets = (dir: string) => JSON.parse(readText(join(dir, FILES.secrets))) as Secrets;
const newPassword = () => randomBytes(24).toString('base64url');

async function caIssuer(dir: string): Promise<CertificateIssuer> {
  return {
    certificate: pemToDer(readText(join(dir, FILES.caCertificate)), PEM_LABELS.certificate),
    privateKey: await importSigningPrivateKey(pemToDer(readText(join(dir, FILES.caKey)), PEM_LABELS.privateKey)),
  };
}

function findEndpoint(state: RegionState, id: string): EndpointRecord {
  const endpoint = state.endpoints.find((candidate) => candidate.id === id);
  if (!endpoint)
    throw new CliError(
      CLI_ERROR_CODES.unknownIdentity,
      `no endpoint "${id}" in this region (rts region list shows them)`,
    );
  return endpoint;
}

/**
 * The broker definitions from the region state. A user already in the previous file keeps its password hash byte for
 * byte: re-hashing with a new salt is harmless for a password but would make every import look like a change, and a
 * fresh password (what `rts broker definitions` does) would lock the hub out. A suspended endpoint keeps its user and
 * queue but has no permissions.
 */
const brokerKindOf = (state: RegionState): BrokerKind => state.broker.kind ?? 'rabbitmq';

function writeDefinitions(dir: string, state: RegionState, secrets: Secrets): void {
  if (brokerKindOf(state) === 'artemis') {
    writeArtemisConfiguration(dir, state, secrets);
    return;
  }
  const path = join(dir, FILES.definitions);
  const previous = existsSync(path)
    ? (JSON.parse(readText(path)) as { users: { name: string; password_hash: string }[] })
    : { users: [] };
  const keptHashes = new Map(previous.users.map((user) => [user.name, user.password_hash]));
  const present = state.endpoints.filter((endpoint) => endpoint.status !== 'removed');
  const suspended = new Set(
    present.filter((endpoint) => endpoint.status === 'suspended').map((endpoint) => endpoint.brokerUser),
  );
  const userOf = (name: string) => ({ name, password: secrets[name] ?? '' });
  const definitions = buildRabbitmqDefinitions({
    endpoints: present.map((endpoint) => userOf(endpoint.brokerUser)),
    hub: userOf(HUB_USER),
    admin: userOf(ADMIN_USER),
    deliveryLimit: state.broker.deliveryLimit,
  });
  writeJson(path, {
    ...definitions,
    users: definitions.users.map((user) => ({
      ...user,
      password_hash: keptHashes.get(user.name) ?? rabbitPasswordHash(secrets[user.name]!),
    })),
    permissions: definitions.permissions.filter((permission) => !suspended.has(permission.user)),
    topic_permissions: definitions.topic_permissions.filter((permission) => !suspended.has(permission.user)),
  });
}

/**
 * The Artemis files from the region state: every present endpoint's user, uplink and downlink; a suspended endpoint
 * keeps its user but loses its role, and with it every right (once Artemis's cache of rights expires:
 * security-invalidation-interval, 10 s by default). A user already in the previous users file keeps its hash line
 * byte for byte, as in the RabbitMQ definitions, so that a new file differs from the last only where the region did.
 */
function writeArtemisConfiguration(dir: string, state: RegionState, secrets: Secrets): void {
  const present = state.endpoints.filter((endpoint) => endpoint.status !== 'removed');
  const suspended = present.filter((endpoint) => endpoint.status === 'suspended').map((e) => e.brokerUser);
  const userOf = (name: string) => ({ name, password: secrets[name] ?? '' });
  const configuration = buildArtemisConfiguration({
    endpoints: present.map((endpoint) => userOf(endpoint.brokerUser)),
    hub: userOf(HUB_USER),
    admin: userOf(ADMIN_USER),
    deliveryLimit: state.broker.deliveryLimit,
  });
  const rolesProperties = configuration.rolesProperties
    .split('\n')
    .filter((line) => !suspended.some((user) => line === `${ARTEMIS_ROLES.endpoint(user)} = ${user}`))
    .join('\n');
  const usersFile = join(dir, FILES.artemis, ARTEMIS_FILES.users);
  const userName = (line: string) => line.slice(0, line.indexOf(' = '));
  const kept = new Map(
    (existsSync(usersFile) ? readText(usersFile).split('\n') : [])
      .filter((line) => line.includes(' = '))
      .map((line) => [userName(line), line]),
  );
  const usersProperties = configuration.usersProperties
    .split('\n')
    .map((line) => (line.includes(' = ') ? (kept.get(userName(line)) ?? line) : line))
    .join('\n');
  writeArtemisFiles(join(dir, FILES.artemis), { ...configuration, usersProperties, rolesProperties });
}

/** Where and how the administrator applies the broker files, per broker. */
function applyLine(dir: string, state: RegionState): string {
  return brokerKindOf(state) === 'artemis'
    ? `Broker: put ${join(dir, FILES.artemis, ARTEMIS_FILES.core)}'s elements into etc/broker.xml and ${ARTEMIS_FILES.users}, ${ARTEMIS_FILES.roles} into etc/ (Artemis reads them again on change; docs/brokers.md)`
    : `Broker: rabbitmqctl import_definitions ${join(dir, FILES.definitions)} (or rts region sync-broker --dir ${dir})`;
}

async function writeCrl(dir: string, state: RegionState, days: number): Promise<RegionState> {
  const crlNumber = state.crl.crlNumber + 1;
  const crl = await createCrl(await caIssuer(dir), {
    crlNumber,
    validityDays: days,
    revoked: state.revoked.map((entry) => ({
      serialNumber: entry.serialNumber,
      revocationDate: new Date(entry.revokedAt),
    })),
  });
  writeFileAtomic(join(dir, FILES.crl), derToPem(crl, PEM_LABELS.crl));
  return { ...state, crl: { crlNumber, nextUpdate: readCrl(crl).nextUpdate!.toISOString() } };
}

function parseHost(value: string, previous: { host: string; port: number }[] = []): { host: string; port: number }[] {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535)
    throw usageError(`--broker-host must be host:port, e.g. broker.region.example:5671, not ${JSON.stringify(value)}`);
  return [...previous, { host: match[1]!, port }];
}

/** A key (PEM, mode 0600) and its certificate from the region CA, in `dir`. */
async function writeIdentity(
  dir: string,
  issuer: CertificateIssuer,
  region: string,
  identity: { commonName: string; profile: LeafProfileName; certificateFile: string; keyFile: string },
) {
  const keys = await generateKeyPair(keyTypeOf(issuer.certificate));
  const { commonName, profile } = identity;
  const issued = await issueCertificate({
    profile,
    publicKey: keys.publicKey,
    issuer,
    subject: { commonName, organization: region },
  });
  writeFileAtomic(
    join(dir, identity.keyFile),
    derToPem(await exportPrivateKeyPkcs8(keys.privateKey), PEM_LABELS.privateKey),
    SECRET,
  );
  writeFileAtomic(join(dir, identity.certificateFile), derToPem(issued.der, PEM_LABELS.certificate));
  return certificateEntry(issued.der, profile, identity.certificateFile);
}

// Signs enrolment files only; a name that is no endpoint id, so that it cannot stand for an endpoint (enrolment.ts).
const writeEnrolmentSigner = (dir: string, issuer: CertificateIssuer, region: string) =>
  writeIdentity(dir, issuer, region, {
    commonName: ENROLMENT_SIGNER_COMMON_NAME,
    profile: 'clinic-system',
    certificateFile: FILES.signerCertificate,
    keyFile: FILES.signerKey,
  });

interface CreateOptions {
  dir: string;
  name: string;
  brokerHost: { host: string; port: number }[];
  brokerCa?: string;
  tlsServerName?: string;
  managementUrl?: string;
  brokerKind: BrokerKind;
  keyType: 'ec' | 'rsa';
  deliveryLimit: string;
  crlDays: string;
  operatorPort: string;
}

async function create(options: CreateOptions): Promise<void> {
  const region = options.name.trim();
  if (!region) throw usageError('--name must not be empty');
  const dir = options.dir;
  if (existsSync(join(dir, FILES.state))) {
    const existing = readState(dir);
    if (existing.region !== region)
      throw new CliError(
        CLI_ERROR_CODES.regionRefused,
        `${dir} already holds region "${existing.region}"; use another directory`,
      );
    printLines([`Region "${region}" exists in ${dir}; nothing changed.`]);
    return;
  }
  const hosts = options.brokerHost;
  const amqp = options.brokerCa
    ? undefined
    : plainAmqpProblem(hosts, "give --broker-ca, the CA (PEM) of the broker's TLS certificate");
  if (amqp) throw usageError(amqp);
  const tls = options.brokerCa !== undefined;
  const artemis = options.brokerKind === 'artemis';
  if (artemis && options.managementUrl !== undefined)
    throw usageError("--management-url is RabbitMQ's: the hub manages Artemis over AMQP on --broker-host");
  const managementUrl = artemis
    ? undefined
    : (options.managementUrl ?? `${tls ? 'https' : 'http'}://${hosts[0]!.host}:${tls ? 15671 : 15672}`);
  const http = managementUrl === undefined ? undefined : plainHttpProblem(managementUrl);
  if (http) throw usageError(`--management-url: ${http}`);
  const deliveryLimit = positive(options.deliveryLimit, '--delivery-limit');
  const crlDays = positive(options.crlDays, '--crl-days');
  const operatorPort = positive(options.operatorPort, '--operator-port');
  if (operatorPort > 65535) throw usageError('--operator-port must be a TCP port (1-65535)');
  const brokerCa = options.brokerCa === undefined ? undefined : readPemCertificate(options.brokerCa);
  const tlsServerName = serverNameOption(options.tlsServerName, tls);
  if (prepareDirectory(dir).nonEmpty)
    throw new CliError(
      CLI_ERROR_CODES.dirNotEmpty,
      `${dir} is not empty and holds no region; give an empty or new directory`,
    );

  const keyType = options.keyType === 'rsa' ? KEY_TYPES.rsa2048 : KEY_TYPES.ecP256;
  const caKeys = await generateKeyPair(keyType);
  const ca = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: `${region} CA`, organization: region },
  });
  writeFileAtomic(
    join(dir, FILES.caKey),
    derToPem(await exportPrivateKeyPkcs8(caKeys.privateKey), PEM_LABELS.privateKey),
    SECRET,
  );
  writeFileAtomic(join(dir, FILES.caCertificate), derToPem(ca.der, PEM_LABELS.certificate));
  const issuer = { certificate: ca.der, privateKey: caKeys.privateKey };

  const identity = (commonName: string, profile: LeafProfileName, certificateFile: string, keyFile: string) =>
    writeIdentity(dir, issuer, region, { commonName, profile, certificateFile, keyFile });
  const hub = await identity(HUB_ENDPOINT_ID, 'hub', FILES.hubCertificate, FILES.hubKey);
  await writeEnrolmentSigner(dir, issuer, region);
  if (brokerCa) writeFileAtomic(join(dir, FILES.brokerCa), brokerCa);

  let state: RegionState = {
    region,
    createdAt: new Date().toISOString(),
    broker: {
      ...(artemis && { kind: 'artemis' as const }),
      hosts,
      vhost: RABBITMQ_TOPOLOGY.vhost,
      ...(managementUrl !== undefined && { managementUrl }),
      deliveryLimit,
      ...(tls ? { tlsCaFile: FILES.brokerCa } : {}),
      ...(tlsServerName && { tlsServerName }),
    },
    crl: { crlNumber: 0, nextUpdate: '' },
    revoked: [],
    hub,
    endpoints: [],
  };
  state = await writeCrl(dir, state, crlDays);
  const secrets: Secrets = { [ADMIN_USER]: newPassword(), [HUB_USER]: newPassword(), [OPERATOR_TOKEN]: newPassword() };
  writeJson(join(dir, FILES.secrets), secrets, SECRET);
  writeDefinitions(dir, state, secrets);
  // Secrets by environment variable, so that the file can be copied to the hub's host as it is.
  writeJson(join(dir, FILES.hubConfig), {
    broker: {
      ...(artemis && { kind: 'artemis' }),
      hosts,
      vhost: RABBITMQ_TOPOLOGY.vhost,
      username: HUB_USER,
      password: { env: 'RTS_HUB_BROKER_PASSWORD' },
      ...(tls ? { tls: { caFile: FILES.brokerCa } } : {}),
      // Artemis: over AMQP on the hosts above, its delivery limit in broker.xml.
      management: {
        ...(managementUrl !== undefined && { url: managementUrl }),
        username: ADMIN_USER,
        password: { env: 'RTS_BROKER_ADMIN_PASSWORD' },
        ...(!artemis && { deliveryLimit }),
      },
    },
    database: { kind: 'postgres', url: { env: 'RTS_HUB_DATABASE_URL' } },
    identity: { certificateFile: FILES.hubCertificate, privateKeyFile: FILES.hubKey },
    trust: { anchorFiles: [FILES.caCertificate], crlFiles: [FILES.crl] },
    operator: { port: operatorPort, token: { env: 'RTS_HUB_OPERATOR_TOKEN' } },
  });
  writeState(dir, state);
  printLines([
    `Created region "${region}" in ${dir}: CA, hub identity, enrolment signer, CRL (valid ${crlDays} days), broker definitions, hub configuration.`,
    `CA SHA-256 fingerprint: ${await certificateFingerprint(ca.der)} (give it to every endpoint's user by another channel than the enrolment file)`,
    `Secrets (mode 0600): ${FILES.caKey}, ${FILES.hubKey}, ${FILES.signerKey}, ${FILES.secrets}.`,
    artemis ? applyLine(dir, state) : `Broker: rabbitmqctl import_definitions ${join(dir, FILES.definitions)}`,
    `Hub: ${FILES.hubConfig} reads RTS_HUB_BROKER_PASSWORD (${HUB_USER} in ${FILES.secrets}), RTS_BROKER_ADMIN_PASSWORD (${ADMIN_USER}), RTS_HUB_DATABASE_URL, and RTS_HUB_OPERATOR_TOKEN (${OPERATOR_TOKEN}) for rts hub on 127.0.0.1:${operatorPort}.`,
  ]);
}

/**
 * The admin state of a region whose CA, hub identity and CRL were made elsewhere (the embedded demo region's PKI, made
 * in memory): `dir` already holds ca.pem, hub.cert.pem, hub.key.pem and the CRL the hub uses, ca.crl.pem. This adds
 * the CA key, an enrolment signer, the broker passwords, the broker definitions and region.json (CRL number and
 * revocations read from ca.crl.pem), so that every `rts region` command works on it. It lists no endpoints.
 */
export async function adoptRegion(
  dir: string,
  options: {
    region: string;
    caPrivateKey: CryptoKey;
    broker: { hosts: { host: string; port: number }[]; managementUrl: string; deliveryLimit: number };
    passwords: { admin: string; hub: string };
  },
): Promise<void> {
  if (existsSync(join(dir, FILES.state)))
    throw new CliError(CLI_ERROR_CODES.regionRefused, `${dir} already holds a region (${FILES.state})`);
  const issuer = {
    certificate: pemToDer(readText(join(dir, FILES.caCertificate)), PEM_LABELS.certificate),
    privateKey: options.caPrivateKey,
  };
  writeFileAtomic(
    join(dir, FILES.caKey),
    derToPem(await exportPrivateKeyPkcs8(options.caPrivateKey), PEM_LABELS.privateKey),
    SECRET,
  );
  await writeEnrolmentSigner(dir, issuer, options.region);
  const crl = readCrl(pemToDer(readText(join(dir, FILES.crl)), PEM_LABELS.crl));
  const state: RegionState = {
    region: options.region,
    createdAt: new Date().toISOString(),
    broker: { ...options.broker, vhost: RABBITMQ_TOPOLOGY.vhost },
    crl: { crlNumber: crl.crlNumber ?? 0, nextUpdate: crl.nextUpdate?.toISOString() ?? '' },
    revoked: crl.revoked.map((entry) => ({
      serialNumber: entry.serialNumber,
      revokedAt: entry.revocationDate.toISOString(),
    })),
    hub: certificateEntry(
      pemToDer(readText(join(dir, FILES.hubCertificate)), PEM_LABELS.certificate),
      'hub',
      FILES.hubCertificate,
    ),
    endpoints: [],
  };
  const secrets: Secrets = { [ADMIN_USER]: options.passwords.admin, [HUB_USER]: options.passwords.hub };
  writeJson(join(dir, FILES.secrets), secrets, SECRET);
  writeDefinitions(dir, state, secrets);
  writeState(dir, state);
}

/** --tls-server-name: a DNS name, and only where there is TLS. */
function serverNameOption(value: string | undefined, tls: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (!tls) throw usageError('--tls-server-name needs a broker with TLS (--broker-ca when the region is created)');
  if (!/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)) {
    throw usageError(
      `--tls-server-name must be a DNS name as the broker's TLS certificate names it, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The name an endpoint checks the broker's TLS certificate against: its own, the region's, or the first broker host.
 * An IP address is no server name (RFC 6066): the certificate is then checked against the address itself.
 */
function tlsServerNameOf(state: RegionState, endpoint: EndpointRecord): string | undefined {
  if (!state.broker.tlsCaFile) return undefined;
  const first = state.broker.hosts[0]!.host;
  return (
    endpoint.tlsServerName ??
    state.broker.tlsServerName ??
    (isIP(first.replace(/^\[(.*)\]$/, '$1')) ? undefined : first)
  );
}

function positive(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw usageError(`${option} must be a positive whole number, not ${JSON.stringify(value)}`);
  return number;
}

function readPemCertificate(file: string): string {
  const text = readText(file);
  if (!parsePem(text).some((block) => block.label === PEM_LABELS.certificate))
    throw new CliError(CLI_ERROR_CODES.noCertificate, `${file} holds no CERTIFICATE block`);
  return text;
}

function certificateEntry(der: Uint8Array, profile: string, file: string) {
  const description = describeCertificate(der);
  return {
    serialNumber: description.serialNumber,
    profile,
    subject: description.subject,
    file,
    notAfter: description.notAfter,
  };
}

interface AddEndpointOptions {
  dir: string;
  kind: EndpointKind;
  tlsServerName?: string;
  csr?: string[];
  profile?: LeafProfileName;
  practitioner?: string[];
}

/** --practitioner: local ids of a clinic system's practitioners, each making a valid directory id `<id>.<local id>`. */
function practitionerIds(id: string, options: AddEndpointOptions): string[] {
  const locals = options.practitioner ?? [];
  if (locals.length > 0 && options.kind !== 'clinic-system')
    throw usageError(
      "--practitioner is for a clinic system (--kind clinic-system); a workstation's practitioners make their own keys (rts pki request, rts region issue)",
    );
  const seen = new Set<string>();
  return locals.map((local) => {
    const directoryId = `${id}.${local}`;
    if (!DIRECTORY_ID_PATTERN.test(directoryId))
      throw usageError(
        `--practitioner ${JSON.stringify(local)}: "${directoryId}" is no directory id (the local id is letters, digits and '-', not at either end; 64 characters in all)`,
      );
    if (seen.has(directoryId)) throw usageError(`--practitioner ${JSON.stringify(local)} is given twice`);
    seen.add(directoryId);
    return directoryId;
  });
}

/**
 * A fresh key and its certificate, the key in `<name>.p12` (mode 0600) under a fresh password, the certificate also in
 * `<name>.cert.pem`; both in the endpoint's directory.
 */
async function issueWithKey(
  dir: string,
  endpointDir: string,
  issuer: CertificateIssuer,
  region: string,
  profile: LeafProfileName,
  commonName: string,
  name: string,
) {
  const keys = await generateKeyPair(keyTypeOf(issuer.certificate));
  const issued = await issueCertificate({
    profile,
    publicKey: keys.publicKey,
    issuer,
    subject: { commonName, organization: region },
  });
  const file = join(endpointDir, `${name}.cert.pem`);
  writeFileAtomic(join(dir, file), derToPem(issued.der, PEM_LABELS.certificate));
  const password = newPassword();
  const p12 = await createPkcs12({
    privateKeyPkcs8: await exportPrivateKeyPkcs8(keys.privateKey),
    certificate: issued.der,
    chain: [issuer.certificate],
    password,
    friendlyName: commonName,
  });
  writeFileAtomic(join(dir, endpointDir, `${name}.p12`), p12, SECRET);
  return { entry: certificateEntry(issued.der, profile, file), p12: `${name}.p12`, password };
}

async function addEndpoint(id: string, options: AddEndpointOptions): Promise<void> {
  if (!isEndpointId(id) || id === HUB_ENDPOINT_ID)
    throw usageError(`"${id}" is not an endpoint id (1-63 of a-z, 0-9, '-'; not "hub")`);
  const practitioners = practitionerIds(id, options);
  const dir = options.dir;
  let state = readState(dir);
  const existing = state.endpoints.find((endpoint) => endpoint.id === id);
  if (existing?.status === 'removed')
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `endpoint "${id}" was removed (its certificates are revoked); add it under a new id`,
    );
  if (existing) {
    printLines([
      `Endpoint "${id}" exists (${existing.kind}, ${existing.status}); nothing changed. Add a certificate with rts region issue.`,
    ]);
    return;
  }
  const tlsServerName = serverNameOption(options.tlsServerName, state.broker.tlsCaFile !== undefined);
  const endpointDir = join(FILES.endpoints, id);
  prepareDirectory(join(dir, endpointDir));
  const secrets = readSecrets(dir);
  secrets[id] = newPassword();
  const issuer = await caIssuer(dir);
  const certificates: EndpointRecord['certificates'] = [];
  const p12Files: string[] = [];
  const withKey = async (profile: LeafProfileName, commonName: string, name: string) => {
    const issued = await issueWithKey(dir, endpointDir, issuer, state.region, profile, commonName, name);
    secrets[issued.p12] = issued.password;
    p12Files.push(issued.p12);
    certificates.push(issued.entry);
  };
  // A clinic system without a request of its own gets its key in a .p12; a workstation's practitioners make their
  // own keys (rts pki request) and the administrator issues from their requests.
  if (options.kind === 'clinic-system' && !options.csr?.length) await withKey('clinic-system', id, id);
  for (const csr of options.csr ?? [])
    certificates.push(await issueFromRequest(dir, state, id, options.kind, csr, options.profile, issuer));
  // A clinic system's own practitioners (e.g. the experts it answers for): their keys in .p12 files it holds.
  for (const directoryId of practitioners) {
    for (const use of ['signing', 'encryption'] as const)
      await withKey(`practitioner-${use}`, directoryId, `${directoryId}.${use}`);
  }

  const endpoint: EndpointRecord = {
    id,
    kind: options.kind,
    status: 'active',
    brokerUser: id,
    addedAt: new Date().toISOString(),
    certificates,
    ...(tlsServerName && { tlsServerName }),
  };
  state = { ...state, endpoints: [...state.endpoints, endpoint] };
  writeJson(join(dir, FILES.secrets), secrets, SECRET);
  writeDefinitions(dir, state, secrets);
  writeState(dir, state);
  const enrolmentFile = await writeEnrolment(dir, state, endpoint);
  const p12Secrets = p12Files
    .map((file) => `, the password of ${join(dir, endpointDir, file)} under "${file}"`)
    .join('');
  printLines([
    `Added ${options.kind} "${id}": broker user ${id}, ${certificates.length} certificate(s)${practitioners.length ? ` (practitioners ${practitioners.join(', ')})` : ''}, enrolment file ${enrolmentFile}.`,
    `Secrets in ${join(dir, FILES.secrets)}: its broker password under "${id}"${p12Secrets}; hand them over apart from the enrolment file.`,
    applyLine(dir, state),
  ]);
}

function keyTypeOf(caCertificate: Uint8Array) {
  return describeCertificate(caCertificate).keyAlgorithm.toLowerCase().startsWith('rsa')
    ? KEY_TYPES.rsa2048
    : KEY_TYPES.ecP256;
}

async function issueFromRequest(
  dir: string,
  state: RegionState,
  id: string,
  kind: EndpointKind,
  csr: string,
  profile: LeafProfileName | undefined,
  issuer: CertificateIssuer,
) {
  const chosen = profile ?? (kind === 'clinic-system' ? 'clinic-system' : undefined);
  if (!chosen)
    throw usageError(
      'give --profile for a certificate of a workstation (practitioner-signing or practitioner-encryption)',
    );
  if (chosen === 'hub') throw usageError('the hub certificate is made by rts region create, not for an endpoint');
  const issued = await issueCertificateFromRequest({ request: readRequest(csr), profile: chosen, issuer });
  // The same rule as rts pki request: a practitioner is known by their directory id, a clinic system by its endpoint id.
  const commonName = commonNameOf(issued.der) ?? '';
  if (chosen.startsWith('practitioner-') && !DIRECTORY_ID_PATTERN.test(commonName)) {
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `${csr} names "${commonName}": a ${chosen} certificate must name the practitioner's directory id (<clinic endpoint id>.<local id>); make the request with rts pki request --directory-id`,
    );
  }
  // The hub accepts a practitioner only in a directory entry their clinic publishes: the id's first part.
  const clinic = commonName.split('.')[0];
  if (
    chosen.startsWith('practitioner-') &&
    !state.endpoints.some((e) => e.id === clinic && e.kind === 'clinic-system' && e.status !== 'removed')
  ) {
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `${csr} names "${commonName}", but "${clinic}" is no clinic system of this region; add it first (rts region add-endpoint ${clinic} --kind clinic-system)`,
    );
  }
  if (chosen === 'clinic-system' && commonName !== id) {
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `${csr} names "${commonName}": a clinic-system certificate of endpoint "${id}" must name "${id}"`,
    );
  }
  const file = join(FILES.endpoints, id, `${chosen}.${issued.serialNumber}.cert.pem`);
  writeFileAtomic(join(dir, file), derToPem(issued.der, PEM_LABELS.certificate));
  return certificateEntry(issued.der, chosen, file);
}

function readRequest(file: string): Uint8Array {
  const bytes = readBytes(file);
  const text = new TextDecoder().decode(bytes);
  if (!text.includes('-----BEGIN')) return bytes;
  const block = parsePem(text).find((candidate) => candidate.label.endsWith(PEM_LABELS.certificationRequest));
  if (!block) throw new CliError(CLI_ERROR_CODES.noRequest, `${file} holds no CERTIFICATE REQUEST block`);
  return block.der;
}

async function writeEnrolment(dir: string, state: RegionState, endpoint: EndpointRecord): Promise<string> {
  const pem = (file: string) => readText(join(dir, file));
  const tlsServerName = tlsServerNameOf(state, endpoint);
  const enrolment: Enrolment = {
    format: ENROLMENT_FORMAT,
    region: state.region,
    endpoint: { id: endpoint.id, kind: endpoint.kind },
    broker: {
      ...(state.broker.kind && { kind: state.broker.kind }),
      hosts: state.broker.hosts,
      vhost: state.broker.vhost,
      username: endpoint.brokerUser,
      ...(state.broker.tlsCaFile ? { tlsCaPem: pem(state.broker.tlsCaFile) } : {}),
      ...(tlsServerName && { tlsServerName }),
    },
    caCertificatePem: pem(FILES.caCertificate),
    crlPem: pem(FILES.crl),
    hubCertificatePem: pem(FILES.hubCertificate),
    issuedAt: new Date().toISOString(),
  };
  const certificate = pemToDer(pem(FILES.signerCertificate), PEM_LABELS.certificate);
  const signed = await signEnrolment(enrolment, {
    certificate,
    privateKey: await importSigningPrivateKey(pemToDer(pem(FILES.signerKey), PEM_LABELS.privateKey)),
  });
  const file = join(dir, FILES.endpoints, endpoint.id, `${endpoint.id}${ENROLMENT_FILE_EXTENSION}`);
  writeFileAtomic(file, signed);
  return file;
}

async function issue(id: string, options: { dir: string; csr: string; profile?: LeafProfileName }): Promise<void> {
  const state = readState(options.dir);
  const endpoint = findEndpoint(state, id);
  if (endpoint.status === 'removed')
    throw new CliError(CLI_ERROR_CODES.regionRefused, `endpoint "${id}" was removed; nothing is issued to it`);
  const entry = await issueFromRequest(
    options.dir,
    state,
    id,
    endpoint.kind,
    options.csr,
    options.profile,
    await caIssuer(options.dir),
  );
  writeState(options.dir, {
    ...state,
    endpoints: state.endpoints.map((e) => (e === endpoint ? { ...e, certificates: [...e.certificates, entry] } : e)),
  });
  printLines([
    `Issued ${entry.profile} certificate ${entry.serialNumber} (${entry.subject}) to ${join(options.dir, entry.file)}.`,
  ]);
}

function list(options: { dir: string; json?: true }): void {
  const state = readState(options.dir);
  if (options.json) {
    printJson({ region: state.region, crl: state.crl, endpoints: state.endpoints });
    return;
  }
  printLines([
    `Region "${state.region}": CRL number ${state.crl.crlNumber}, next update ${state.crl.nextUpdate}; ${state.endpoints.length} endpoint(s)`,
    ...state.endpoints.map((endpoint) => {
      const certificates = endpoint.certificates
        .map((c) => `${c.profile} ${c.serialNumber}${c.revokedAt ? ' (revoked)' : ''}`)
        .join(', ');
      return `  ${endpoint.id.padEnd(24)} ${endpoint.kind.padEnd(13)} ${endpoint.status.padEnd(9)} ${certificates || 'no certificates'}`;
    }),
  ]);
}

/**
 * Suspend and resume change the definitions; an import only adds and updates (RabbitMQ's import_definitions never
 * deletes a permission), so a suspension is applied on the broker with the printed rabbitmqctl lines.
 */
function setStatus(id: string, options: { dir: string }, status: 'active' | 'suspended'): void {
  const state = readState(options.dir);
  const endpoint = findEndpoint(state, id);
  if (endpoint.status === 'removed')
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `endpoint "${id}" was removed; it cannot be ${status === 'active' ? 'resumed' : 'suspended'}`,
    );
  if (endpoint.status === status) {
    printLines([`Endpoint "${id}" is already ${status}; nothing changed.`]);
    return;
  }
  const next = { ...state, endpoints: state.endpoints.map((e) => (e === endpoint ? { ...e, status } : e)) };
  writeDefinitions(options.dir, next, readSecrets(options.dir));
  writeState(options.dir, next);
  const vhost = state.broker.vhost;
  if (brokerKindOf(state) === 'artemis') {
    printLines([
      status === 'suspended'
        ? `Suspended "${id}": its broker user keeps its downlink but has no role in ${ARTEMIS_FILES.roles}, so no rights.`
        : `Resumed "${id}": its role is back in ${ARTEMIS_FILES.roles}.`,
      applyLine(options.dir, next),
      ...(status === 'suspended' ? [disconnectLine(id)] : []),
    ]);
    return;
  }
  printLines(
    status === 'suspended'
      ? [
          `Suspended "${id}": its broker user keeps its queue but has no permissions in ${FILES.definitions}. On the broker, run:`,
          `  rabbitmqctl clear_permissions -p ${vhost} ${endpoint.brokerUser}`,
          `  rabbitmqctl clear_topic_permissions -p ${vhost} ${endpoint.brokerUser}`,
          disconnectLine(id),
        ]
      : [`Resumed "${id}". On the broker, run: rabbitmqctl import_definitions ${join(options.dir, FILES.definitions)}`],
  );
}

/** Links attached before the rights went keep reading until their connection closes (endpoint-provisioner.ts). */
const disconnectLine = (id: string) =>
  `Then close the links it has open (the broker checks rights when a link attaches), on the hub's host: npx rts hub disconnect ${id} --config hub-config.json`;

async function remove(id: string, options: { dir: string; crlDays: string }): Promise<void> {
  let state = readState(options.dir);
  const endpoint = findEndpoint(state, id);
  if (endpoint.status === 'removed') {
    printLines([`Endpoint "${id}" was already removed; nothing changed.`]);
    return;
  }
  const revokedAt = new Date().toISOString();
  const toRevoke = endpoint.certificates.filter(
    (c) => !c.revokedAt && !state.revoked.some((r) => r.serialNumber === c.serialNumber),
  );
  state = {
    ...state,
    revoked: [...state.revoked, ...toRevoke.map((c) => ({ serialNumber: c.serialNumber, revokedAt }))],
    endpoints: state.endpoints.map((e) =>
      e === endpoint
        ? {
            ...e,
            status: 'removed' as const,
            certificates: e.certificates.map((c) => ({ ...c, revokedAt: c.revokedAt ?? revokedAt })),
          }
        : e,
    ),
  };
  state = await writeCrl(options.dir, state, positive(options.crlDays, '--crl-days'));
  const secrets = readSecrets(options.dir);
  // Its broker password and the passwords of its .p12 files (`<id>.p12`, `<id>.<local id>.<use>.p12`): an endpoint
  // id has no '.', so the prefix is its own.
  for (const name of Object.keys(secrets))
    if (name === id || (name.startsWith(`${id}.`) && name.endsWith('.p12'))) delete secrets[name];
  writeJson(join(options.dir, FILES.secrets), secrets, SECRET);
  writeDefinitions(options.dir, state, secrets);
  writeState(options.dir, state);
  const artemis = brokerKindOf(state) === 'artemis';
  printLines([
    `Removed "${id}": ${toRevoke.length} certificate(s) revoked, ${join(options.dir, FILES.crl)} is CRL number ${state.crl.crlNumber}.${artemis ? '' : ' On the broker, run:'}`,
    ...(artemis
      ? [
          applyLine(options.dir, state),
          `Then delete its downlink, which the hub made: bin/artemis queue delete --name ${artemisDownlinkAddress(id)}`,
        ]
      : [
          `  rabbitmqctl delete_user ${endpoint.brokerUser}`,
          `  rabbitmqctl delete_queue -p ${state.broker.vhost} ${downlinkQueueName(id)}`,
        ]),
    'The hub takes the new CRL from its trust.crlFiles within a minute (at once: rts hub reload-trust) and sends it to every endpoint.',
  ]);
}

async function revoke(options: { dir: string; serial?: string; endpoint?: string; crlDays: string }): Promise<void> {
  if ((options.serial === undefined) === (options.endpoint === undefined))
    throw usageError('give --serial or --endpoint, one of them');
  let state = readState(options.dir);
  const serials =
    options.serial !== undefined
      ? [options.serial.toLowerCase().replace(/^0x/, '').replace(/:/g, '')]
      : findEndpoint(state, options.endpoint!).certificates.map((c) => c.serialNumber);
  if (options.serial !== undefined && !/^[0-9a-f]+$/.test(serials[0]!))
    throw usageError(`--serial must be hexadecimal (as rts pki show prints it), not ${JSON.stringify(options.serial)}`);
  const fresh = serials.filter(
    (serial) => !state.revoked.some((r) => r.serialNumber.toLowerCase() === serial.toLowerCase()),
  );
  if (fresh.length === 0) {
    printLines([
      serials.length === 0
        ? `Endpoint "${options.endpoint}" has no certificates; nothing changed.`
        : `Already revoked: ${serials.join(', ')}; nothing changed.`,
    ]);
    return;
  }
  const revokedAt = new Date().toISOString();
  const isFresh = (serial: string) => fresh.some((f) => f.toLowerCase() === serial.toLowerCase());
  state = {
    ...state,
    revoked: [...state.revoked, ...fresh.map((serialNumber) => ({ serialNumber, revokedAt }))],
    endpoints: state.endpoints.map((e) => ({
      ...e,
      certificates: e.certificates.map((c) => (isFresh(c.serialNumber) ? { ...c, revokedAt } : c)),
    })),
  };
  state = await writeCrl(options.dir, state, positive(options.crlDays, '--crl-days'));
  writeState(options.dir, state);
  printLines([
    `Revoked ${fresh.join(', ')}; ${join(options.dir, FILES.crl)} is CRL number ${state.crl.crlNumber}, next update ${state.crl.nextUpdate}.`,
  ]);
}

async function publishCrl(options: { dir: string; days: string }): Promise<void> {
  const state = await writeCrl(options.dir, readState(options.dir), positive(options.days, '--days'));
  writeState(options.dir, state);
  printLines([
    `${join(options.dir, FILES.crl)}: CRL number ${state.crl.crlNumber}, ${state.revoked.length} revoked, next update ${state.crl.nextUpdate}.`,
  ]);
}

/**
 * What `rabbitmqctl import_definitions` gives each active endpoint, through the management API instead (a broker the
 * administrator has no shell on, or the demo broker): its user with the password of secrets.json, then what the hub's
 * provisioner gives it at registration (downlink queue, binding, permissions), the same grants as the definitions. Not
 * the demo broker's addUser grants (read nothing until registration): a second run would take a registered endpoint's
 * downlink away. Idempotent; suspended and removed endpoints are left alone (suspend and remove print their commands).
 */
async function syncBroker(options: { dir: string }): Promise<void> {
  const state = readState(options.dir);
  const url = state.broker.managementUrl;
  if (brokerKindOf(state) === 'artemis' || url === undefined)
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `sync-broker speaks RabbitMQ's management API; this region runs ActiveMQ Artemis. ${applyLine(options.dir, state)}`,
    );
  const http = plainHttpProblem(url);
  if (http)
    throw new CliError(
      CLI_ERROR_CODES.regionRefused,
      `${join(options.dir, FILES.state)} broker.managementUrl: ${http}`,
    );
  const secrets = readSecrets(options.dir);
  const secretOf = (name: string) => {
    const value = secrets[name];
    if (!value)
      throw new CliError(
        CLI_ERROR_CODES.badManifest,
        `${join(options.dir, FILES.secrets)} holds no password for "${name}"`,
      );
    return value;
  };
  const active = state.endpoints.filter((endpoint) => endpoint.status === 'active');
  const passwords = active.map((endpoint) => secretOf(endpoint.brokerUser));
  const api = { url, username: ADMIN_USER, password: secretOf(ADMIN_USER), deliveryLimit: state.broker.deliveryLimit };
  const call = managementApiCall(api);
  const provisioner = createRabbitmqProvisioner(api);
  const applied: string[] = [];
  try {
    for (const [i, endpoint] of active.entries()) {
      await call('PUT', `users/${encodeURIComponent(endpoint.brokerUser)}`, { password: passwords[i], tags: '' });
      await provisioner.provision(endpoint.brokerUser);
      const queue = downlinkQueueName(endpoint.brokerUser);
      applied.push(
        `  ${endpoint.brokerUser}: user (password of secrets.json), queue ${queue} bound to ${RABBITMQ_TOPOLOGY.downlinkExchange}; reads ${queue}, writes ${RABBITMQ_TOPOLOGY.uplinkExchange} under routing key ${endpoint.brokerUser}`,
      );
    }
  } catch (error) {
    if (!(error instanceof ProvisioningError)) throw error;
    const done = applied.length
      ? ` (applied before: ${active
          .slice(0, applied.length)
          .map((e) => e.id)
          .join(', ')})`
      : '';
    throw new CliError(
      error.unreachable ? CLI_ERROR_CODES.brokerUnreachable : CLI_ERROR_CODES.broker,
      `${url}: ${error.message}${done}`,
      { cause: error },
    );
  }
  const left = state.endpoints
    .filter((endpoint) => endpoint.status !== 'active')
    .map((endpoint) => `${endpoint.id} (${endpoint.status})`);
  printLines([
    active.length
      ? `Applied to the broker at ${url}, vhost ${state.broker.vhost}:`
      : `No active endpoint; nothing applied to the broker at ${url}.`,
    ...applied,
    ...(left.length ? [`Left alone: ${left.join(', ')}.`] : []),
  ]);
}

async function enrolmentWrite(id: string, options: { dir: string }): Promise<void> {
  const state = readState(options.dir);
  const endpoint = findEndpoint(state, id);
  if (endpoint.status === 'removed')
    throw new CliError(CLI_ERROR_CODES.regionRefused, `endpoint "${id}" was removed; it gets no enrolment file`);
  printLines([`Wrote ${await writeEnrolment(options.dir, state, endpoint)} (with CRL number ${state.crl.crlNumber}).`]);
}

async function enrolmentShow(file: string, options: { trust: string; json?: true }): Promise<void> {
  const trustedCa = pemToDer(readPemCertificate(options.trust), PEM_LABELS.certificate);
  let enrolment: Enrolment;
  try {
    enrolment = await verifyEnrolment(readBytes(file), trustedCa);
  } catch (error) {
    if (isEnrolmentError(error))
      throw new CliError(CLI_ERROR_CODES.enrolmentRefused, `${file}: ${error.message}`, { cause: error });
    throw error;
  }
  if (options.json) {
    printJson(enrolment);
    return;
  }
  const subject = (pem: string) => describeCertificate(pemToDer(pem, PEM_LABELS.certificate)).subject;
  const crl = readCrl(pemToDer(enrolment.crlPem, PEM_LABELS.crl));
  printLines([
    `Enrolment file ${file}: verified against ${resolve(options.trust)}`,
    `region:       ${enrolment.region}`,
    `endpoint:     ${enrolment.endpoint.id} (${enrolment.endpoint.kind})`,
    `broker:       ${enrolment.broker.kind === 'artemis' ? 'ActiveMQ Artemis at ' : ''}${enrolment.broker.hosts.map((h) => `${h.host}:${h.port}`).join(', ')}${enrolment.broker.kind === 'artemis' ? '' : `, vhost ${enrolment.broker.vhost}`}, user ${enrolment.broker.username}, ${enrolment.broker.tlsCaPem ? `TLS CA ${subject(enrolment.broker.tlsCaPem)}${enrolment.broker.tlsServerName ? `, server name ${enrolment.broker.tlsServerName}` : ''}` : 'plain AMQP (this computer only)'}`,
    `CA:           ${subject(enrolment.caCertificatePem)}`,
    `CA SHA-256:   ${await certificateFingerprint(trustedCa)}`,
    `CRL:          number ${crl.crlNumber ?? '-'}, ${crl.revoked.length} revoked, next update ${crl.nextUpdate?.toISOString() ?? '-'}`,
    `hub:          ${subject(enrolment.hubCertificatePem)}`,
    `issued:       ${enrolment.issuedAt}`,
  ]);
}

export function registerRegionCommands(program: Command): void {
  const region = program
    .command('region')
    .description("a real region's administration: CA, hub, broker users, endpoints, enrolment files, revocation");
  const dirOption = () => new Option('--dir <dir>', "the region's admin state directory").makeOptionMandatory();
  const profiles = ['clinic-system', 'practitioner-signing', 'practitioner-encryption'];

  region
    .command('create')
    .description(
      'create a region into an empty directory: CA, hub identity, enrolment signer, CRL, broker definitions, hub configuration',
    )
    .addOption(dirOption())
    .requiredOption('--name <region>', 'the region name, e.g. "North Region"')
    .requiredOption('--broker-host <host:port>', 'a broker node clients connect to (repeat for each node)', parseHost)
    .option(
      '--broker-ca <file>',
      "the CA (PEM) of the broker's TLS certificate; required unless the broker is on this computer",
    )
    .option(
      '--tls-server-name <name>',
      "the name the broker's TLS certificate carries, when it is not the first --broker-host (not the AMQP hostname vhost:…)",
    )
    .option(
      '--management-url <url>',
      'the RabbitMQ management API the hub provisions through (default: the first broker host, https 15671)',
    )
    .addOption(
      new Option('--broker-kind <kind>', 'the broker the region runs (docs/brokers.md)')
        .choices([...BROKER_KINDS])
        .default('rabbitmq'),
    )
    .addOption(new Option('--key-type <type>', 'key type of every certificate').choices(['ec', 'rsa']).default('ec'))
    .option('--delivery-limit <n>', 'deliveries of one message before it is dead-lettered', '5')
    .option('--crl-days <n>', "days until the CRL's nextUpdate", String(DEFAULT_CRL_DAYS))
    .option(
      '--operator-port <port>',
      "the hub's operator API port on 127.0.0.1 (rts hub …)",
      String(DEFAULT_OPERATOR_PORT),
    )
    .action(create);
  region
    .command('add-endpoint')
    .description('add a workstation or clinic system: broker user with a fresh password, certificates, enrolment file')
    .argument('<id>', 'endpoint id (lower-case letters, digits, -)')
    .addOption(dirOption())
    .addOption(new Option('--kind <kind>', 'what the endpoint is').choices(ENDPOINT_KINDS).makeOptionMandatory())
    .option(
      '--tls-server-name <name>',
      "the broker's TLS server name for this endpoint, when it differs from the region's",
    )
    .option(
      '--csr <file...>',
      'certification requests from the endpoint (rts pki request); without one, a clinic system gets a key in a .p12',
    )
    .addOption(
      new Option(
        '--profile <profile>',
        'certificate profile for --csr (default for a clinic system: clinic-system)',
      ).choices(profiles),
    )
    .option(
      '--practitioner <local-id...>',
      "a clinic system's practitioner (directory id <id>.<local-id>): signing and encryption certificates with keys in .p12 files",
    )
    .action(addEndpoint);
  region
    .command('issue')
    .description("issue a certificate to an endpoint from its request, e.g. a practitioner's at a workstation")
    .argument('<id>', 'endpoint id')
    .addOption(dirOption())
    .requiredOption('--csr <file>', 'the certification request')
    .addOption(new Option('--profile <profile>', 'certificate profile').choices(profiles))
    .action(issue);
  region
    .command('list')
    .description('list the endpoints, their status and certificates')
    .addOption(dirOption())
    .option('--json', 'as JSON')
    .action(list);
  region
    .command('suspend')
    .description("take an endpoint's broker permissions away (its certificates stay valid)")
    .argument('<id>', 'endpoint id')
    .addOption(dirOption())
    .action((id: string, options: { dir: string }) => setStatus(id, options, 'suspended'));
  region
    .command('resume')
    .description('give a suspended endpoint its broker permissions back')
    .argument('<id>', 'endpoint id')
    .addOption(dirOption())
    .action((id: string, options: { dir: string }) => setStatus(id, options, 'active'));
  region
    .command('remove')
    .description('remove an endpoint: its broker user goes, its certificates are revoked')
    .argument('<id>', 'endpoint id')
    .addOption(dirOption())
    .option('--crl-days <n>', "days until the new CRL's nextUpdate", String(DEFAULT_CRL_DAYS))
    .action(remove);
  region
    .command('revoke')
    .description("revoke any certificate this CA issued, by serial, or all of an endpoint's; writes a new CRL")
    .addOption(dirOption())
    .option('--serial <hex>', 'the serial number, as rts pki show prints it')
    .option('--endpoint <id>', 'every certificate of this endpoint')
    .option('--crl-days <n>', "days until the new CRL's nextUpdate", String(DEFAULT_CRL_DAYS))
    .action(revoke);
  region
    .command('publish-crl')
    .description('write a new CRL (next number, same revocations, new nextUpdate)')
    .addOption(dirOption())
    .option('--days <n>', 'days until its nextUpdate', String(DEFAULT_CRL_DAYS))
    .action(publishCrl);
  region
    .command('sync-broker')
    .description(
      "give every active endpoint its broker user, downlink queue and permissions through the broker's management API (region.json's managementUrl, as rts-admin)",
    )
    .addOption(dirOption())
    .action(syncBroker);
  const enrolment = region
    .command('enrolment')
    .description('enrolment files: what an endpoint needs to join, signed by the region');
  enrolment
    .command('write')
    .description("write an endpoint's enrolment file again, e.g. with the current CRL")
    .argument('<id>', 'endpoint id')
    .addOption(dirOption())
    .action(enrolmentWrite);
  enrolment
    .command('show')
    .description('verify an enrolment file against the region CA and print it')
    .argument('<file>', 'the .rtsenrol file')
    .requiredOption('--trust <ca.pem>', 'the region CA certificate, obtained out of band')
    .option('--json', 'print its contents as JSON')
    .action(enrolmentShow);
}
