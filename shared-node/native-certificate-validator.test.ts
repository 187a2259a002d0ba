import { X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, LEAVES, type LeafName, type TestPki } from '../scripts/test-env/index.ts';
import {
  createCertificateValidator,
  isCmsError,
  type CertificateUse,
  type CertificateValidator,
  type TrustConfig,
} from '../shared/cms/index.ts';
import {
  createCrl,
  createRootCertificate,
  generateKeyPair,
  issueCertificate,
  readCrl,
  type CertificateIssuer,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import { createNativeCertificateChecker, createNativeCertificateValidator } from './native-certificate-validator.ts';

/**
 * The native validator must give the pkijs validator's answer for every certificate, use and time (the same error
 * code where it refuses), and must decide the ordinary case itself: a counting fallback shows which ones it handed on.
 */
/** 'accepted', or the error code. */
async function verdictOf(
  validate: CertificateValidator,
  der: Uint8Array,
  use: CertificateUse,
  at: Date,
): Promise<string> {
  try {
    await validate(der, use, at);
    return 'accepted';
  } catch (error) {
    if (!isCmsError(error)) throw error;
    return error.code;
  }
}

function compared(trust: TrustConfig) {
  const reference = createCertificateValidator(trust);
  let handedOn = 0;
  const native = createNativeCertificateValidator(trust, {
    fallback: (...args) => {
      handedOn += 1;
      return reference(...args);
    },
  });
  // The same check verifying on the calling thread (a payload validation worker's) must answer the same.
  let handedOnHere = 0;
  const nativeHere = createNativeCertificateValidator(trust, {
    fallback: (...args) => {
      handedOnHere += 1;
      return reference(...args);
    },
    verifyOnThisThread: true,
  });
  return {
    /** Both verdicts, and whether the native validator decided it without the fallback. */
    async check(der: Uint8Array, use: CertificateUse, at = new Date()) {
      const before = handedOn;
      const nativeVerdict = await verdictOf(native, der, use, at);
      const fast = handedOn === before;
      const beforeHere = handedOnHere;
      const here = `${await verdictOf(nativeHere, der, use, at)}${handedOnHere === beforeHere ? '' : ' (handed on)'}`;
      const pool = `${nativeVerdict}${fast ? '' : ' (handed on)'}`;
      return {
        native: here === pool ? nativeVerdict : `thread pool: ${pool}, this thread: ${here}`,
        reference: await verdictOf(reference, der, use, at),
        fast,
      };
    },
  };
}

/** `der` re-signed by `caKey` (EC P-256) after `change`, e.g. with an extension replaced or added. */
async function resigned(
  der: Uint8Array,
  caKey: Uint8Array,
  change: (c: pkijs.Certificate) => void,
): Promise<Uint8Array> {
  const certificate = pkijs.Certificate.fromBER(der);
  change(certificate);
  const key = await crypto.subtle.importKey('pkcs8', caKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  await certificate.sign(key, 'SHA-256');
  return new Uint8Array(certificate.toSchema(true).toBER());
}

/** A regional CA as the project's own PKI code makes it (as `rts pki` and the hub's test region do), with its CRL. */
async function createRegion() {
  const keys = await generateKeyPair();
  const ca: CertificateIssuer = {
    certificate: (
      await createRootCertificate({
        keyPair: keys,
        subject: { commonName: 'Native Region Root CA', organization: 'Native Region' },
      })
    ).der,
    privateKey: keys.privateKey,
  };
  const issueWithSerial = async (
    profile: LeafProfileName,
    commonName: string,
    validity: { notBefore?: Date; validityDays?: number } = {},
  ) => {
    const subjectKeys = await generateKeyPair();
    return issueCertificate({
      profile,
      subject: { commonName, organization: 'Native Region' },
      publicKey: subjectKeys.publicKey,
      issuer: ca,
      ...validity,
    });
  };
  const revoked = await issueWithSerial('practitioner-signing', 'clinic-a.dr-revoked');
  const crl = await createCrl(ca, { revoked: [{ serialNumber: revoked.serialNumber, revocationDate: new Date() }] });
  const issue = async (
    profile: LeafProfileName,
    commonName: string,
    validity?: { notBefore?: Date; validityDays?: number },
  ) => (await issueWithSerial(profile, commonName, validity)).der;
  return {
    trust: { anchors: [ca.certificate], crls: [crl] } satisfies TrustConfig,
    crlNextUpdate: readCrl(crl).nextUpdate!,
    revoked: revoked.der,
    issue,
    practitioner: async (id: string) => ({
      signing: await issue('practitioner-signing', id),
      encryption: await issue('practitioner-encryption', id),
    }),
  };
}

let pki: TestPki;
let region: Awaited<ReturnType<typeof createRegion>>;
const DAY = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  pki = createTestPki();
  region = await createRegion();
}, 60_000);

afterAll(() => pki.remove());

