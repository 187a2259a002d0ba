import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENROLMENT_FORMAT, type Enrolment } from '../shared/enrolment/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../shared/pki/index.ts';
import { openDatabase } from '../transport/index.ts';
import { createTestRegion, type TestIdentity, type TestRegion } from '../testkit/index.ts';
import { parseConnectorConfig } from './connector-config.ts';
import { openConnectorIdentity } from './connector-identity.ts';
import { createSecretResolver } from './secret-reference.ts';
import { createMemoryVault } from '../main/node/index.ts';

describe('the connector identity', () => {
  let region: TestRegion;
  let dir: string;
  let enrolment: Enrolment;
  const p12 = async (file: string, identity: TestIdentity) => {
    writeFileSync(
      join(dir, file),
      await createPkcs12({
        privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
        certificate: identity.certificate,
        chain: [region.ca.certificate],
        password: 'pw',
      }),
    );
    return { pkcs12File: file, password: { env: 'P12' } };
  };
  const open = async (config: Record<string, unknown>) => {
    const loaded = parseConnectorConfig(
      {
        enrolmentFile: 'unused',
        caFingerprint: `${'AB:'.repeat(31)}AB`,
        brokerPassword: { env: 'X' },
        dataDir: 'data',
        api: { token: { env: 'T' } },
        ...config,
      },
      dir,
    );
    return openConnectorIdentity({
      db: openDatabase(join(dir, `${Math.random()}.db`), undefined),
      config: loaded.config,
      enrolment,
      path: loaded.path,
      secrets: createSecretResolver({ env: { P12: 'pw' }, path: loaded.path, vault: () => createMemoryVault() }),
    });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-connector-identity-'));
    region = await createTestRegion(join(dir, 'pki'));
    enrolment = {
      format: ENROLMENT_FORMAT,
      region: 'Test Region',
      endpoint: { id: 'clinic-c', kind: 'clinic-system' },
      broker: { hosts: [{ host: '127.0.0.1', port: 5672 }], vhost: 'rts', username: 'clinic-c' },
      caCertificatePem: derToPem(region.ca.certificate, PEM_LABELS.certificate),
      crlPem: readFileSync(region.files.crl, 'utf8'),
      hubCertificatePem: derToPem(region.hub.certificate, PEM_LABELS.certificate),
      issuedAt: new Date().toISOString(),
    };
  });

  it('holds the clinic and its practitioners, the current encryption key first and the earlier ones after it', async () => {
    const cole = await region.practitioner('clinic-c.dr-cole');
    const renewed = await region.issue('practitioner-encryption', 'clinic-c.dr-cole');
    const identity = await open({
      clinicSystem: await p12('clinic.p12', await region.clinic('clinic-c')),
      practitioners: [
        {
          id: cole.id,
          signing: await p12('s.p12', cole.signing),
          encryption: await p12('e2.p12', renewed),
          earlierEncryption: [await p12('e1.p12', cole.encryption)],
        },
      ],
    });
    expect(identity.practitionerIds()).toEqual([cole.id]);
    expect(
      identity.recipients(cole.id).map((r) => Buffer.from(r.certificate).equals(Buffer.from(renewed.certificate))),
    ).toEqual([true, false]);
    expect(identity.certificatesOf(cole.id)?.encryption).toBe(Buffer.from(renewed.certificate).toString('base64'));
    expect(() => identity.signer('clinic-c.dr-nobody')).toThrow(/not a practitioner of this connector/);
  });

  it('refuses a clinic certificate of another endpoint, a practitioner of another clinic, and a certificate that names someone else', async () => {
    const clinic = await p12('clinic.p12', await region.clinic('clinic-c'));
    await expect(open({ clinicSystem: await p12('other.p12', await region.clinic('clinic-d')) })).rejects.toThrow(
      /names "clinic-d", but the enrolment file is for endpoint "clinic-c"/,
    );
    const stranger = await region.practitioner('clinic-d.dr-x');
    await expect(
      open({
        clinicSystem: clinic,
        practitioners: [
          {
            id: stranger.id,
            signing: await p12('x.s.p12', stranger.signing),
            encryption: await p12('x.e.p12', stranger.encryption),
          },
        ],
      }),
    ).rejects.toThrow(/not a practitioner of clinic-c/);
    const cole = await region.practitioner('clinic-c.dr-cole');
    const lund = await region.practitioner('clinic-c.dr-lund');
    await expect(
      open({
        clinicSystem: clinic,
        practitioners: [
          {
            id: cole.id,
            signing: await p12('l.s.p12', lund.signing),
            encryption: await p12('c.e.p12', cole.encryption),
          },
        ],
      }),
    ).rejects.toThrow(/issued to "clinic-c.dr-lund", not to the directory id clinic-c.dr-cole/);
    await expect(open({ clinicSystem: { ...clinic, password: { env: 'NOT_SET' } } })).rejects.toThrow(
      /NOT_SET is not set/,
    );
  });
});
