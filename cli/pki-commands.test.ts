import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../shared/pki/index.ts';
import { certificateBindingProblem } from '../shared-node/index.ts';

const CLI = join(import.meta.dirname, 'rts.ts');

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rts-cli-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rts(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openssl(cwd: string, ...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

interface ManifestIdentity {
  name: string;
  profile: string;
  subject: string;
  serialNumber: string;
  files: { certificate: string; privateKey: string; pkcs12?: string };
  revokedAt?: string;
}
interface Manifest {
  region: string;
  keyType: string;
  ca: ManifestIdentity;
  crl: { file: string; crlNumber: number };
  identities: ManifestIdentity[];
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;

const IDENTITIES = [
  ['hub', 'hub'],
  ['clinic-a', 'clinic-system'],
  ['clinic-b', 'clinic-system'],
  ...['clinic-a.dr-ahmed', 'clinic-a.dr-berg', 'clinic-b.dr-chen', 'clinic-b.dr-duarte'].flatMap((person) => [
    [`${person}.signing`, 'practitioner-signing'],
    [`${person}.encryption`, 'practitioner-encryption'],
  ]),
];

/** Exactly one line on stderr, in the documented shape. */
function expectErrorLine(stderr: string, code: string): void {
  expect(stderr).toMatch(new RegExp(`^rts: ${code}: [^\\n]+\\n$`));
}

describe('rts pki demo-region', () => {
  let dir: string;
  let json: { directory: string; pkcs12Password: string; manifest: Manifest };

  beforeAll(() => {
    dir = join(root, 'region');
    const result = rts('pki', 'demo-region', '--out', dir, '--region', 'North Valley', '--json');
    expect(result.status, result.stderr).toBe(0);
    json = JSON.parse(result.stdout) as typeof json;
  });

  it('writes every listed file, keys readable by the owner only', () => {
    const expected = [
      'ca.pem',
      'ca.key.pem',
      'ca.crl.pem',
      'manifest.json',
      'p12-password.txt',
      ...IDENTITIES.flatMap(([name]) => [`${name}.cert.pem`, `${name}.key.pem`, `${name}.p12`]),
    ];
    expect(readdirSync(dir).sort()).toEqual(expected.sort());
    for (const file of ['ca.key.pem', 'hub.key.pem', 'hub.p12', 'p12-password.txt']) {
      expect(statSync(join(dir, file)).mode & 0o077, file).toBe(0);
    }
    expect(readFileSync(join(dir, 'p12-password.txt'), 'utf8')).toBe(`${json.pkcs12Password}\n`);
    expect(readFileSync(join(dir, 'hub.key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('lists every identity in the manifest with its profile, subject, serial and files', () => {
    const manifest = readManifest(dir);
    expect(json.manifest).toEqual(manifest);
    expect(manifest).toMatchObject({
      region: 'North Valley',
      keyType: 'ec-p256',
      crl: { file: 'ca.crl.pem', crlNumber: 1 },
    });
    expect(manifest.identities.map((identity) => [identity.name, identity.profile])).toEqual(IDENTITIES);
    expect(manifest.ca).toMatchObject({
      profile: 'root-ca',
      subject: 'CN=North Valley Root CA,OU=RTS PKI,O=North Valley',
    });
    const duarte = manifest.identities.find((identity) => identity.name === 'clinic-b.dr-duarte.encryption');
    expect(duarte?.subject).toBe(
      'emailAddress=tomas.duarte@clinic-b.north-valley.example,CN=clinic-b.dr-duarte,OU=Hillview Clinic,O=North Valley',
    );
    // Every certificate names what the protocol knows its holder by: the endpoint id, or the practitioner's directory id.
    for (const identity of manifest.identities) {
      expect(identity.subject).toContain(`CN=${identity.name.replace(/\.(signing|encryption)$/, '')},`);
    }
    for (const identity of manifest.identities) {
      expect(identity.files).toEqual({
        certificate: `${identity.name}.cert.pem`,
        privateKey: `${identity.name}.key.pem`,
        pkcs12: `${identity.name}.p12`,
      });
      const serial = openssl(dir, 'x509', '-in', identity.files.certificate, '-noout', '-serial').output;
      expect(serial.trim()).toBe(`serial=${identity.serialNumber.toUpperCase()}`);
    }
  });

  it("issues practitioner certificates that pass the hub's and workstations' binding rule for their directory id", () => {
    const practitioners = readManifest(dir).identities.filter((identity) =>
      identity.profile.startsWith('practitioner-'),
    );
    expect(practitioners).toHaveLength(8);
    for (const identity of practitioners) {
      const der = pemToDer(readFileSync(join(dir, identity.files.certificate), 'utf8'));
      const use = identity.profile === 'practitioner-signing' ? 'signing' : 'encryption';
      const directoryId = identity.name.slice(0, -`.${use}`.length);
      expect(certificateBindingProblem(der, use, directoryId), identity.name).toBeUndefined();
      // The rule can fail: the same certificate does not bind to another practitioner.
      expect(certificateBindingProblem(der, use, `${directoryId}-other`)?.kind, identity.name).toBe('name');
    }
  });

  it('issues leaves that openssl verify accepts against ca.pem (and the empty CRL)', () => {
    const files = IDENTITIES.map(([name]) => `${name}.cert.pem`);
    const result = openssl(dir, 'verify', '-CAfile', 'ca.pem', '-crl_check', '-CRLfile', 'ca.crl.pem', ...files);
    expect(result.status, result.output).toBe(0);
    for (const file of files) expect(result.output).toContain(`${file}: OK`);
    expect(openssl(dir, 'crl', '-in', 'ca.crl.pem', '-CAfile', 'ca.pem', '-noout').output).toContain('verify OK');
  });

  it('writes .p12 files OpenSSL opens with the printed password, key matching the PEM key', () => {
    const result = openssl(
      dir,
      'pkcs12',
      '-in',
      'clinic-a.dr-ahmed.signing.p12',
      '-passin',
      `pass:${json.pkcs12Password}`,
      '-nodes',
    );
    expect(result.status, result.output).toBe(0);
    const key = readFileSync(join(dir, 'clinic-a.dr-ahmed.signing.key.pem'), 'utf8');
    expect(result.output).toContain(key.trim());
    expect(result.output.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('prints the password once in the human output', () => {
    const human = rts('pki', 'demo-region', '--out', join(root, 'human'));
    expect(human.status, human.stderr).toBe(0);
    const password = readFileSync(join(root, 'human', 'p12-password.txt'), 'utf8').trim();
    expect(human.stdout.split(password)).toHaveLength(2);
    expect(human.stdout).toContain('clinic-b.dr-chen.encryption');
  });

  it('refuses a non-empty directory unless --force, and leaves it untouched', () => {
    const before = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const refused = rts('pki', 'demo-region', '--out', dir);
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'dir-not-empty');
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(before);

    const other = join(root, 'other');
    rts('pki', 'demo-region', '--out', other);
    writeFileSync(join(other, 'unrelated.txt'), 'kept');
    const forced = rts('pki', 'demo-region', '--out', other, '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(other, 'unrelated.txt'), 'utf8')).toBe('kept');
  });

  it('--key-type rsa makes RSA keys, key transport for encryption certificates', () => {
    const rsa = join(root, 'rsa');
    const result = rts('pki', 'demo-region', '--out', rsa, '--key-type', 'rsa');
    expect(result.status, result.stderr).toBe(0);
    expect(readManifest(rsa).keyType).toBe('rsa-2048');
    const text = openssl(rsa, 'x509', '-in', 'clinic-b.dr-chen.encryption.cert.pem', '-noout', '-text').output;
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toMatch(/Key Usage: critical\s+Key Encipherment/);
    expect(openssl(rsa, 'verify', '-CAfile', 'ca.pem', 'clinic-b.dr-chen.encryption.cert.pem').status).toBe(0);
  });
});

describe('rts pki revoke', () => {
  it('puts the serial on the CRL: openssl verify -crl_check then rejects that cert only; manifest updated', () => {
    const dir = join(root, 'revoke');
    expect(rts('pki', 'demo-region', '--out', dir).status).toBe(0);
    const target = 'clinic-a.dr-berg.signing';
    const result = rts('pki', 'revoke', '--ca-dir', dir, target, '--json');
    expect(result.status, result.stderr).toBe(0);
    const manifest = readManifest(dir);
    const revoked = manifest.identities.find((identity) => identity.name === target);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: target,
      serialNumber: revoked?.serialNumber,
      crlNumber: 2,
    });
    expect(manifest.crl.crlNumber).toBe(2);
    expect(revoked?.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(manifest.identities.filter((identity) => identity.revokedAt)).toHaveLength(1);

    const verify = (file: string) =>
      openssl(dir, 'verify', '-crl_check', '-CAfile', 'ca.pem', '-CRLfile', 'ca.crl.pem', file);
    const rejected = verify(`${target}.cert.pem`);
    expect(rejected.status).not.toBe(0);
    expect(rejected.output).toContain('certificate revoked');
    expect(verify('clinic-a.dr-berg.encryption.cert.pem').status).toBe(0);
    expect(openssl(dir, 'crl', '-in', 'ca.crl.pem', '-CAfile', 'ca.pem', '-noout', '-crlnumber').output).toContain(
      'crlNumber=0x02',
    );

    const again = rts('pki', 'revoke', '--ca-dir', dir, target);
    expect(again.status).toBe(1);
    expectErrorLine(again.stderr, 'pki-already-revoked');

    const second = rts('pki', 'revoke', '--ca-dir', dir, 'hub');
    expect(second.stdout).toContain('CRL number 3');
    expect(verify('hub.cert.pem').status).not.toBe(0);
    expect(verify(`${target}.cert.pem`).status).not.toBe(0);
  });

  it('fails with a code for an unknown identity or a directory without manifest', () => {
    const dir = join(root, 'region');
    const unknown = rts('pki', 'revoke', '--ca-dir', dir, 'clinic-z');
    expect(unknown.status).toBe(1);
    expectErrorLine(unknown.stderr, 'unknown-identity');
    const missing = rts('pki', 'revoke', '--ca-dir', join(root, 'nowhere'), 'hub');
    expect(missing.status).toBe(1);
    expectErrorLine(missing.stderr, 'not-found');
  });
});

describe('rts pki show', () => {
  const dir = () => join(root, 'region');

  it('describes a PEM certificate, as JSON too', () => {
    const human = rts('pki', 'show', join(dir(), 'clinic-a.dr-ahmed.signing.cert.pem'));
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain('key usage:          digitalSignature, nonRepudiation');
    expect(human.stdout).toContain('CA:                 no');
    const json = rts('pki', 'show', join(dir(), 'ca.pem'), '--json');
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        subject: 'CN=North Valley Root CA,OU=RTS PKI,O=North Valley',
        isCa: true,
        keyAlgorithm: 'EC P-256',
      }),
    ]);
  });

  it('describes every certificate of a PEM bundle, and a DER certificate', () => {
    const bundle = join(root, 'bundle.pem');
    const pem = (name: string) => readFileSync(join(dir(), name), 'utf8');
    writeFileSync(bundle, `${pem('hub.cert.pem')}some text between\n${pem('ca.pem')}`);
    const both = rts('pki', 'show', bundle, '--json');
    expect(both.status, both.stderr).toBe(0);
    expect((JSON.parse(both.stdout) as { isCa: boolean }[]).map((certificate) => certificate.isCa)).toEqual([
      false,
      true,
    ]);

    const der = join(root, 'hub.der');
    expect(openssl(dir(), 'x509', '-in', 'hub.cert.pem', '-outform', 'DER', '-out', der).status).toBe(0);
    const human = rts('pki', 'show', der);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain('subject:            CN=hub,OU=RTS Hub,O=North Valley');
    expect(human.stdout).toContain('extended key usage: emailProtection, clientAuth');
  });

  it('describes the certificates of a .p12: the key holder, then the chain', () => {
    const result = rts(
      'pki',
      'show',
      join(dir(), 'hub.p12'),
      '--password-file',
      join(dir(), 'p12-password.txt'),
      '--json',
    );
    expect(result.status, result.stderr).toBe(0);
    const described = JSON.parse(result.stdout) as { subject: string }[];
    expect(described.map((certificate) => certificate.subject)).toEqual([
      'CN=hub,OU=RTS Hub,O=North Valley',
      'CN=North Valley Root CA,OU=RTS PKI,O=North Valley',
    ]);
    const wrong = rts('pki', 'show', join(dir(), 'hub.p12'), '--password', 'wrong');
    expect(wrong.status).toBe(1);
    expectErrorLine(wrong.stderr, 'pki-wrong-password');
    const noPassword = rts('pki', 'show', join(dir(), 'hub.p12'));
    expect(noPassword.status).toBe(2);
    expectErrorLine(noPassword.stderr, 'usage');
  });

  it('fails with a code for a file that is no certificate', () => {
    const result = rts('pki', 'show', join(dir(), 'manifest.json'));
    expect(result.status).toBe(1);
    expectErrorLine(result.stderr, 'no-certificate');
  });
});

describe('rts pki request and rts pki issue', () => {
  let dir: string;
  const ca = ['--ca-cert', 'region/ca.pem', '--ca-key', 'region/ca.key.pem'];
  const inDir = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });

  beforeAll(() => {
    dir = join(root, 'requests');
    expect(rts('pki', 'demo-region', '--out', join(dir, 'region')).status).toBe(0);
  });

  it('request writes a key (0600) and a PEM request that openssl verifies; issue certifies that key', () => {
    const made = inDir(
      'pki',
      'request',
      '--directory-id',
      'clinic-a.dr-lima',
      '--subject-ou',
      'Riverside Health Centre',
      '--subject-o',
      'Demo Region',
      '--subject-email',
      'ana.lima@clinic-a.example',
      '--profile',
      'practitioner-signing',
      '--key-out',
      'lima.key.pem',
      '--out',
      'lima.csr',
      '--json',
    );
    expect(made.status, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({
      request: 'lima.csr',
      privateKey: 'lima.key.pem',
      keyType: 'ec-p256',
    });
    expect(statSync(join(dir, 'lima.key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'lima.csr'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n/);
    // OpenSSL 3.0 exits 0 even when the self-signature fails: its words are what counts.
    expect(openssl(dir, 'req', '-verify', '-noout', '-in', 'lima.csr').output).toMatch(/verify OK/i);

    const issued = inDir(
      'pki',
      'issue',
      '--csr',
      'lima.csr',
      '--profile',
      'practitioner-signing',
      ...ca,
      '--days',
      '90',
      '--out',
      'lima.cert.pem',
      '--json',
    );
    expect(issued.status, issued.stderr).toBe(0);
    const description = JSON.parse(issued.stdout) as {
      subject: string;
      keyUsage: string[];
      notBefore: string;
      notAfter: string;
    };
    expect(description).toMatchObject({
      certificate: 'lima.cert.pem',
      subject: 'emailAddress=ana.lima@clinic-a.example,CN=clinic-a.dr-lima,OU=Riverside Health Centre,O=Demo Region',
      keyUsage: ['digitalSignature', 'nonRepudiation'],
    });
    expect(Date.parse(description.notAfter) - Date.parse(description.notBefore)).toBe(90 * 24 * 60 * 60 * 1000);
    expect(openssl(dir, 'verify', '-CAfile', 'region/ca.pem', 'lima.cert.pem').output).toContain('lima.cert.pem: OK');
    const certificateKey = openssl(dir, 'x509', '-in', 'lima.cert.pem', '-noout', '-pubkey').output;
    expect(certificateKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(openssl(dir, 'pkey', '-in', 'lima.key.pem', '-pubout').output).toBe(certificateKey);

    // The request asked for signing usages: it is not issued as an encryption certificate.
    const mixedUp = inDir(
      'pki',
      'issue',
      '--csr',
      'lima.csr',
      '--profile',
      'practitioner-encryption',
      ...ca,
      '--out',
      'wrong.pem',
    );
    expect(mixedUp.status).toBe(1);
    expectErrorLine(mixedUp.stderr, 'pki-invalid-input');
  });

  it('request refuses a practitioner certificate that would not name a directory id', () => {
    for (const args of [
      ['--subject-cn', 'Dr. Ana Lima', '--profile', 'practitioner-encryption'],
      ['--directory-id', 'Dr. Ana Lima'],
      ['--directory-id', 'clinic-a.dr-lima', '--subject-cn', 'clinic-b.dr-lima'],
      [],
    ]) {
      const refused = inDir('pki', 'request', ...args, '--key-out', 'none.key.pem', '--out', 'none.csr');
      expect(refused.status, args.join(' ')).toBe(2);
      expectErrorLine(refused.stderr, 'usage');
    }
    expect(existsSync(join(dir, 'none.key.pem'))).toBe(false);
  });

  it('request refuses to replace a key unless --force', () => {
    const args = ['pki', 'request', '--subject-cn', 'x', '--key-out', 'kept.key.pem', '--out', 'kept.csr'];
    expect(inDir(...args).status).toBe(0);
    const key = readFileSync(join(dir, 'kept.key.pem'), 'utf8');
    const refused = inDir(...args);
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'file-exists');
    expect(readFileSync(join(dir, 'kept.key.pem'), 'utf8')).toBe(key);
    expect(inDir(...args, '--force').status).toBe(0);
    expect(readFileSync(join(dir, 'kept.key.pem'), 'utf8')).not.toBe(key);
  });

  it('issue accepts a DER request made by openssl (RSA key: key transport for encryption)', () => {
    const made = openssl(
      dir,
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ossl.key.pem',
      '-subj',
      '/CN=clinic-a.dr-okafor',
      '-outform',
      'DER',
      '-out',
      'ossl.csr',
    );
    expect(made.status, made.output).toBe(0);
    const issued = inDir(
      'pki',
      'issue',
      '--csr',
      'ossl.csr',
      '--profile',
      'practitioner-encryption',
      ...ca,
      '--out',
      'ossl.cert.pem',
    );
    expect(issued.status, issued.stderr).toBe(0);
    expect(issued.stdout).toContain('key usage:          keyEncipherment');
    expect(openssl(dir, 'verify', '-CAfile', 'region/ca.pem', 'ossl.cert.pem').status).toBe(0);
  });

  it('issue refuses a practitioner certificate for a request that names a person, not a directory id, whoever made it', () => {
    expect(
      inDir('pki', 'request', '--subject-cn', 'Dr. Ana Lima', '--key-out', 'named.key.pem', '--out', 'named.csr')
        .status,
    ).toBe(0);
    const byOpenssl = openssl(
      dir,
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'named-ossl.key.pem',
      '-subj',
      '/CN=Dr. Ana Lima',
      '-out',
      'named-ossl.csr',
    );
    expect(byOpenssl.status, byOpenssl.output).toBe(0);
    for (const [csr, profile] of [
      ['named.csr', 'practitioner-signing'],
      ['named-ossl.csr', 'practitioner-encryption'],
    ] as const) {
      const refused = inDir('pki', 'issue', '--csr', csr, '--profile', profile, ...ca, '--out', 'named.cert.pem');
      expect(refused.status, csr).toBe(1);
      expectErrorLine(refused.stderr, 'pki-invalid-input');
      expect(refused.stderr).toContain(
        `${csr} names "Dr. Ana Lima": a ${profile} certificate must name the practitioner's directory id`,
      );
    }
    expect(readdirSync(dir)).not.toContain('named.cert.pem');
  });

  it('issue fails with a code for a tampered request, garbage, and a PEM without a request', () => {
    const der = openssl(dir, 'req', '-in', 'lima.csr', '-outform', 'DER', '-out', 'lima.der');
    expect(der.status, der.output).toBe(0);
    const bytes = readFileSync(join(dir, 'lima.der'));
    const at = bytes.indexOf('dr-lima');
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    writeFileSync(join(dir, 'tampered.der'), bytes);
    writeFileSync(join(dir, 'garbage.der'), 'not a request');
    const issue = (file: string) =>
      inDir('pki', 'issue', '--csr', file, '--profile', 'practitioner-signing', ...ca, '--out', 'x.pem');
    for (const [file, code] of [
      ['tampered.der', 'pki-bad-signature'],
      ['garbage.der', 'pki-malformed'],
      ['region/ca.pem', 'no-request'],
    ] as const) {
      const result = issue(file);
      expect(result.status, file).toBe(1);
      expectErrorLine(result.stderr, code);
    }
    expect(readdirSync(dir)).not.toContain('x.pem');
  });
});

describe('usage errors', () => {
  it.each([
    [['pki', 'demo-region']],
    [['pki', 'demo-region', '--out', 'x', '--key-type', 'dsa']],
    [['pki', 'demo-region', '--out', 'x', '--bogus']],
    [['pki', 'revoke', '--ca-dir', 'x']],
    [['pki', 'request', '--key-out', 'k.pem', '--out', 'r.csr']],
    [['pki', 'issue', '--csr', 'r.csr', '--profile', 'root-ca', '--ca-cert', 'c', '--ca-key', 'k', '--out', 'o']],
    [
      [
        'pki',
        'issue',
        '--csr',
        'r.csr',
        '--profile',
        'hub',
        '--ca-cert',
        'c',
        '--ca-key',
        'k',
        '--days',
        '1.5',
        '--out',
        'o',
      ],
    ],
    [['pki', 'frobnicate']],
    [['pki']],
    [[]],
  ])('rts %j exits 2 with one usage line', (args) => {
    const result = rts(...args);
    expect(result.status).toBe(2);
    expectErrorLine(result.stderr, 'usage');
    expect(result.stdout).toBe('');
  });

  it('--help prints help and exits 0', () => {
    const result = rts('pki', 'demo-region', '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--key-type <type>');
  });
});
