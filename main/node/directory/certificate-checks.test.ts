import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CertificateValidator, TrustConfig } from '../../../shared/cms/index.ts';
import { NO_LOGGER } from '../../../shared/index.ts';
import {
  createCrl,
  createRootCertificate,
  generateKeyPair,
  issueCertificate,
  toBase64,
  type CertificateIssuer,
  type LeafProfileName,
} from '../../../shared/pki/index.ts';
import type { PropertiesOf } from '../../../shared/protocol/index.ts';
import { buildExpertEntry, buildOrganization } from '../../../shared/protocol/fhir/index.ts';
import { createCachedCertificateValidator, trustKeyOf } from '../../../shared-node/index.ts';
import { scratchDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { createCertificateChecks } from './certificate-checks.ts';
import { openDirectoryMirror, type DirectoryMirror } from './directory-mirror.ts';
import { createDirectorySync } from './directory-sync.ts';

/**
 * Arrival takes what is bound to its entry; whether it chains to the region's CA and is not revoked is judged in the
 * background (and where it is used), and the directory shows the verdict.
 */
const root = async (commonName: string) => {
  const keys = await generateKeyPair();
  const ca = await createRootCertificate({ keyPair: keys, subject: { commonName } });
  return { certificate: ca.der, privateKey: keys.privateKey } satisfies CertificateIssuer;
};
const region = await root('Checks Test Root CA');
const elsewhere = await root('Another Region Root CA');

const issued = async (issuer: CertificateIssuer, profile: LeafProfileName, commonName: string) =>
  issueCertificate({ profile, subject: { commonName }, publicKey: (await generateKeyPair()).publicKey, issuer });
async function practitioner(id: string, issuer = region) {
  const signing = await issued(issuer, 'practitioner-signing', id);
  const encryption = await issued(issuer, 'practitioner-encryption', id);
  return { id, signing, encryption };
}
const riverside = buildOrganization({ id: 'clinic-a.riverside', name: 'Riverside Hospital', city: 'Bergen' });
const entry = (p: Awaited<ReturnType<typeof practitioner>>, family: string) =>
  buildExpertEntry({
    practitionerId: p.id,
    family,
    given: ['Layla'],
    languages: ['en'],
    specialties: [{ text: 'Cardiology' }],
    organizationId: 'clinic-a.riverside',
    endpoints: ['clinic-a'],
    signingCertificate: toBase64(p.signing.der),
    encryptionCertificate: toBase64(p.encryption.der),
  });

const ahmed = await practitioner('clinic-a.dr-ahmed');
const berg = await practitioner('clinic-a.dr-berg');
const foreign = await practitioner('clinic-a.dr-lund', elsewhere);
const crl = await createCrl(region);

let db: SqliteDatabase;
let dispose: () => void;
let mirror: DirectoryMirror;
beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
  mirror = openDirectoryMirror(db);
});
afterEach(() => dispose());

async function receive(...entries: ReturnType<typeof entry>[]) {
  const prepared = await createDirectorySync({ mirror }).prepareSnapshotBatch(
    {
      rtsBatchId: 'b',
      rtsBatchIndex: 1,
      rtsBatchCount: 1,
      rtsDirectoryVersion: 1,
    } as PropertiesOf<'directory.snapshot'>,
    { entry: [{}, { resource: { entry: [riverside, ...entries.flat()].map((resource) => ({ resource })) } }] },
  );
  prepared.apply();
  return prepared.refused;
}

const marks = () =>
  Object.fromEntries(
    mirror
      .search({})
      .experts.map((e) => [
        e.practitionerId,
        e.certificates ? `${e.certificates} ${e.certificateProblem ?? ''}` : 'valid',
      ]),
  );

function checks(trust: () => TrustConfig, validator?: () => CertificateValidator, quietMs = 0) {
  let told = 0;
  const created = createCertificateChecks({
    mirror,
    trust,
    validator: validator ?? createCachedCertificateValidator(trust),
    onDidCheck: () => told++,
    logger: NO_LOGGER,
    quietMs,
  });
  return { checks: created, told: () => told };
}

