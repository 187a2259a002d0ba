/**
 * A throw-away test PKI made with the openssl CLI, for the CMS tests and benchmark:
 *
 *   root CA (RSA-2048, with an empty CRL) ── intermediate CA (EC P-256, with a CRL listing `revoked`) ── leaves
 *   untrusted root CA (EC P-256) ── `untrusted`
 *
 * Leaves carry the KU/EKU the CMS profile expects (signers: digitalSignature[+nonRepudiation], emailProtection;
 * recipients: keyEncipherment for RSA, keyAgreement for EC), plus the deliberately broken ones the rejection tests
 * need. Practitioners' certificates name their directory id, as the region's do (docs/protocol.md §3). Everything lives
 * in one temp directory; `remove()` deletes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PkiCredential {
  certPath: string;
  keyPath: string;
  /** DER */
  certificate: Uint8Array;
  /** PKCS#8 DER */
  privateKey: Uint8Array;
}

type KeyType = 'rsa' | 'ec';
type Issuer = 'intermediate' | 'untrustedRoot';
type Validity = 'current' | 'expired' | 'notYetValid';

interface LeafSpec {
  key: KeyType;
  subject: string;
  extensions: keyof typeof EXTENSIONS;
  issuer?: Issuer;
  validity?: Validity;
}

const EXTENSIONS = {
  signer: ['keyUsage = critical,digitalSignature,nonRepudiation', 'extendedKeyUsage = emailProtection'],
  rsaEncryption: ['keyUsage = critical,keyEncipherment', 'extendedKeyUsage = emailProtection'],
  ecEncryption: ['keyUsage = critical,keyAgreement', 'extendedKeyUsage = emailProtection'],
  keyEnciphermentOnly: ['keyUsage = critical,keyEncipherment', 'extendedKeyUsage = emailProtection'],
  serverAuthOnly: ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth'],
} as const;

export const LEAVES = {
  rsaSigner: { key: 'rsa', subject: '/O=Clinic A/CN=clinic-a.dr-a', extensions: 'signer' },
  ecSigner: { key: 'ec', subject: '/O=Clinic B/CN=clinic-b.dr-b', extensions: 'signer' },
  rsaRecipient: { key: 'rsa', subject: '/O=Clinic A/CN=clinic-a.dr-a', extensions: 'rsaEncryption' },
  ecRecipient: { key: 'ec', subject: '/O=Clinic B/CN=clinic-b.dr-b', extensions: 'ecEncryption' },
  ecRecipient2: { key: 'ec', subject: '/O=Region/CN=Regional hub', extensions: 'ecEncryption' },
  expired: { key: 'ec', subject: '/O=Clinic C/CN=clinic-c.dr-expired', extensions: 'signer', validity: 'expired' },
  notYetValid: {
    key: 'ec',
    subject: '/O=Clinic C/CN=clinic-c.dr-future',
    extensions: 'signer',
    validity: 'notYetValid',
  },
  revoked: { key: 'ec', subject: '/O=Clinic C/CN=clinic-c.dr-revoked', extensions: 'signer' },
  untrusted: {
    key: 'ec',
    subject: '/O=Elsewhere/CN=clinic-x.dr-unknown',
    extensions: 'signer',
    issuer: 'untrustedRoot',
  },
  wrongKeyUsage: { key: 'rsa', subject: '/O=Clinic C/CN=clinic-c.dr-encipher-only', extensions: 'keyEnciphermentOnly' },
  serverAuthOnly: { key: 'ec', subject: '/O=Clinic C/CN=web server', extensions: 'serverAuthOnly' },
} as const satisfies Record<string, LeafSpec>;

export type LeafName = keyof typeof LEAVES;

