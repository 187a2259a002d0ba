import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
import { sign, verify } from '../../../shared/cms/index.ts';
import { createNativeCertificateValidator } from '../../../shared-node/index.ts';
import { openDatabase } from '../../../transport/index.ts';
import { openPractitionerIdentity } from './practitioner-identity.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';

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
  const trust = {
    anchorsPem: derToPem(ca.der, PEM_LABELS.certificate),
    crlsPem: derToPem(await createCrl(issuer), PEM_LABELS.crl),
    hubCertificatePem: derToPem(hub.der, PEM_LABELS.certificate),
  };
  return { issuer, trust };
}

const DAY = 24 * 3600_000;

function identityOnDisk(vault = createMemoryVault()) {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'rts-identity-')), 'store.db'), 'k'.repeat(32));
  return { vault, identity: openPractitionerIdentity(db, vault) };
}

describe('practitioner identity', () => {
  it('makes a key and a request for each use, installs the certificates the CA issues, and signs with them', async () => {
    const { issuer, trust } = await region();
    const { identity, vault } = identityOnDisk();
    await identity.setTrust(trust);
    for (const use of ['signing', 'encryption'] as const) {
      const requestPem = await identity.createRequest({
        use,
        practitionerId: 'clinic-a.dr-ahmed',
        organization: 'Clinic A',
      });
      const issued = await issueCertificateFromRequest({
        request: pemToDer(requestPem, PEM_LABELS.certificationRequest),
        profile: use === 'signing' ? 'practitioner-signing' : 'practitioner-encryption',
        issuer,
      });
      await identity.importCertificate({ use, certificatePem: derToPem(issued.der, PEM_LABELS.certificate) });
    }
    const status = await identity.status();
    expect(status).toMatchObject({
      practitionerId: 'clinic-a.dr-ahmed',
      ready: true,
      trust: { hub: { state: 'valid' } },
    });
    expect(status.certificates.map((c) => `${c.use}:${c.state}`)).toEqual(['signing:valid', 'encryption:valid']);
    // Each key under a name of its own (its public key's fingerprint), and no key left waiting.
    expect([...vault.secrets.keys()].sort()).toEqual([
      expect.stringMatching(/^private-key:encryption:clinic-a\.dr-ahmed:[0-9a-f]{32}$/),
      expect.stringMatching(/^private-key:signing:clinic-a\.dr-ahmed:[0-9a-f]{32}$/),
    ]);
    expect(status.pendingRequests).toEqual([]);
    expect((await identity.signer()).privateKey.extractable).toBe(false);
  });

  it('refuses a certificate nobody asked for here, a PKCS#12 with the wrong password, and certificates of another CA', async () => {
    const { issuer, trust } = await region();
    const { identity } = identityOnDisk();
    const keys = await generateKeyPair();
    const stray = await issueCertificate({
      profile: 'practitioner-signing',
      subject: { commonName: 'clinic-a.dr-x' },
      publicKey: keys.publicKey,
      issuer,
    });
    await expect(identity.importPkcs12({ use: 'signing', pkcs12: new Uint8Array(1), password: 'x' })).rejects.toThrow(
      /Configure the regional CA/,
    );
    await identity.setTrust(trust);
    await expect(
      identity.importCertificate({ use: 'signing', certificatePem: derToPem(stray.der, PEM_LABELS.certificate) }),
    ).rejects.toThrow(/No signing key on this workstation waits/);
    const pkcs12 = await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(keys.privateKey),
      certificate: stray.der,
      chain: [],
      password: 'right',
    });
    await expect(identity.importPkcs12({ use: 'signing', pkcs12, password: 'wrong' })).rejects.toMatchObject({
      code: 'identity-invalid',
    });

    const other = await region();
    const foreignKeys = await generateKeyPair();
    const foreign = await issueCertificate({
      profile: 'practitioner-signing',
      subject: { commonName: 'clinic-a.dr-y' },
      publicKey: foreignKeys.publicKey,
      issuer: other.issuer,
    });
    const foreignP12 = await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(foreignKeys.privateKey),
      certificate: foreign.der,
      chain: [],
      password: 'p',
    });
    await expect(identity.importPkcs12({ use: 'signing', pkcs12: foreignP12, password: 'p' })).rejects.toThrow(
      /cannot be used/,
    );
    // The signing certificate cannot stand in for the encryption one.
    const signingP12 = await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(keys.privateKey),
      certificate: stray.der,
      chain: [],
      password: 'p',
    });
    await expect(identity.importPkcs12({ use: 'encryption', pkcs12: signingP12, password: 'p' })).rejects.toMatchObject(
      { code: 'identity-invalid' },
    );
    expect((await identity.status()).certificates).toEqual([]);
  });

  it("refuses a trust without the CA's CRL, or with one past its nextUpdate, saying to load the region's current CRL; judges with a later CRL at use", async () => {
    const { issuer, trust } = await region();
    const { identity } = identityOnDisk();
    const { crlsPem: _crl, ...withoutCrl } = trust;
    await expect(identity.setTrust(withoutCrl)).rejects.toMatchObject({
      code: 'identity-invalid',
      message: expect.stringContaining("load the region's current CRL"),
    });
    const stale = derToPem(
      await createCrl(issuer, { thisUpdate: new Date(Date.now() - 120 * DAY), validityDays: 30 }),
      PEM_LABELS.crl,
    );
    await expect(identity.setTrust({ ...trust, crlsPem: stale })).rejects.toThrow(
      /out of date \(its next update was due .*\): load the region's current CRL/,
    );
    expect((await identity.status()).trust.anchors).toEqual([]);

    // An expert's certificates valid when mirrored, revoked by the region's next CRL: refused at use as soon as that is
    // loaded — to encrypt to (the native check consult-service makes before sending) and as a signer on arrival.
    await identity.setTrust(trust);
    const encryptionKeys = await generateKeyPair();
    const expert = await issueCertificate({
      profile: 'practitioner-encryption',
      subject: { commonName: 'clinic-b.dr-z' },
      publicKey: encryptionKeys.publicKey,
      issuer,
    });
    const signingKeys = await generateKeyPair();
    const expertSigning = await issueCertificate({
      profile: 'practitioner-signing',
      subject: { commonName: 'clinic-b.dr-z' },
      publicKey: signingKeys.publicKey,
      issuer,
    });
    const signed = await sign(new TextEncoder().encode('{}'), {
      certificate: expertSigning.der,
      privateKey: signingKeys.privateKey,
    });
    expect((await identity.checkCertificate(expert.der, 'encryption')).state).toBe('valid');
    await expect(
      createNativeCertificateValidator(identity.trust())(expert.der, 'encryption', new Date()),
    ).resolves.toBeUndefined();
    await expect(verify(signed, identity.trust())).resolves.toBeDefined();
    const revoked = [expert, expertSigning].map((c) => ({ serialNumber: c.serialNumber, revocationDate: new Date() }));
    await identity.setTrust({
      ...trust,
      crlsPem: derToPem(await createCrl(issuer, { crlNumber: 2, revoked }), PEM_LABELS.crl),
    });
    expect(await identity.checkCertificate(expert.der, 'encryption')).toMatchObject({ state: 'revoked' });
    await expect(
      createNativeCertificateValidator(identity.trust())(expert.der, 'encryption', new Date()),
    ).rejects.toMatchObject({ code: 'cms-certificate-revoked' });
    await expect(verify(signed, identity.trust())).rejects.toMatchObject({ code: 'cms-certificate-revoked' });
  });
});
