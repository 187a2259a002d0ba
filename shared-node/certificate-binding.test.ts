import { describe, expect, it } from 'vitest';
import {
  createRootCertificate,
  generateKeyPair,
  issueCertificate,
  type CertificateIssuer,
  type DistinguishedName,
  type KeyType,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import { certificateBindingProblem, factsFromDer, factsFromPkijs } from './certificate-binding.ts';

const caKeys = await generateKeyPair();
const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: 'Binding Test Root CA' } });
const issuer: CertificateIssuer = { certificate: ca.der, privateKey: caKeys.privateKey };

async function certificate(
  profile: LeafProfileName,
  subject: DistinguishedName | string,
  keyType: KeyType = 'ec-p256',
): Promise<Uint8Array> {
  const keys = await generateKeyPair(keyType);
  const name =
    typeof subject === 'string'
      ? { commonName: subject, organization: 'Test Region', emailAddress: 'x@clinic-a.example' }
      : subject;
  return (await issueCertificate({ profile, subject: name, publicKey: keys.publicKey, issuer })).der;
}

describe('certificate binding to a directory id', () => {
  it('accepts the certificates the regional CA issues for the id: CN = directory id, the profile of their use (EC and RSA)', async () => {
    for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
      expect(
        certificateBindingProblem(
          await certificate('practitioner-signing', 'clinic-a.dr-ahmed', keyType),
          'signing',
          'clinic-a.dr-ahmed',
        ),
      ).toBeUndefined();
      expect(
        certificateBindingProblem(
          await certificate('practitioner-encryption', 'clinic-a.dr-ahmed', keyType),
          'encryption',
          'clinic-a.dr-ahmed',
        ),
      ).toBeUndefined();
    }
  });

  it("refuses another practitioner's certificate, a person's name and a look-alike id as the subject", async () => {
    const others = await certificate('practitioner-encryption', 'clinic-b.dr-ahmed');
    expect(certificateBindingProblem(others, 'encryption', 'clinic-a.dr-ahmed')).toEqual({
      kind: 'name',
      detail: 'the encryption certificate is issued to "clinic-b.dr-ahmed", not to the directory id clinic-a.dr-ahmed',
    });
    expect(
      certificateBindingProblem(
        await certificate('practitioner-signing', 'Dr. Layla Ahmed'),
        'signing',
        'clinic-a.dr-ahmed',
      )?.kind,
    ).toBe('name');
    expect(
      certificateBindingProblem(
        await certificate('practitioner-signing', 'clinic-a.dr-ahmed '),
        'signing',
        'clinic-a.dr-ahmed',
      )?.kind,
    ).toBe('name');
    expect(
      certificateBindingProblem(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), 'signing', 'clinic-a.dr-ahmed'),
    ).toEqual({ kind: 'name', detail: 'the signing certificate cannot be read' });
  });

  it('refuses a certificate of the id without the usage of its profile', async () => {
    const signing = await certificate('practitioner-signing', 'clinic-a.dr-ahmed');
    expect(certificateBindingProblem(signing, 'encryption', 'clinic-a.dr-ahmed')).toEqual({
      kind: 'usage',
      detail: 'the encryption certificate lacks the key usage keyAgreement of the practitioner-encryption profile',
    });
    const encryption = await certificate('practitioner-encryption', 'clinic-a.dr-ahmed');
    expect(certificateBindingProblem(encryption, 'signing', 'clinic-a.dr-ahmed')?.detail).toMatch(
      /lacks the key usage digitalSignature, nonRepudiation/,
    );
    // A clinic system's certificate (digitalSignature, TLS client) is no practitioner's, even under the right name.
    const system = await certificate('clinic-system', 'clinic-a.dr-ahmed');
    expect(certificateBindingProblem(system, 'signing', 'clinic-a.dr-ahmed')?.kind).toBe('usage');
  });
});

describe('certificate binding, read from the DER', () => {
  // The DER reading is the fast path (pkijs costs 0.65 ms a certificate, two fifths of P1's time when every read fell
  // back to it): it must read every profile's certificates, and read them as pkijs does.
  it('reads what pkijs reads, for every practitioner and clinic profile and key type, without falling back', async () => {
    for (const keyType of ['ec-p256', 'rsa-2048'] as const)
      for (const profile of ['practitioner-signing', 'practitioner-encryption', 'clinic-system'] as const) {
        const der = await certificate(profile, 'clinic-a.dr-ahmed', keyType);
        const facts = factsFromDer(der);
        expect(facts).toEqual(factsFromPkijs(der));
        expect(facts.commonNames).toEqual(['clinic-a.dr-ahmed']);
      }
  });
});

describe('certificate binding on damaged input', () => {
  it('answers for any bytes without throwing: truncated, bit-flipped and random certificates', async () => {
    const good = await certificate('practitioner-encryption', 'clinic-a.dr-ahmed');
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array(3000)];
    for (let i = 0; i < 1500; i++) {
      const damaged = good.slice(0, i % 3 === 0 ? Math.floor(random() * good.length) : good.length);
      for (let flips = 0; flips < 1 + (i % 4); flips++) {
        const at = Math.floor(random() * damaged.length);
        if (at < damaged.length) damaged[at] = damaged[at]! ^ (1 << Math.floor(random() * 8));
      }
      inputs.push(damaged);
    }
    for (const input of inputs) {
      const answer = certificateBindingProblem(input, 'encryption', 'clinic-a.dr-ahmed');
      expect(
        answer === undefined || (typeof answer.detail === 'string' && ['name', 'usage'].includes(answer.kind)),
      ).toBe(true);
    }
  });
});