describe('native certificate validator', () => {
  it("accepts the regional PKI's practitioner, clinic and hub certificates itself, as pkijs does", async () => {
    const v = compared(region.trust);
    const practitioner = await region.practitioner('clinic-a.dr-native');
    expect(await v.check(practitioner.signing, 'signing')).toEqual({
      native: 'accepted',
      reference: 'accepted',
      fast: true,
    });
    expect(await v.check(practitioner.encryption, 'encryption')).toEqual({
      native: 'accepted',
      reference: 'accepted',
      fast: true,
    });
    expect(await v.check(await region.issue('clinic-system', 'clinic-a'), 'signing')).toEqual({
      native: 'accepted',
      reference: 'accepted',
      fast: true,
    });
    expect(await v.check(await region.issue('hub', 'hub'), 'signing')).toEqual({
      native: 'accepted',
      reference: 'accepted',
      fast: true,
    });
  });

  it("gives pkijs's code for the wrong use, revocation, expiry, a future certificate, and times outside the CA's life", async () => {
    const v = compared(region.trust);
    const practitioner = await region.practitioner('clinic-a.dr-wrong-use');
    const expired = await region.issue('practitioner-signing', 'clinic-a.dr-old', {
      notBefore: new Date(Date.now() - 10 * DAY),
      validityDays: 2,
    });
    const future = await region.issue('practitioner-signing', 'clinic-a.dr-future', {
      notBefore: new Date(Date.now() + 10 * DAY),
    });
    const cases = [
      [practitioner.signing, 'encryption', new Date(), 'cms-wrong-key-usage'],
      [practitioner.encryption, 'signing', new Date(), 'cms-wrong-key-usage'],
      [region.revoked, 'signing', new Date(), 'cms-certificate-revoked'],
      [expired, 'signing', new Date(), 'cms-certificate-expired'],
      [future, 'signing', new Date(), 'cms-certificate-not-yet-valid'],
      [practitioner.signing, 'signing', new Date(Date.now() + 20 * 365 * DAY), 'cms-certificate-expired'],
      [practitioner.signing, 'signing', new Date(Date.now() - 20 * 365 * DAY), 'cms-certificate-not-yet-valid'],
    ] as const;
    for (const [der, use, at, code] of cases) {
      const { native, reference } = await v.check(der, use, at);
      expect({ native, reference }).toEqual({ native: code, reference: code });
    }
  });

  it('answers as pkijs for every openssl-made leaf and use, with the issuing CA as anchor (native) and behind a root (handed on)', async () => {
    const underIntermediate = compared({ anchors: [pki.intermediate.certificate], crls: [pki.intermediateCrl] });
    const underRoot = compared({
      anchors: [pki.root.certificate],
      intermediates: [pki.intermediate.certificate],
      crls: [pki.rootCrl, pki.intermediateCrl],
    });
    const fastlyAccepted: string[] = [];
    for (const name of Object.keys(LEAVES) as LeafName[]) {
      for (const use of ['signing', 'encryption'] as const) {
        const direct = await underIntermediate.check(pki.leaves[name].certificate, use);
        expect(direct.native, `${name} as ${use}, anchor = intermediate`).toBe(direct.reference);
        if (direct.fast) fastlyAccepted.push(`${name}/${use}`);
        const chained = await underRoot.check(pki.leaves[name].certificate, use);
        expect(chained.native, `${name} as ${use}, anchor = root`).toBe(chained.reference);
        expect(chained.fast, `${name} as ${use}: an intermediate in the path is left to pkijs`).toBe(false);
      }
    }
    // RSA and EC leaves of the right usage (keyEncipherment alone is enough to encrypt to RSA), nothing the reference refuses.
    expect(fastlyAccepted.sort()).toEqual([
      'ecRecipient/encryption',
      'ecRecipient2/encryption',
      'ecSigner/signing',
      'rsaRecipient/encryption',
      'rsaSigner/signing',
      'wrongKeyUsage/encryption',
    ]);
  });

  it("tells the accepted certificate's own notAfter, whether it decided itself or handed on", async () => {
    const signer = pki.leaves.ecSigner.certificate;
    const notAfter = new X509Certificate(signer).validToDate.getTime();
    const direct = createNativeCertificateChecker({
      anchors: [pki.intermediate.certificate],
      crls: [pki.intermediateCrl],
    });
    await expect(direct(signer, 'signing', new Date())).resolves.toBe(notAfter);
    const chained = createNativeCertificateChecker({
      anchors: [pki.root.certificate],
      intermediates: [pki.intermediate.certificate],
      crls: [pki.rootCrl, pki.intermediateCrl],
    });
    await expect(chained(signer, 'signing', new Date())).resolves.toBe(notAfter);
  });

  it('refuses, as pkijs does, a certificate whose outer length is cut short, and throws nothing but CmsError', async () => {
    // Found by fuzzing: asn1js read such a certificate on past its declared end, pkijs accepted it, and the checker then
    // threw OpenSSL's own parse error (X509Certificate cannot read it) instead of answering.
    const cut = new Uint8Array(pki.leaves.ecSigner.certificate);
    cut[3] = cut[3]! - 16;
    const trust = { anchors: [pki.intermediate.certificate], crls: [pki.intermediateCrl] };
    const v = compared(trust);
    expect(await v.check(cut, 'signing')).toEqual({ native: 'cms-malformed', reference: 'cms-malformed', fast: false });
    const acceptingFallback = createNativeCertificateChecker(trust, { fallback: async () => {} });
    await expect(acceptingFallback(cut, 'signing', new Date())).rejects.toThrow(
      expect.objectContaining({ name: 'CmsError', code: 'cms-malformed' }),
    );
  });

  it('checks a leaf under an RSA anchor itself (PKCS #1 v1.5 signature), as pkijs does', async () => {
    const v = compared({ anchors: [pki.root.certificate], crls: [pki.rootCrl] });
    const rootKey = await crypto.subtle.importKey(
      'pkcs8',
      pki.root.privateKey,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const keys = await generateKeyPair();
    const leaf = (
      await issueCertificate({
        profile: 'practitioner-signing',
        subject: { commonName: 'clinic-a.dr-rsa-root' },
        publicKey: keys.publicKey,
        issuer: { certificate: pki.root.certificate, privateKey: rootKey },
      })
    ).der;
    expect(await v.check(leaf, 'signing')).toEqual({ native: 'accepted', reference: 'accepted', fast: true });
    expect(await v.check(leaf, 'encryption')).toEqual({
      native: 'cms-wrong-key-usage',
      reference: 'cms-wrong-key-usage',
      fast: false,
    });
  });

  it('hands on, and so answers as pkijs, for an unknown critical extension, an unreadable key usage, a forged issuer and garbage', async () => {
    const v = compared({ anchors: [pki.intermediate.certificate], crls: [pki.intermediateCrl] });
    const signer = pki.leaves.ecSigner.certificate;
    const unknownCritical = await resigned(signer, pki.intermediate.privateKey, (c) => {
      c.extensions = [
        ...(c.extensions ?? []),
        new pkijs.Extension({ extnID: '1.2.3.4.5', critical: true, extnValue: new asn1js.Null().toBER() }),
      ];
    });
    const unreadableUsage = await resigned(signer, pki.intermediate.privateKey, (c) => {
      c.extensions = c.extensions?.map((e) =>
        e.extnID === '2.5.29.15'
          ? new pkijs.Extension({
              extnID: e.extnID,
              critical: true,
              extnValue: new asn1js.Integer({ value: 1 }).toBER(),
            })
          : e,
      );
    });
    // Same issuer name, signed by another key: only the signature tells them apart.
    const forged = await resigned(signer, pki.untrustedRoot.privateKey, () => undefined);
    const truncated = signer.subarray(0, signer.length - 20);
    for (const [what, der] of [
      ['unknown critical extension', unknownCritical],
      ['unreadable key usage', unreadableUsage],
      ['forged issuer', forged],
      ['truncated', truncated],
      ['garbage', new Uint8Array([0x30, 0x03, 1, 2, 3])],
    ] as const) {
      const result = await v.check(der, 'signing');
      expect(result.native, what).toBe(result.reference);
      expect(result.native, what).not.toBe('accepted');
      expect(result.fast, what).toBe(false);
    }
  });

  it('refuses, as pkijs does, under an anchor without a CRL (cms-crl-missing) and with a CRL 90 days past its nextUpdate (cms-crl-expired)', async () => {
    const practitioner = await region.practitioner('clinic-a.dr-crl');
    expect(await compared({ anchors: region.trust.anchors }).check(practitioner.signing, 'signing')).toEqual({
      native: 'cms-crl-missing',
      reference: 'cms-crl-missing',
      fast: false,
    });
    const v = compared(region.trust);
    const stale = new Date(region.crlNextUpdate.getTime() + 90 * DAY);
    for (const [der, use, code] of [
      [practitioner.signing, 'signing', 'cms-crl-expired'],
      [practitioner.encryption, 'encryption', 'cms-crl-expired'],
      [region.revoked, 'signing', 'cms-certificate-revoked'],
    ] as const) {
      expect(await v.check(der, use, stale)).toEqual({ native: code, reference: code, fast: false });
    }
    // Just inside the grace after nextUpdate the native path still decides, and accepts.
    expect(await v.check(practitioner.signing, 'signing', new Date(region.crlNextUpdate.getTime() + 60_000))).toEqual({
      native: 'accepted',
      reference: 'accepted',
      fast: true,
    });
  });

  it('refuses everything when no anchor is configured, as pkijs does', async () => {
    const v = compared({ anchors: [] });
    const result = await v.check(pki.leaves.ecSigner.certificate, 'signing');
    expect(result).toEqual({ native: 'cms-untrusted-chain', reference: 'cms-untrusted-chain', fast: false });
  });
});
