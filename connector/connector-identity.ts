import { readFileSync } from 'node:fs';
import {
  createCertificateValidator,
  importDecryptionKey,
  importSigningKey,
  isCmsError,
  type CmsRecipientIdentity,
  type CmsSigner,
  type CryptoKey,
  type TrustConfig,
} from '../shared/cms/index.ts';
import type { Enrolment } from '../shared/enrolment/index.ts';
import {
  commonNameOf,
  isNewerCrl,
  parsePkcs12,
  pemToDer,
  pemToDerAll,
  PEM_LABELS,
  readCrl,
  verifyCrl,
} from '../shared/pki/index.ts';
import { certificateBindingProblem } from '../shared-node/index.ts';
import type { CrlOutcome } from '../main/node/index.ts';
import { migrate, type SqliteDatabase } from '../transport/index.ts';
import { clinicOf, type ConnectorConfig } from './connector-config.ts';
import type { SecretResolver } from './secret-reference.ts';

/**
 * The keys and trust of one connector: the clinic system's certificate (registration, directory publishes, snapshot
 * requests), every configured practitioner's signing and encryption certificates, and the region's trust from the
 * enrolment file, with the newest CRL the hub has sent since (kept in the store). Private keys are read from their
 * .p12 files at start into non-extractable Web Crypto keys and never leave this process: the API has no way to ask
 * for one.
 */
export interface ConnectorIdentity {
  readonly endpointId: string;
  /** The clinic system's signer. */
  clinicSigner(): CmsSigner;
  practitionerIds(): readonly string[];
  has(practitionerId: string): boolean;
  signer(practitionerId: string): CmsSigner;
  /** The current encryption identity first, then the earlier ones kept to read older cases. */
  recipients(practitionerId: string): [CmsRecipientIdentity, ...CmsRecipientIdentity[]];
  /** A practitioner's certificates as base64 DER, for the directory entries the connector publishes. */
  certificatesOf(practitionerId: string): { signing: string; encryption: string } | undefined;
  trust(): TrustConfig;
  hubCertificate(): Uint8Array;
  applyCrl(der: Uint8Array): Promise<CrlOutcome>;
  crlStatus(now?: Date): { nextUpdate?: string; state: 'current' | 'expiring' | 'stale' };
}

export class ConnectorIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectorIdentityError';
  }
}

const CRL_EXPIRING_MS = 72 * 3_600_000;

const MIGRATIONS = [
  {
    version: 1,
    sql: 'create table connector_crls (issuer text primary key, der blob not null, applied_at integer not null);',
  },
];

interface Loaded {
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
  readonly chain: Uint8Array[];
}

