import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestPki,
  opensslDecrypt,
  runOpenssl,
  type LeafName,
  type TestPki,
} from '../../scripts/test-env/index.ts';
import {
  CONTENT_ENCRYPTION,
  importDecryptionKey,
  importSigningKey,
  inspect,
  open,
  seal,
  sign,
  verify,
  type CmsRecipientIdentity,
  type CmsSigner,
  type TrustConfig,
} from './index.ts';

/**
 * Both directions against the openssl CLI (OpenSSL 3.0) for every algorithm combination of the profile: our seal()
 * read by `openssl cms -decrypt` + `-verify`, and `openssl cms -sign` + `-encrypt` read by our open().
 */

const SIGNERS = ['rsaSigner', 'ecSigner'] as const satisfies readonly LeafName[];
const RECIPIENTS = ['rsaRecipient', 'ecRecipient'] as const satisfies readonly LeafName[];
const CIPHERS = [
  { ours: CONTENT_ENCRYPTION.gcm, openssl: '-aes-256-gcm', structure: 'authEnvelopedData' },
  { ours: CONTENT_ENCRYPTION.cbc, openssl: '-aes256', structure: 'envelopedData' },
] as const;
const COMBINATIONS = SIGNERS.flatMap((signer) =>
  RECIPIENTS.flatMap((recipient) => CIPHERS.map((cipher) => [signer, recipient, cipher] as const)),
);

const SUBJECTS: Record<(typeof SIGNERS)[number], string> = {
  rsaSigner: 'CN=clinic-a.dr-a,O=Clinic A',
  ecSigner: 'CN=clinic-b.dr-b,O=Clinic B',
};

let pki: TestPki;
let work: string;
let trust: TrustConfig;
const signers = {} as Record<(typeof SIGNERS)[number], CmsSigner>;
const identities = {} as Record<(typeof RECIPIENTS)[number], CmsRecipientIdentity>;
// Random bytes, with CR/LF and NUL inside: any text-mode canonicalisation would show.
const content = new Uint8Array(Buffer.concat([Buffer.from('line one\nline two\r\n\0'), randomBytes(48 * 1024)]));
let contentPath: string;

beforeAll(async () => {
  pki = createTestPki();
  work = join(pki.dir, 'interop');
  mkdirSync(work);
  contentPath = join(work, 'content.bin');
  writeFileSync(contentPath, content);
  trust = { anchors: [pki.root.certificate], crls: [pki.rootCrl, pki.intermediateCrl] };
  for (const name of SIGNERS) {
    const leaf = pki.leaves[name];
    signers[name] = {
      certificate: leaf.certificate,
      privateKey: await importSigningKey(leaf.privateKey, leaf.certificate),
      chain: [pki.intermediate.certificate],
    };
  }
  for (const name of RECIPIENTS) {
    const leaf = pki.leaves[name];
    identities[name] = {
      certificate: leaf.certificate,
      privateKey: await importDecryptionKey(leaf.privateKey, leaf.certificate),
    };
  }
}, 60_000);

afterAll(() => pki?.remove());

function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
}

/** -keyopt applies to the -recip before it: OAEP with SHA-256 for RSA, the SHA-256 KDF for ECDH (OpenSSL's default is SHA-1). */
function profileKeyopts(recipient: (typeof RECIPIENTS)[number]): string[] {
  return recipient === 'rsaRecipient'
    ? ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256']
    : ['-keyopt', 'ecdh_kdf_md:sha256'];
}

function opensslSign(signer: LeafName, out: string, extra: string[] = []): void {
  const leaf = pki.leaves[signer];
  runOpenssl([
    'cms',
    '-sign',
    '-binary',
    '-nodetach',
    '-md',
    'sha256',
    '-nosmimecap',
    '-in',
    contentPath,
    '-signer',
    leaf.certPath,
    '-inkey',
    leaf.keyPath,
    ...extra,
    '-certfile',
    pki.intermediate.certPath,
    '-outform',
    'DER',
    '-out',
    out,
  ]);
}

