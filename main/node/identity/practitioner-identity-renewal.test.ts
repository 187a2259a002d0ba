import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, seal, sign, verify, type CmsSigner } from '../../../shared/cms/index.ts';
import { toBase64 } from '../../../shared/pki/index.ts';
import {
  createCrl,
  createPkcs12,
  createRootCertificate,
  derToPem,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  issueCertificateFromRequest,
  pemToDer,
  PEM_LABELS,
  type CertificateIssuer,
} from '../../../shared/pki/index.ts';
import { migrate, openDatabase } from '../../../transport/index.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';
import { legacyPendingKeyAccount, privateKeyAccount } from '../vault/vault-accounts.ts';
import { CRL_EXPIRING_HOURS, keyAccountFor, openPractitionerIdentity } from './practitioner-identity.ts';

/**
 * Issue #17 item 2b and 3 (workstation): renewing a certificate keeps every earlier decryption key, so what was sent
 * to the earlier encryption certificate still opens; a key request waits beside the current key; a CRL from the hub
 * is applied only if it is the region's and newer.
 */
const ID = 'clinic-a.dr-ahmed';
const HOUR = 3600_000;

async function region() {
  const keys = await generateKeyPair();
  const ca = await createRootCertificate({ keyPair: keys, subject: { commonName: 'Region CA' } });
  const issuer: CertificateIssuer = { certificate: ca.der, privateKey: keys.privateKey };
  const hubKeys = await generateKeyPair();
  const hub = await issueCertificate({
    profile: 'hub',
    subject: { commonName: 'hub' },
    publicKey: hubKeys.publicKey,
    issuer,
  });
  const crl = await createCrl(issuer);
  const trust = {
    anchorsPem: derToPem(ca.der, PEM_LABELS.certificate),
    crlsPem: derToPem(crl, PEM_LABELS.crl),
    hubCertificatePem: derToPem(hub.der, PEM_LABELS.certificate),
  };
  /** A certificate of `id` for `use` with a new key, as a .p12 (password 'p') and as its parts. */
  async function issue(use: 'signing' | 'encryption', id = ID) {
    const pair = await generateKeyPair();
    const issued = await issueCertificate({
      profile: `practitioner-${use}`,
      subject: { commonName: id },
      publicKey: pair.publicKey,
      issuer,
    });
    const pkcs8 = await exportPrivateKeyPkcs8(pair.privateKey);
    return {
      certificate: issued.der,
      serialNumber: issued.serialNumber,
      pkcs8,
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      pkcs12: await createPkcs12({ privateKeyPkcs8: pkcs8, certificate: issued.der, chain: [], password: 'p' }),
    };
  }
  return { issuer, ca: ca.der, hub: hub.der, crl, trust, issue };
}

function storeOnDisk() {
  return openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-identity-')), 'store.db'), 'k'.repeat(32));
}

async function installed(r: Awaited<ReturnType<typeof region>>) {
  const vault = createMemoryVault();
  const identity = openPractitionerIdentity(storeOnDisk(), vault);
  await identity.setTrust(r.trust);
  for (const use of ['signing', 'encryption'] as const)
    await identity.importPkcs12({ use, pkcs12: (await r.issue(use)).pkcs12, password: 'p' });
  return { vault, identity };
}

const content = new TextEncoder().encode('{"resourceType":"Bundle"}');

/** A peer who writes to the practitioner (and is judged under the same region). */
async function peer(r: Awaited<ReturnType<typeof region>>): Promise<CmsSigner> {
  const signing = await r.issue('signing', 'clinic-b.dr-chen');
  return { certificate: signing.certificate, privateKey: signing.privateKey };
}