async function readPkcs12(
  file: string,
  password: string,
  what: string,
): Promise<{ certificate: Uint8Array; chain: Uint8Array[]; pkcs8: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (error) {
    throw new ConnectorIdentityError(
      `${what}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    const contents = await parsePkcs12(bytes, password);
    return { certificate: contents.certificate, chain: contents.chain, pkcs8: contents.privateKeyPkcs8 };
  } catch (error) {
    throw new ConnectorIdentityError(
      `${what}: ${file} cannot be opened with its password (${(error as Error).message})`,
    );
  }
}

export async function openConnectorIdentity(input: {
  db: SqliteDatabase;
  config: ConnectorConfig;
  enrolment: Enrolment;
  secrets: SecretResolver;
  path: (relative: string) => string;
}): Promise<ConnectorIdentity> {
  const { db, config, enrolment, secrets, path } = input;
  migrate(db, 'connector-identity', MIGRATIONS);
  const endpointId = enrolment.endpoint.id;
  const anchor = pemToDer(enrolment.caCertificatePem, PEM_LABELS.certificate);
  const hub = pemToDer(enrolment.hubCertificatePem, PEM_LABELS.certificate);

  let currentTrust: TrustConfig | undefined;
  function trust(): TrustConfig {
    currentTrust ??= {
      anchors: [anchor],
      crls: db
        .prepare<[], { der: Uint8Array }>('select der from connector_crls')
        .all()
        .map((r) => new Uint8Array(r.der)),
    };
    return currentTrust;
  }

  async function applyCrl(der: Uint8Array): Promise<CrlOutcome> {
    let info;
    try {
      info = await verifyCrl(der, anchor);
    } catch {
      return 'invalid';
    }
    const held = db
      .prepare<[string], { der: Uint8Array }>('select der from connector_crls where issuer = ?')
      .get(info.issuer);
    if (held && Buffer.from(held.der).equals(Buffer.from(der))) return 'held';
    if (held && !isNewerCrl(info, readCrl(new Uint8Array(held.der)))) return 'older';
    db.prepare(
      'insert into connector_crls (issuer, der, applied_at) values (?, ?, ?) on conflict(issuer) do update set der = excluded.der, applied_at = excluded.applied_at',
    ).run(info.issuer, der, Date.now());
    currentTrust = undefined;
    return 'applied';
  }

  // The enrolment's CRL, unless the hub has sent a newer one since.
  for (const der of pemToDerAll(enrolment.crlPem, PEM_LABELS.crl)) await applyCrl(der);

  const validate = createCertificateValidator({ anchors: [anchor], crls: trust().crls ?? [] });
  async function load(
    spec: { pkcs12File: string; password: Parameters<SecretResolver['resolve']>[0] },
    what: string,
    use: 'signing' | 'encryption',
    options: { decryptOnly?: boolean } = {},
  ): Promise<Loaded> {
    const loaded = await readPkcs12(
      path(spec.pkcs12File),
      await secrets.resolve(spec.password, `${what} password`),
      what,
    );
    try {
      await validate(loaded.certificate, use, new Date());
    } catch (error) {
      if (!isCmsError(error)) throw error;
      if (!(
        options.decryptOnly &&
        (error.code === 'cms-certificate-expired' || error.code === 'cms-certificate-revoked')
      )) {
        throw new ConnectorIdentityError(
          `${what}: the certificate in ${spec.pkcs12File} cannot be used: ${error.message}`,
        );
      }
    }
    const privateKey =
      use === 'signing'
        ? await importSigningKey(loaded.pkcs8, loaded.certificate)
        : await importDecryptionKey(loaded.pkcs8, loaded.certificate);
    loaded.pkcs8.fill(0);
    return {
      certificate: loaded.certificate,
      chain: loaded.chain.filter((c) => !Buffer.from(c).equals(Buffer.from(anchor))),
      privateKey,
    };
  }

  const clinic = await load(config.clinicSystem, 'clinicSystem', 'signing');
  const clinicName = commonNameOf(clinic.certificate);
  if (clinicName !== endpointId)
    throw new ConnectorIdentityError(
      `clinicSystem: the certificate names "${clinicName ?? ''}", but the enrolment file is for endpoint "${endpointId}"`,
    );

  const practitioners = new Map<string, { signing: Loaded; encryption: Loaded; earlier: Loaded[] }>();
  for (const p of config.practitioners) {
    if (clinicOf(p.id) !== endpointId)
      throw new ConnectorIdentityError(
        `practitioners: ${p.id} is not a practitioner of ${endpointId} (its id must start with "${endpointId}.")`,
      );
    const signing = await load(p.signing, `practitioner ${p.id} signing`, 'signing');
    const encryption = await load(p.encryption, `practitioner ${p.id} encryption`, 'encryption');
    for (const [use, loaded] of [
      ['signing', signing],
      ['encryption', encryption],
    ] as const) {
      const problem = certificateBindingProblem(loaded.certificate, use, p.id);
      if (problem) throw new ConnectorIdentityError(`practitioner ${p.id}: ${problem.detail}`);
    }
    // An earlier key may have expired or been revoked since: it only decrypts what was sent to it before.
    const earlier: Loaded[] = [];
    for (const [i, spec] of p.earlierEncryption.entries())
      earlier.push(
        await load(spec, `practitioner ${p.id} earlierEncryption[${i}]`, 'encryption', { decryptOnly: true }),
      );
    practitioners.set(p.id, { signing, encryption, earlier });
  }

  const need = (practitionerId: string) => {
    const held = practitioners.get(practitionerId);
    if (!held) throw new ConnectorIdentityError(`${practitionerId} is not a practitioner of this connector`);
    return held;
  };
  const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

  return {
    endpointId,
    clinicSigner: () => ({ certificate: clinic.certificate, privateKey: clinic.privateKey, chain: clinic.chain }),
    practitionerIds: () => [...practitioners.keys()],
    has: (practitionerId) => practitioners.has(practitionerId),
    signer(practitionerId) {
      const { signing } = need(practitionerId);
      return { certificate: signing.certificate, privateKey: signing.privateKey, chain: signing.chain };
    },
    recipients(practitionerId) {
      const { encryption, earlier } = need(practitionerId);
      return [
        { certificate: encryption.certificate, privateKey: encryption.privateKey },
        ...earlier.map((e) => ({ certificate: e.certificate, privateKey: e.privateKey })),
      ];
    },
    certificatesOf(practitionerId) {
      const held = practitioners.get(practitionerId);
      return held && { signing: b64(held.signing.certificate), encryption: b64(held.encryption.certificate) };
    },
    trust,
    hubCertificate: () => hub,
    applyCrl,
    crlStatus(now = new Date()) {
      const crls = (trust().crls ?? []).map((der) => readCrl(der));
      const nextUpdate = crls
        .map((c) => c.nextUpdate?.getTime())
        .filter((t): t is number => t !== undefined)
        .sort((a, b) => a - b)[0];
      if (nextUpdate === undefined) return { state: crls.length === 0 ? 'stale' : 'current' };
      const state =
        nextUpdate < now.getTime() ? 'stale' : nextUpdate - now.getTime() < CRL_EXPIRING_MS ? 'expiring' : 'current';
      return { nextUpdate: new Date(nextUpdate).toISOString(), state };
    },
  };
}