function opensslDecryptAndVerify(envelope: Uint8Array, recipient: LeafName, tag: string): Buffer {
  const signedPath = join(work, `${tag}.signed.der`);
  writeFileSync(signedPath, opensslDecrypt(envelope, pki.leaves[recipient]));
  return runOpenssl(['cms', '-verify', '-binary', '-inform', 'DER', '-in', signedPath, '-CAfile', pki.root.certPath]);
}

describe('our seal() read by openssl cms', () => {
  it.each(COMBINATIONS)('%s signs, %s decrypts, %o', async (signer, recipient, cipher) => {
    const envelope = await seal(content, signers[signer], [pki.leaves[recipient].certificate], {
      contentEncryption: cipher.ours,
    });
    expect(inspect(envelope).contentType).toBe(cipher.structure);
    expectSameBytes(
      opensslDecryptAndVerify(envelope, recipient, `ours-${signer}-${recipient}-${cipher.ours}`),
      content,
    );
  });

  it('serves several recipients of both key types from one envelope', async () => {
    const envelope = await seal(content, signers.ecSigner, [
      pki.leaves.rsaRecipient.certificate,
      pki.leaves.ecRecipient.certificate,
      pki.leaves.ecRecipient2.certificate,
    ]);
    for (const recipient of ['rsaRecipient', 'ecRecipient', 'ecRecipient2'] as const) {
      expectSameBytes(opensslDecryptAndVerify(envelope, recipient, `ours-multi-${recipient}`), content);
    }
  });

  it('produces a signature openssl verifies on its own, CRLs checked', async () => {
    const signedPath = join(work, 'ours-signed-only.der');
    // openssl cms takes CRLs from the -CAfile bundle.
    const bundlePath = join(work, 'root-and-crls.pem');
    writeFileSync(
      bundlePath,
      [pki.root.certPath, pki.rootCrlPath, pki.intermediateCrlPath].map((path) => readFileSync(path, 'utf8')).join(''),
    );
    writeFileSync(signedPath, await sign(content, signers.rsaSigner));
    const out = runOpenssl([
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      signedPath,
      '-CAfile',
      bundlePath,
      '-crl_check_all',
    ]);
    expectSameBytes(out, content);
  });
});

