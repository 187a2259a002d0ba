import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  certificateFingerprint,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  signEnrolment,
} from '../../shared/enrolment/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../../shared/pki/index.ts';
import type { BrokerKind } from '../../shared/broker/index.ts';
import type { TestIdentity, TestPractitioner, TestRegion } from '../../testkit/index.ts';
import type { RegionHarness } from './region-harness.ts';

/**
 * What a region's administrator hands a clinic that joins with the connector, made for the test region: the signed
 * enrolment file, the clinic system's and its practitioners' .p12 files, and a connector.json whose secrets are
 * environment variables (`env`). The API token is also written to `tokenFile`, as a clinic system would keep it.
 */
export interface ConnectorFiles {
  readonly dir: string;
  readonly configFile: string;
  readonly tokenFile: string;
  readonly token: string;
  readonly env: Record<string, string>;
}

/** The region a connector joins: its PKI, and the broker as the enrolment names it, with the clinic's broker password. */
export interface ConnectorRegion {
  readonly region: TestRegion;
  readonly brokerHosts: readonly { host: string; port: number }[];
  /** Absent: RabbitMQ (an enrolment file that names none). */
  readonly brokerKind?: BrokerKind;
  readonly vhost: string;
  readonly brokerPassword: string;
}

/** The region harness as clinic `endpointId` joins it (its private broker), the files in a directory of the harness. */
export function harnessRegion(harness: RegionHarness, endpointId: string): ConnectorRegion & { dir: string } {
  return {
    region: harness.region,
    brokerHosts: harness.broker.hosts,
    brokerKind: harness.broker.kind,
    vhost: harness.broker.vhost,
    brokerPassword: harness.broker.endpoint(endpointId).password,
    dir: join(harness.dir, `connector-${endpointId}`),
  };
}

export async function writeConnectorFiles(
  input: ConnectorRegion & {
    endpointId: string;
    clinic: TestIdentity;
    practitioners: readonly TestPractitioner[];
    apiPort: number;
    dir: string;
    /** api.maxRequestBytes; the connector's default when absent. */
    maxRequestBytes?: number;
    /** A webhook (id `clinic-ehr`) to this URL, its secret in RTS_CONNECTOR_WEBHOOK_SECRET (`env`). */
    webhookUrl?: string;
  },
): Promise<ConnectorFiles> {
  const { region, endpointId, dir } = input;
  mkdirSync(dir, { recursive: true });
  const signer = await region.issue('clinic-system', ENROLMENT_SIGNER_COMMON_NAME);
  const enrolment = await signEnrolment(
    {
      format: ENROLMENT_FORMAT,
      region: 'Test Region',
      endpoint: { id: endpointId, kind: 'clinic-system' },
      broker: {
        ...(input.brokerKind && { kind: input.brokerKind }),
        hosts: input.brokerHosts.map((h) => ({ ...h })),
        vhost: input.vhost,
        username: endpointId,
      },
      caCertificatePem: derToPem(region.ca.certificate, PEM_LABELS.certificate),
      crlPem: readFileSync(region.files.crl, 'utf8'),
      hubCertificatePem: derToPem(region.hub.certificate, PEM_LABELS.certificate),
      issuedAt: new Date().toISOString(),
    },
    signer,
  );
  writeFileSync(join(dir, `${endpointId}.rtsenrol`), enrolment);

  const p12Password = randomBytes(12).toString('base64url');
  const p12 = async (file: string, identity: TestIdentity) => {
    const bytes = await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
      certificate: identity.certificate,
      chain: [region.ca.certificate],
      password: p12Password,
    });
    writeFileSync(join(dir, file), bytes, { mode: 0o600 });
    return { pkcs12File: file, password: { env: 'RTS_CONNECTOR_P12_PASSWORD' } };
  };
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const config = {
    enrolmentFile: `${endpointId}.rtsenrol`,
    caFingerprint: await certificateFingerprint(region.ca.certificate),
    brokerPassword: { env: 'RTS_CONNECTOR_BROKER_PASSWORD' },
    clinicSystem: await p12(`${endpointId}.p12`, input.clinic),
    practitioners: await Promise.all(
      input.practitioners.map(async (p) => ({
        id: p.id,
        signing: await p12(`${p.id}.signing.p12`, p.signing),
        encryption: await p12(`${p.id}.encryption.p12`, p.encryption),
      })),
    ),
    dataDir: 'data',
    keychainService: `rts-test-connector-${randomUUID()}`,
    organization: `${endpointId} Health`,
    api: {
      host: '127.0.0.1',
      port: input.apiPort,
      token: { file: 'api-token' },
      ...(input.maxRequestBytes !== undefined && { maxRequestBytes: input.maxRequestBytes }),
    },
    ...(input.webhookUrl && {
      webhooks: [{ id: 'clinic-ehr', url: input.webhookUrl, secret: { env: 'RTS_CONNECTOR_WEBHOOK_SECRET' } }],
    }),
  };
  const configFile = join(dir, 'connector.json');
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return {
    dir,
    configFile,
    tokenFile,
    token,
    env: {
      RTS_CONNECTOR_P12_PASSWORD: p12Password,
      RTS_CONNECTOR_BROKER_PASSWORD: input.brokerPassword,
      ...(input.webhookUrl && { RTS_CONNECTOR_WEBHOOK_SECRET: randomBytes(24).toString('base64url') }),
    },
  };
}

/** A small JSON client of the connector's API for the tests (the Python client is the other-language one). */
export function connectorClient(url: string, token: string) {
  return async function call<T = Record<string, unknown>>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}