describe("renewing the practitioner's certificates", () => {
  it('opens a message sent to the encryption certificate before its renewal after it, and without a directory entry signs with the renewed signing key', async () => {
    const r = await region();
    const { identity, vault } = await installed(r);
    const sender = await peer(r);
    const [before] = await identity.recipients();
    const sentBefore = await seal(content, sender, [before.certificate]);

    const renewed = await r.issue('encryption');
    const status = await identity.importPkcs12({ use: 'encryption', pkcs12: renewed.pkcs12, password: 'p' });
    expect(status).toMatchObject({ ready: true, earlierEncryptionCertificates: 1 });
    expect(status.certificates.find((c) => c.use === 'encryption')?.serialNumber).toBe(renewed.serialNumber);
    const held = await identity.recipients();
    expect(held.map((h) => h.certificate)).toEqual([renewed.certificate, before.certificate]);
    expect((await open(sentBefore, held, identity.trust())).content).toEqual(content);
    expect((await open(await seal(content, sender, [renewed.certificate]), held, identity.trust())).content).toEqual(
      content,
    );

    const signingBefore = (await identity.signer()).certificate;
    const renewedSigning = await r.issue('signing');
    await identity.importPkcs12({ use: 'signing', pkcs12: renewedSigning.pkcs12, password: 'p' });
    const signer = await identity.signer();
    expect(signer.certificate).toEqual(renewedSigning.certificate);
    // One object while nothing changes (shared/cms prepares a signer once per object); another once it does.
    expect(await identity.signer()).toBe(signer);
    expect(signingBefore).not.toEqual(signer.certificate);
    expect((await verify(await sign(content, signer), identity.trust())).signer.serialNumber).toBe(
      renewedSigning.serialNumber,
    );
    // Both encryption keys stay; the earlier signing key too, until the directory lists the renewed certificate.
    expect([...vault.secrets.keys()].filter((a) => a.startsWith('private-key:signing:'))).toHaveLength(2);
    expect([...vault.secrets.keys()].filter((a) => a.startsWith('private-key:encryption:'))).toHaveLength(2);
    expect((await identity.status()).earlierEncryptionCertificates).toBe(1);
    expect(signer.certificate).not.toEqual(signingBefore);
  });

  it('signs with the earlier signing certificate while the directory lists it, with the renewed one once it lists that, and then lets the earlier key go', async () => {
    const r = await region();
    let listed: Uint8Array[] | undefined;
    const vault = createMemoryVault();
    const identity = openPractitionerIdentity(storeOnDisk(), vault, {
      directorySigningCertificates: (id) => (id === ID ? listed : undefined),
    });
    await identity.setTrust(r.trust);
    const first = await r.issue('signing');
    await identity.importPkcs12({ use: 'signing', pkcs12: first.pkcs12, password: 'p' });
    await identity.importPkcs12({ use: 'encryption', pkcs12: (await r.issue('encryption')).pkcs12, password: 'p' });
    listed = [first.certificate];
    const signingKeys = () => [...vault.secrets.keys()].filter((a) => a.startsWith('private-key:signing:'));
    const signedBy = async () =>
      (await verify(await sign(content, await identity.signer()), identity.trust())).signer.certificate;

    const renewed = await r.issue('signing');
    const status = await identity.importPkcs12({ use: 'signing', pkcs12: renewed.pkcs12, password: 'p' });
    expect(status.certificates.find((c) => c.use === 'signing')?.serialNumber).toBe(renewed.serialNumber);
    expect(status.signingInUse).toMatchObject({ serialNumber: first.serialNumber });
    expect(await signedBy()).toEqual(first.certificate);
    expect(signingKeys()).toHaveLength(2);

    // A mirror without this practitioner's entry: the newest valid certificate signs, and no key is dropped for that.
    listed = undefined;
    expect(await signedBy()).toEqual(renewed.certificate);
    expect(signingKeys()).toHaveLength(2);

    // The clinic has published the renewed certificate: it signs, and the earlier signing key leaves the keychain.
    listed = [renewed.certificate];
    expect(await signedBy()).toEqual(renewed.certificate);
    expect((await identity.status()).signingInUse).toBeUndefined();
    expect(signingKeys()).toEqual([keyAccountFor(ID, 'signing', renewed.certificate)]);
    // Gone for good: a directory that lists the earlier one again leaves the renewed one signing.
    listed = [first.certificate];
    expect(await signedBy()).toEqual(renewed.certificate);
  });

  it('keeps the key when a renewal certifies the same key again, after the directory lists the renewed certificate', async () => {
    const r = await region();
    const listed: Uint8Array[] = [];
    const vault = createMemoryVault();
    const identity = openPractitionerIdentity(storeOnDisk(), vault, { directorySigningCertificates: () => listed });
    await identity.setTrust(r.trust);
    const first = await r.issue('signing');
    await identity.importPkcs12({ use: 'signing', pkcs12: first.pkcs12, password: 'p' });
    await identity.importPkcs12({ use: 'encryption', pkcs12: (await r.issue('encryption')).pkcs12, password: 'p' });
    const again = await issueCertificate({
      profile: 'practitioner-signing',
      subject: { commonName: ID },
      publicKey: first.publicKey,
      issuer: r.issuer,
    });
    await identity.importPkcs12({
      use: 'signing',
      pkcs12: await createPkcs12({ privateKeyPkcs8: first.pkcs8, certificate: again.der, chain: [], password: 'p' }),
      password: 'p',
    });
    listed.push(again.der);
    expect((await verify(await sign(content, await identity.signer()), identity.trust())).signer.certificate).toEqual(
      again.der,
    );
    expect([...vault.secrets.keys()].filter((a) => a.startsWith('private-key:signing:'))).toEqual([
      keyAccountFor(ID, 'signing', again.der),
    ]);
    expect(await identity.status()).toMatchObject({ ready: true });
  });

  it('refuses a renewed .p12 of another practitioner and keeps the current certificates', async () => {
    const r = await region();
    const { identity } = await installed(r);
    const current = (await identity.status()).certificates.map((c) => c.serialNumber);
    const other = await r.issue('encryption', 'clinic-a.dr-lima');
    await expect(
      identity.importPkcs12({ use: 'encryption', pkcs12: other.pkcs12, password: 'p' }),
    ).rejects.toMatchObject({
      code: 'identity-invalid',
      message: expect.stringMatching(
        /belongs to clinic-a\.dr-lima, but the certificates here belong to clinic-a\.dr-ahmed/,
      ),
    });
    await expect(identity.createRequest({ use: 'signing', practitionerId: 'clinic-a.dr-lima' })).rejects.toMatchObject({
      code: 'identity-invalid',
    });
    const status = await identity.status();
    expect(status.certificates.map((c) => c.serialNumber)).toEqual(current);
    expect(status.earlierEncryptionCertificates).toBe(0);
  });

  it("lets the first run replace its one certificate with another practitioner's (a wrong file corrected), keeping nothing of the first", async () => {
    const r = await region();
    const vault = createMemoryVault();
    const identity = openPractitionerIdentity(storeOnDisk(), vault);
    await identity.setTrust(r.trust);
    await identity.importPkcs12({
      use: 'encryption',
      pkcs12: (await r.issue('encryption', 'clinic-a.dr-lima')).pkcs12,
      password: 'p',
    });
    const status = await identity.importPkcs12({
      use: 'encryption',
      pkcs12: (await r.issue('encryption')).pkcs12,
      password: 'p',
    });
    expect(status).toMatchObject({ practitionerId: ID, earlierEncryptionCertificates: 0 });
    expect([...vault.secrets.keys()]).toEqual([expect.stringMatching(/^private-key:encryption:clinic-a\.dr-ahmed:/)]);
  });

  it('keeps a requested key waiting beside the current one: signing and decryption go on with the current key until the issued certificate is imported', async () => {
    const r = await region();
    const { identity } = await installed(r);
    const sender = await peer(r);
    const [current] = await identity.recipients();
    const signingCertificate = (await identity.signer()).certificate;
    const sentBefore = await seal(content, sender, [current.certificate]);

    const requests = {
      encryption: await identity.createRequest({ use: 'encryption', practitionerId: ID }),
      signing: await identity.createRequest({ use: 'signing', practitionerId: ID }),
    };
    expect(await identity.status()).toMatchObject({
      ready: true,
      pendingRequests: ['signing', 'encryption'],
      earlierEncryptionCertificates: 0,
    });
    expect((await identity.signer()).certificate).toEqual(signingCertificate);
    expect((await verify(await sign(content, await identity.signer()), identity.trust())).signer.certificate).toEqual(
      signingCertificate,
    );
    expect((await identity.recipients()).map((h) => h.certificate)).toEqual([current.certificate]);
    expect((await open(sentBefore, await identity.recipients(), identity.trust())).content).toEqual(content);

    const issued = await issueCertificateFromRequest({
      request: pemToDer(requests.encryption, PEM_LABELS.certificationRequest),
      profile: 'practitioner-encryption',
      issuer: r.issuer,
    });
    const status = await identity.importCertificate({
      use: 'encryption',
      certificatePem: derToPem(issued.der, PEM_LABELS.certificate),
    });
    expect(status).toMatchObject({ ready: true, pendingRequests: ['signing'], earlierEncryptionCertificates: 1 });
    const held = await identity.recipients();
    expect(held.map((h) => h.certificate)).toEqual([issued.der, current.certificate]);
    expect((await open(sentBefore, held, identity.trust())).content).toEqual(content);
    expect((await open(await seal(content, sender, [issued.der]), held, identity.trust())).content).toEqual(content);
    expect((await identity.signer()).certificate).toEqual(signingCertificate);
  });
});