export interface TestPki {
  dir: string;
  root: PkiCredential;
  intermediate: PkiCredential;
  untrustedRoot: PkiCredential;
  /** DER; the root's CRL lists nothing, the intermediate's lists `revoked`. */
  rootCrl: Uint8Array;
  intermediateCrl: Uint8Array;
  rootCrlPath: string;
  intermediateCrlPath: string;
  leaves: Record<LeafName, PkiCredential>;
  remove(): void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Runs the openssl CLI and returns its standard output; a failure throws with openssl's own message. */
export function runOpenssl(args: string[], options: { cwd?: string; input?: Uint8Array } = {}): Buffer {
  try {
    return execFileSync('openssl', args, {
      cwd: options.cwd,
      input: options.input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr || String(error)}`, { cause: error });
  }
}

/** `openssl cms -decrypt` of a DER envelope (on stdin) for `recipient`: the content it opens. */
export function opensslDecrypt(envelope: Uint8Array, recipient: PkiCredential): Buffer {
  return runOpenssl(
    ['cms', '-decrypt', '-binary', '-inform', 'DER', '-recip', recipient.certPath, '-inkey', recipient.keyPath],
    { input: envelope },
  );
}

function openssl(args: string[], cwd: string): void {
  runOpenssl(args, { cwd });
}

/** PEM to DER: the base64 body of the first block with `label`. */
export function pemToDer(pem: string, label: string): Uint8Array {
  const match = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem);
  if (!match?.[1]) throw new Error(`no ${label} in PEM`);
  return new Uint8Array(Buffer.from(match[1].replace(/\s+/g, ''), 'base64'));
}

/** openssl ca takes YYYYMMDDHHMMSSZ. */
function opensslDate(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-:T]/g, '') + 'Z';
}

function validityDates(validity: Validity): [string, string] {
  const now = Date.now();
  switch (validity) {
    case 'current':
      return [opensslDate(new Date(now - DAY_MS)), opensslDate(new Date(now + 365 * DAY_MS))];
    case 'expired':
      return [opensslDate(new Date(now - 730 * DAY_MS)), opensslDate(new Date(now - 365 * DAY_MS))];
    case 'notYetValid':
      return [opensslDate(new Date(now + 365 * DAY_MS)), opensslDate(new Date(now + 730 * DAY_MS))];
  }
}

function caConfig(dir: string): string {
  const sections = Object.entries(EXTENSIONS).map(
    ([name, lines]) =>
      `[${name}]\nbasicConstraints = CA:false\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n${lines.join('\n')}\n`,
  );
  return `[ca]
default_ca = ca_default
[ca_default]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/issued
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
organizationName = optional
commonName = supplied
[req]
distinguished_name = dn
[dn]
[v3_root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[crl_ext]
authorityKeyIdentifier = keyid:always
${sections.join('')}`;
}

function generateKey(dir: string, name: string, type: KeyType): string {
  const keyPath = join(dir, `${name}.key`);
  const options =
    type === 'rsa'
      ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
      : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['genpkey', ...options, '-out', keyPath], dir);
  return keyPath;
}

function credential(certPath: string, keyPath: string): PkiCredential {
  return {
    certPath,
    keyPath,
    certificate: pemToDer(readFileSync(certPath, 'utf8'), 'CERTIFICATE'),
    // genpkey writes PKCS#8 ("PRIVATE KEY") PEM
    privateKey: pemToDer(readFileSync(keyPath, 'utf8'), 'PRIVATE KEY'),
  };
}

/** A CA directory for `openssl ca`, with its own key and certificate. */
function createCa(
  base: string,
  name: string,
  key: KeyType,
  subject: string,
  firstSerial: string,
  parent?: string,
): { dir: string; config: string; credential: PkiCredential } {
  const dir = join(base, name);
  mkdirSync(join(dir, 'issued'), { recursive: true });
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), `${firstSerial}\n`);
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(config, caConfig(dir));
  const keyPath = generateKey(dir, 'ca', key);
  const certPath = join(dir, 'ca.pem');
  // CAs predate every leaf, so a leaf that is expired today was issued inside its CA's validity.
  const [start, end] = [
    opensslDate(new Date(Date.now() - 1000 * DAY_MS)),
    opensslDate(new Date(Date.now() + 3650 * DAY_MS)),
  ];
  const csr = join(dir, 'ca.csr');
  openssl(['req', '-new', '-config', config, '-key', keyPath, '-subj', subject, '-out', csr], dir);
  const issuerArgs = parent
    ? ['-config', join(parent, 'ca.cnf'), '-extensions', 'v3_intermediate']
    : ['-config', config, '-extensions', 'v3_root', '-selfsign'];
  openssl(
    ['ca', '-batch', ...issuerArgs, '-notext', '-startdate', start, '-enddate', end, '-in', csr, '-out', certPath],
    dir,
  );
  return { dir, config, credential: credential(certPath, keyPath) };
}

function issueLeaf(base: string, name: string, spec: LeafSpec, caConfigPath: string): PkiCredential {
  const keyPath = generateKey(base, name, spec.key);
  const csr = join(base, `${name}.csr`);
  const certPath = join(base, `${name}.pem`);
  openssl(['req', '-new', '-config', caConfigPath, '-key', keyPath, '-subj', spec.subject, '-out', csr], base);
  const [start, end] = validityDates(spec.validity ?? 'current');
  openssl(
    [
      'ca',
      '-batch',
      '-config',
      caConfigPath,
      '-extensions',
      spec.extensions,
      '-notext',
      '-startdate',
      start,
      '-enddate',
      end,
      '-in',
      csr,
      '-out',
      certPath,
    ],
    base,
  );
  return credential(certPath, keyPath);
}

function generateCrl(ca: { dir: string; config: string }, name: string): { path: string; der: Uint8Array } {
  const path = join(ca.dir, `${name}.crl.pem`);
  openssl(['ca', '-config', ca.config, '-gencrl', '-crlexts', 'crl_ext', '-out', path], ca.dir);
  return { path, der: pemToDer(readFileSync(path, 'utf8'), 'X509 CRL') };
}

/** Builds the whole PKI (about a second: four RSA-2048 keys, the rest EC). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'rts-cms-pki-'));
  try {
    const root = createCa(dir, 'root', 'rsa', '/O=RTS Test/CN=RTS Test Root CA', '1000');
    const intermediate = createCa(
      dir,
      'intermediate',
      'ec',
      '/O=RTS Test/CN=RTS Test Practitioner CA',
      '2000',
      root.dir,
    );
    const untrustedRoot = createCa(dir, 'untrusted-root', 'ec', '/O=Elsewhere/CN=Unknown Root CA', '3000');
    const leafDir = join(dir, 'leaves');
    mkdirSync(leafDir);

    const leaves = {} as Record<LeafName, PkiCredential>;
    for (const [name, spec] of Object.entries(LEAVES) as [LeafName, LeafSpec][]) {
      const issuer = spec.issuer === 'untrustedRoot' ? untrustedRoot : intermediate;
      leaves[name] = issueLeaf(leafDir, name, spec, issuer.config);
    }
    openssl(
      ['ca', '-config', intermediate.config, '-revoke', leaves.revoked.certPath, '-crl_reason', 'keyCompromise'],
      intermediate.dir,
    );
    const rootCrl = generateCrl(root, 'root');
    const intermediateCrl = generateCrl(intermediate, 'intermediate');

    return {
      dir,
      root: root.credential,
      intermediate: intermediate.credential,
      untrustedRoot: untrustedRoot.credential,
      rootCrl: rootCrl.der,
      intermediateCrl: intermediateCrl.der,
      rootCrlPath: rootCrl.path,
      intermediateCrlPath: intermediateCrl.path,
      leaves,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
