import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createRootCertificate,
  generateKeyPair,
  issueCertificate,
  type CertificateIssuer,
  type LeafProfileName,
} from '../../../shared/pki/index.ts';
import { toBase64 } from '../../../shared/pki/index.ts';
import type { PropertiesOf } from '../../../shared/protocol/index.ts';
import { buildExpertEntry, buildOrganization, type DirectoryResource } from '../../../shared/protocol/fhir/index.ts';
import { openDatabase } from '../../../transport/index.ts';
import { openDirectoryMirror } from './directory-mirror.ts';
import { createDirectorySync } from './directory-sync.ts';

/**
 * The workstation's own check of what the hub sends (docs/protocol.md §5.1): it does not take the hub's word that an
 * entry's certificates are the practitioner's, so a hub (or a clinic it lets through) cannot give an expert an
 * encryption certificate whose key someone else holds.
 */
const caKeys = await generateKeyPair();
const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: 'Sync Test Root CA' } });
const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };
const issue = async (profile: LeafProfileName, commonName: string) =>
  toBase64(
    (
      await issueCertificate({
        profile,
        subject: { commonName },
        publicKey: (await generateKeyPair()).publicKey,
        issuer,
      })
    ).der,
  );
const practitioner = async (id: string) => ({
  id,
  signing: await issue('practitioner-signing', id),
  encryption: await issue('practitioner-encryption', id),
});

const dir = mkdtempSync(join(tmpdir(), 'rts-sync-'));
const db = openDatabase(join(dir, 'store.db'), 'k'.repeat(40));
const mirror = openDirectoryMirror(db);
const sync = createDirectorySync({ mirror });
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ahmed = await practitioner('clinic-a.dr-ahmed');
const chen = await practitioner('clinic-b.dr-chen');
const riverside = buildOrganization({ id: 'clinic-a.riverside', name: 'Riverside Hospital', city: 'Bergen' });
const entry = (
  id: string,
  certificates: { signing: string; encryption: string },
  organizationId = 'clinic-a.riverside',
  family = 'Ahmed',
) =>
  buildExpertEntry({
    practitionerId: id,
    family,
    given: ['Layla'],
    languages: ['en'],
    specialties: [{ text: 'Cardiology' }],
    organizationId,
    endpoints: [id.split('.')[0]!],
    signingCertificate: certificates.signing,
    encryptionCertificate: certificates.encryption,
  });
const payload = (entries: { resource?: DirectoryResource; request?: { method: string; url: string } }[]) => ({
  entry: [{}, { resource: { entry: entries } }],
});

describe('directory sync: entries bound to their certificates', () => {
  it('keeps entries whose certificates name their directory id, and refuses an impostor and cross-clinic references', async () => {
    const impostorRole = entry('clinic-x.dr-ahmed', {
      signing: ahmed.signing,
      encryption: (await practitioner('clinic-x.dr-ahmed')).encryption,
    });
    const foreignHospital = entry(
      'clinic-x.dr-lund',
      await practitioner('clinic-x.dr-lund'),
      'clinic-a.riverside',
      'Lund',
    );
    const [otherPractitioner, otherRole] = entry(
      'clinic-x.dr-ola',
      await practitioner('clinic-x.dr-ola'),
      'clinic-x.hospital',
      'Ola',
    );
    const stolenRole = { ...otherRole, practitioner: { reference: 'Practitioner/clinic-a.dr-ahmed' } };
    const prepared = await sync.prepareSnapshotBatch(
      {
        rtsBatchId: 'b',
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
        rtsDirectoryVersion: 1,
      } as PropertiesOf<'directory.snapshot'>,
      payload(
        [
          riverside,
          ...entry(ahmed.id, ahmed),
          ...entry(chen.id, chen, 'clinic-a.riverside', 'Chen'),
          ...impostorRole,
          ...foreignHospital,
          otherPractitioner,
          stolenRole,
        ].map((resource) => ({ resource })),
      ),
    );
    expect(prepared.refused).toEqual([
      {
        practitionerId: 'clinic-b.dr-chen',
        reason: expect.stringContaining('Organization/clinic-a.riverside, which clinic-b did not publish'),
      },
      {
        practitionerId: 'clinic-x.dr-ahmed',
        reason: 'the signing certificate is issued to "clinic-a.dr-ahmed", not to the directory id clinic-x.dr-ahmed',
      },
      { practitionerId: 'clinic-x.dr-lund', reason: expect.stringContaining('which clinic-x did not publish') },
      {
        practitionerId: 'clinic-x.dr-ola',
        reason:
          'PractitionerRole/clinic-x.dr-ola must refer to Practitioner/clinic-x.dr-ola, not Practitioner/clinic-a.dr-ahmed',
      },
    ]);
    expect(prepared.apply().complete).toBe(true);
    expect(mirror.search({}).experts.map((e) => e.practitionerId)).toEqual(['clinic-a.dr-ahmed']);
  });

  it("refuses a hub-signed update that swaps an expert's encryption certificate for another CA-issued one", async () => {
    const [swapped] = entry(ahmed.id, { signing: ahmed.signing, encryption: chen.encryption });
    const prepared = await sync.prepareUpdate(
      { rtsDirectoryBaseVersion: 1, rtsDirectoryVersion: 2 } as PropertiesOf<'directory.update'>,
      payload([{ resource: swapped, request: { method: 'PUT', url: `Practitioner/${ahmed.id}` } }]),
    );
    expect(prepared.refused).toEqual([
      {
        practitionerId: ahmed.id,
        reason: 'the encryption certificate is issued to "clinic-b.dr-chen", not to the directory id clinic-a.dr-ahmed',
      },
    ]);
    expect(prepared.apply()).toBe('applied');
    // Listed as refused and out of the mirror: nobody can encrypt a consult to the swapped key.
    expect(mirror.resource(`Practitioner/${ahmed.id}`)).toBeUndefined();
    expect(mirror.search({}).experts).toEqual([]);
  });
});
