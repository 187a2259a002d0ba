import { readFileSync } from 'node:fs';
import { checkTrustRevocation, importSigningKey, isCmsError, type TrustConfig } from '../shared/cms/index.ts';
import type { LogFields, Logger } from '../shared/index.ts';
import { PEM_LABELS, pemToDer, pemToDerAll } from '../shared/pki/index.ts';
import { loadFhirDefinitions } from '../shared-node/index.ts';
import { brokerAdapterFor, createBrokerConnection, type BrokerConnection } from '../transport/index.ts';
import { createArtemisProvisioner } from './broker/artemis-provisioner.ts';
import type { EndpointProvisioner } from './broker/endpoint-provisioner.ts';
import { createRabbitmqProvisioner } from './broker/rabbitmq-provisioner.ts';
import { createCertificateCache } from '../shared-node/index.ts';
import { HubConfigError, type LoadedHubConfig } from './hub-config.ts';
import type { HubLogEvent } from './hub-service.ts';
import type { PayloadValidationPool } from '../shared-node/index.ts';
import { migrateHubSchema } from './store/hub-schema.ts';
import { openPglite, openPostgres, type SqlClient } from './store/sql-client.ts';
import { createUplinkProcessor, type HubIdentity, type UplinkProcessor } from './uplink-processor.ts';

/**
 * What a hub instance is built from, read from its configuration: the database (migrated), the hub's identity and
 * trust (refused without a current CRL), the uplink processor and the broker connection. startHub composes them;
 * apart from it, each can be checked alone (hub-trust.test.ts).
 */
export async function openHubDatabase(loaded: LoadedHubConfig): Promise<SqlClient> {
  const { database } = loaded.config;
  const sql =
    database.kind === 'embedded'
      ? await openPglite(
          loaded.path(database.path),
          database.templates !== undefined ? { templates: loaded.path(database.templates) } : {},
        )
      : await openPostgres(
          loaded.secret(database.url),
          database.maxConnections ? { maxConnections: database.maxConnections } : {},
        );
  await migrateHubSchema(sql);
  return sql;
}

export async function loadHubIdentity(loaded: LoadedHubConfig): Promise<{ identity: HubIdentity; trust: TrustConfig }> {
  const read = (file: string) => readFileSync(loaded.path(file), 'utf8');
  const certificate = pemToDer(read(loaded.config.identity.certificateFile));
  const privateKey = await importSigningKey(pemToDer(read(loaded.config.identity.privateKeyFile)), certificate);
  const trust: TrustConfig = {
    anchors: loaded.config.trust.anchorFiles.flatMap((f) => pemToDerAll(read(f), PEM_LABELS.certificate)),
    crls: loaded.config.trust.crlFiles.flatMap((f) => pemToDerAll(read(f), PEM_LABELS.crl)),
  };
  // Without a current CRL of every anchor no certificate could be checked: refuse to start rather than refuse every message.
  try {
    await checkTrustRevocation(trust, new Date());
  } catch (error) {
    if (!isCmsError(error)) throw error;
    throw new HubConfigError(
      `hub configuration trust: ${error.message} (a PEM file in trust.crlFiles), then start the hub again`,
    );
  }
  return { identity: { signer: { certificate, privateKey }, brokerUser: loaded.config.broker.username }, trust };
}

export function createProcessor(
  provisioner: EndpointProvisioner,
  identity: HubIdentity,
  trust: TrustConfig,
  validations?: PayloadValidationPool,
  snapshotIntervalMs?: number,
): UplinkProcessor {
  // Base FHIR R4 validation of what the hub reads (registrations, directory publishes) needs the HL7 definitions.
  loadFhirDefinitions();
  const certificates = createCertificateCache(trust);
  return createUplinkProcessor({
    identity,
    trust,
    certificates,
    ...(validations && {
      validateFor: (body) => (content, metadata) =>
        validations.validate(body, content, metadata, (accepted) => certificates.accept(accepted)),
    }),
    ...(snapshotIntervalMs !== undefined && { snapshotIntervalMs }),
    provisioner,
  });
}

const brokerTls = (loaded: LoadedHubConfig) => {
  const { tls } = loaded.config.broker;
  return (
    tls && {
      ca: readFileSync(loaded.path(tls.caFile), 'utf8'),
      ...(tls.servername && { servername: tls.servername }),
    }
  );
};

/** The configured broker's provisioner, as the region's administrator user. */
export function createProvisioner(loaded: LoadedHubConfig): EndpointProvisioner {
  const { broker } = loaded.config;
  const { management } = broker;
  const password = loaded.secret(management.password);
  if (broker.kind === 'artemis') {
    const tls = brokerTls(loaded);
    return createArtemisProvisioner({
      hosts: broker.hosts,
      vhost: broker.vhost,
      username: management.username,
      password,
      ...(tls && { tls }),
    });
  }
  return createRabbitmqProvisioner({
    url: management.url!,
    username: management.username,
    password,
    ...(management.deliveryLimit && { deliveryLimit: management.deliveryLimit }),
  });
}

/** The transport's log lines as hub log events (the code is the event). */
export const hubLogger = (log: (event: HubLogEvent) => void): Logger => {
  const line = (code: string, fields: LogFields = {}) => log({ ...fields, event: code });
  return { info: line, warn: line, error: line };
};

/** The instance's broker connection (not started yet), its state changes logged. */
export function createHubConnection(
  loaded: LoadedHubConfig,
  instanceId: string,
  log: (event: HubLogEvent) => void,
): BrokerConnection {
  const { broker } = loaded.config;
  const tls = brokerTls(loaded);
  const connection = createBrokerConnection({
    hosts: broker.hosts,
    vhost: broker.vhost,
    username: broker.username,
    password: async () => loaded.secret(broker.password),
    containerId: `rts-hub-${instanceId}`,
    adapter: brokerAdapterFor(broker.kind),
    ...(tls && { tls }),
  });
  connection.onStateChanged((state) =>
    log({
      event: 'broker',
      status: state.status,
      ...(state.host && { host: state.host }),
      ...(state.reason && { reason: state.reason }),
    }),
  );
  return connection;
}