describe('a store from before renewal (identity migration 2)', () => {
  it('keeps its certificates and keys working under their old keychain names, and a request made before the upgrade can still be completed', async () => {
    const r = await region();
    const db = storeOnDisk();
    const vault = createMemoryVault();
    // The identity's layout and keychain names as version 1 wrote them.
    migrate(db, 'identity', [
      {
        version: 1,
        sql: `
        create table identity_certificates (use text primary key, practitioner_id text not null, certificate blob not null, chain text not null);
        create table trust_items (kind text not null check (kind in ('anchor', 'crl', 'hub')), der blob not null, added_at integer not null);
      `,
      },
    ]);
    const addTrust = db.prepare('insert into trust_items (kind, der, added_at) values (?, ?, ?)');
    addTrust.run('anchor', r.ca, 1);
    addTrust.run('crl', r.crl, 1);
    addTrust.run('hub', r.hub, 1);
    const old = { signing: await r.issue('signing'), encryption: await r.issue('encryption') };
    for (const use of ['signing', 'encryption'] as const) {
      db.prepare(
        'insert into identity_certificates (use, practitioner_id, certificate, chain) values (?, ?, ?, ?)',
      ).run(use, ID, old[use].certificate, '[]');
      await vault.set(privateKeyAccount(ID, use), toBase64(old[use].pkcs8));
    }
    const waiting = await generateKeyPair();
    await vault.set(
      legacyPendingKeyAccount(ID, 'encryption'),
      toBase64(await exportPrivateKeyPkcs8(waiting.privateKey)),
    );

    const identity = openPractitionerIdentity(db, vault);
    expect(await identity.status()).toMatchObject({
      practitionerId: ID,
      ready: true,
      earlierEncryptionCertificates: 0,
      trust: { crlState: 'current' },
    });
    expect((await verify(await sign(content, await identity.signer()), identity.trust())).signer.certificate).toEqual(
      old.signing.certificate,
    );
    const sender = await peer(r);
    const sentBefore = await seal(content, sender, [old.encryption.certificate]);
    expect((await open(sentBefore, await identity.recipients(), identity.trust())).content).toEqual(content);

    // The certificate for the key that waited under the old pending name becomes current; the old key stays readable.
    const issued = await issueCertificate({
      profile: 'practitioner-encryption',
      subject: { commonName: ID },
      publicKey: waiting.publicKey,
      issuer: r.issuer,
    });
    await identity.importCertificate({
      use: 'encryption',
      certificatePem: derToPem(issued.der, PEM_LABELS.certificate),
    });
    expect((await identity.status()).earlierEncryptionCertificates).toBe(1);
    expect((await open(sentBefore, await identity.recipients(), identity.trust())).content).toEqual(content);
    expect(vault.secrets.has(privateKeyAccount(ID, 'encryption'))).toBe(true);
    expect(vault.secrets.has(legacyPendingKeyAccount(ID, 'encryption'))).toBe(false);
  });
});