describe('certificate checks in the background', () => {
  it('takes an expert of another CA on arrival, unchecked, and marks it failed once checked; the others valid', async () => {
    expect(await receive(entry(ahmed, 'Ahmed'), entry(berg, 'Berg'), entry(foreign, 'Lund'))).toEqual([]);
    expect(marks()).toEqual({
      'clinic-a.dr-ahmed': 'unchecked ',
      'clinic-a.dr-berg': 'unchecked ',
      'clinic-a.dr-lund': 'unchecked ',
    });
    expect(mirror.uncheckedCount()).toBe(3);

    const trust = { anchors: [region.certificate], crls: [crl] };
    const { checks: run, told } = checks(() => trust);
    expect(await run.checkAll()).toBe(3);
    expect(told()).toBe(1);
    expect(marks()).toEqual({
      'clinic-a.dr-ahmed': 'valid',
      'clinic-a.dr-berg': 'valid',
      'clinic-a.dr-lund': expect.stringMatching(/^failed signing certificate: .+/),
    });
    expect(mirror.uncheckedCount()).toBe(0);
    // Nothing left: a second run checks nothing.
    expect(await run.checkAll()).toBe(0);
  });

  it('forgets every verdict when the trust changes, and the next CRL marks the expert it revokes', async () => {
    await receive(entry(ahmed, 'Ahmed'), entry(berg, 'Berg'));
    let trust: TrustConfig = { anchors: [region.certificate], crls: [crl] };
    const { checks: run } = checks(() => trust);
    await run.checkAll();
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': 'valid', 'clinic-a.dr-berg': 'valid' });

    trust = {
      anchors: [region.certificate],
      crls: [
        await createCrl(region, {
          crlNumber: 2,
          revoked: [{ serialNumber: berg.encryption.serialNumber, revocationDate: new Date() }],
        }),
      ],
    };
    expect(mirror.uncheckedCertificates(trustKeyOf(trust), 10).map((l) => l.practitionerId)).toEqual([
      'clinic-a.dr-ahmed',
      'clinic-a.dr-berg',
    ]);
    expect(await run.checkAll()).toBe(2);
    expect(marks()).toEqual({
      'clinic-a.dr-ahmed': 'valid',
      'clinic-a.dr-berg': expect.stringMatching(/^failed encryption certificate: .*revoked/i),
    });
  });

  it('leaves unchecked an expert whose entry changed while it was being checked, and checks it again', async () => {
    await receive(entry(ahmed, 'Ahmed'));
    const trust = { anchors: [region.certificate], crls: [crl] };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = createCachedCertificateValidator(() => trust)();
    const { checks: run } = checks(
      () => trust,
      () => async (der, use, at) => {
        await gate;
        return inner(der, use, at);
      },
    );
    const first = run.checkAll();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Ahmed's certificates change while the first check waits: its verdict would be about the old ones.
    const renewed = await practitioner('clinic-a.dr-ahmed', elsewhere);
    await receive(entry(renewed, 'Ahmed'));
    release();
    expect(await first).toBe(0);
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': 'unchecked ' });
    expect(await run.checkAll()).toBe(1);
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': expect.stringMatching(/^failed signing certificate/) });
  });

  it('judges nothing without a current CRL, and leaves every expert unchecked', async () => {
    await receive(entry(ahmed, 'Ahmed'));
    const { checks: run } = checks(() => ({ anchors: [region.certificate], crls: [] }));
    expect(await run.checkAll()).toBe(0);
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': 'unchecked ' });
  });

  it('waits for the directory to be quiet, checks once it is, and nothing after it is disposed', async () => {
    await receive(entry(ahmed, 'Ahmed'));
    const trust = { anchors: [region.certificate], crls: [crl] };
    const { checks: quiet, told } = checks(() => trust, undefined, 80);
    const changes = setInterval(() => quiet.schedule(), 20);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': 'unchecked ' });
    clearInterval(changes);
    await expect.poll(told, { timeout: 5_000 }).toBe(1);
    expect(marks()).toEqual({ 'clinic-a.dr-ahmed': 'valid' });

    await receive(entry(berg, 'Berg'));
    quiet.schedule();
    quiet.dispose();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(marks()).toEqual({ 'clinic-a.dr-berg': 'unchecked ' });
  });
});