describe('openssl cms messages read by our open()', () => {
  it.each(COMBINATIONS)('%s signs, %s decrypts, %o', async (signer, recipient, cipher) => {
    const tag = `openssl-${signer}-${recipient}-${cipher.ours}`;
    const signedPath = join(work, `${tag}.signed.der`);
    const envelopePath = join(work, `${tag}.env.der`);
    opensslSign(signer, signedPath);
    const leaf = pki.leaves[recipient];
    runOpenssl([
      'cms',
      '-encrypt',
      '-binary',
      cipher.openssl,
      '-in',
      signedPath,
      '-outform',
      'DER',
      '-out',
      envelopePath,
      '-recip',
      leaf.certPath,
      ...profileKeyopts(recipient),
    ]);
    const envelope = new Uint8Array(readFileSync(envelopePath));
    expect(inspect(envelope).contentType).toBe(cipher.structure);

    // CBC is refused unless asked for (unauthenticated: docs/protocol.md §3), before any key is unwrapped.
    if (cipher.ours === CONTENT_ENCRYPTION.cbc) {
      await expect(open(envelope, identities[recipient], trust)).rejects.toMatchObject({
        code: 'cms-unsupported-algorithm',
        message: expect.stringContaining('AES-256-CBC is not accepted'),
      });
    }
    const opened = await open(envelope, identities[recipient], trust, {
      allowCbc: cipher.ours === CONTENT_ENCRYPTION.cbc,
    });
    expectSameBytes(opened.content, content);
    expect(opened.contentEncryption).toBe(cipher.ours);
    expect(opened.signer.subject).toBe(SUBJECTS[signer]);
    expect(opened.signer.signatureAlgorithm).toBe(signer === 'rsaSigner' ? 'RSASSA-PKCS1-v1_5-SHA256' : 'ECDSA-SHA256');
    expectSameBytes(opened.signer.certificate, pki.leaves[signer].certificate);
  });

  it('opens an envelope openssl made for an RSA and an EC recipient at once', async () => {
    const signedPath = join(work, 'openssl-multi.signed.der');
    const envelopePath = join(work, 'openssl-multi.env.der');
    opensslSign('ecSigner', signedPath);
    runOpenssl([
      'cms',
      '-encrypt',
      '-binary',
      '-aes-256-gcm',
      '-in',
      signedPath,
      '-outform',
      'DER',
      '-out',
      envelopePath,
      '-recip',
      pki.leaves.rsaRecipient.certPath,
      ...profileKeyopts('rsaRecipient'),
      '-recip',
      pki.leaves.ecRecipient.certPath,
      ...profileKeyopts('ecRecipient'),
    ]);
    const envelope = new Uint8Array(readFileSync(envelopePath));
    for (const recipient of RECIPIENTS)
      expectSameBytes((await open(envelope, identities[recipient], trust)).content, content);
  });

  it('finds signer and recipients named by subject key identifier (openssl -keyid)', async () => {
    const signedPath = join(work, 'openssl-keyid.signed.der');
    const envelopePath = join(work, 'openssl-keyid.env.der');
    opensslSign('rsaSigner', signedPath, ['-keyid']);
    runOpenssl([
      'cms',
      '-encrypt',
      '-binary',
      '-aes-256-gcm',
      '-keyid',
      '-in',
      signedPath,
      '-outform',
      'DER',
      '-out',
      envelopePath,
      '-recip',
      pki.leaves.rsaRecipient.certPath,
      ...profileKeyopts('rsaRecipient'),
      '-recip',
      pki.leaves.ecRecipient.certPath,
      ...profileKeyopts('ecRecipient'),
    ]);
    const envelope = new Uint8Array(readFileSync(envelopePath));
    expect(inspect(envelope)).toMatchObject({
      recipients: expect.arrayContaining([expect.objectContaining({ subjectKeyIdentifier: expect.any(String) })]),
    });
    for (const recipient of RECIPIENTS) {
      const opened = await open(envelope, identities[recipient], trust);
      expectSameBytes(opened.content, content);
      expect(opened.signer.subject).toBe(SUBJECTS.rsaSigner);
    }
  });

  it('reads BER-streamed messages (indefinite lengths, segmented octet strings)', async () => {
    const signedPath = join(work, 'openssl-stream.signed.ber');
    const envelopePath = join(work, 'openssl-stream.env.ber');
    opensslSign('ecSigner', signedPath, ['-stream']);
    runOpenssl([
      'cms',
      '-encrypt',
      '-binary',
      '-stream',
      '-aes-256-gcm',
      '-in',
      signedPath,
      '-outform',
      'DER',
      '-out',
      envelopePath,
      '-recip',
      pki.leaves.ecRecipient.certPath,
      ...profileKeyopts('ecRecipient'),
    ]);
    const envelope = new Uint8Array(readFileSync(envelopePath));
    expect(envelope[1]).toBe(0x80); // indefinite length: this really is the streamed form
    expectSameBytes((await open(envelope, identities.ecRecipient, trust)).content, content);
  });

  it('accepts RSASSA-PSS signatures', async () => {
    const signedPath = join(work, 'openssl-pss.signed.der');
    opensslSign('rsaSigner', signedPath, ['-keyopt', 'rsa_padding_mode:pss']);
    const verified = await verify(new Uint8Array(readFileSync(signedPath)), trust);
    expectSameBytes(verified.content, content);
    expect(verified.signer.signatureAlgorithm).toBe('RSASSA-PSS-SHA256');
  });

  it('reports the signer as openssl identifies it', async () => {
    const signedPath = join(work, 'openssl-summary.signed.der');
    opensslSign('ecSigner', signedPath);
    const before = Date.now();
    const { signer } = await verify(new Uint8Array(readFileSync(signedPath)), trust);
    const serial = runOpenssl(['x509', '-in', pki.leaves.ecSigner.certPath, '-noout', '-serial']).toString().trim();
    expect(`serial=${signer.serialNumber.toUpperCase()}`).toBe(serial);
    expect(Math.abs(signer.signingTime.getTime() - before)).toBeLessThan(60_000);
  });
});