describe("the region's CRL from the hub", () => {
  it("applies a newer CRL of the region's CA and judges with it at once; an older one, one of another CA and bytes that are no CRL change nothing", async () => {
    const r = await region();
    const { identity } = await installed(r);
    const expert = await r.issue('signing', 'clinic-b.dr-chen');
    expect(await identity.checkCertificate(expert.certificate, 'signing')).toMatchObject({ state: 'valid' });
    const trustBefore = identity.trust();

    const revoking = await createCrl(r.issuer, {
      crlNumber: 2,
      revoked: [{ serialNumber: expert.serialNumber, revocationDate: new Date() }],
    });
    expect(await identity.applyCrl(revoking)).toBe('applied');
    expect(identity.trust()).not.toBe(trustBefore);
    expect(identity.trust().crls).toEqual([revoking]);
    expect(await identity.checkCertificate(expert.certificate, 'signing')).toMatchObject({ state: 'revoked' });

    const other = await region();
    expect(await identity.applyCrl(await createCrl(r.issuer, { crlNumber: 1 }))).toBe('older');
    expect(await identity.applyCrl(revoking)).toBe('held');
    expect(await identity.applyCrl(await createCrl(other.issuer, { crlNumber: 9 }))).toBe('invalid');
    expect(await identity.applyCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toBe('invalid');
    expect(identity.trust().crls).toEqual([revoking]);
    expect(await identity.checkCertificate(expert.certificate, 'signing')).toMatchObject({ state: 'revoked' });
  });

  it(`reports the CRL as expiring within ${CRL_EXPIRING_HOURS} hours of its nextUpdate and stale past it`, async () => {
    const r = await region();
    const { identity } = await installed(r);
    const nextUpdate = Date.parse((await identity.status()).trust.crlNextUpdate!);
    expect((await identity.status(new Date(nextUpdate - (CRL_EXPIRING_HOURS + 1) * HOUR))).trust.crlState).toBe(
      'current',
    );
    expect((await identity.status(new Date(nextUpdate - 24 * HOUR))).trust.crlState).toBe('expiring');
    expect((await identity.status(new Date(nextUpdate + HOUR))).trust.crlState).toBe('stale');

    // Judged by the CA's newest CRL, as messages are: an older one loaded beside it does not make it look stale.
    const older = await createCrl(r.issuer, { thisUpdate: new Date(Date.now() - 40 * 24 * HOUR), validityDays: 30 });
    await identity.setTrust({ ...r.trust, crlsPem: derToPem(older, PEM_LABELS.crl) + derToPem(r.crl, PEM_LABELS.crl) });
    expect((await identity.status()).trust).toMatchObject({
      crlState: 'current',
      crlNextUpdate: new Date(nextUpdate).toISOString(),
    });
  });
});
