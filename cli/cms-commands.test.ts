import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, 'rts.ts');
let dir: string;
const region = () => join(dir, 'region');
const file = (name: string) => join(region(), name);

function rts(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openssl(...args: string[]) {
  const result = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
  return { status: result.status, output: result.stdout + result.stderr };
}

const report = new TextEncoder().encode(
  JSON.stringify({ resourceType: 'DiagnosticReport', conclusion: 'Unstable angina' }),
);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rts-cms-cli-'));
  writeFileSync(join(dir, 'report.json'), report);
  expect(rts('pki', 'demo-region', '--out', region()).status).toBe(0);
  // Dr Chen (clinic B) seals a report for Dr Ahmed (clinic A) and for herself.
  const sealed = rts(
    'cms',
    'seal',
    '--key',
    file('clinic-b.dr-chen.signing.key.pem'),
    '--cert',
    file('clinic-b.dr-chen.signing.cert.pem'),
    '--to',
    file('clinic-a.dr-ahmed.encryption.cert.pem'),
    '--to',
    file('clinic-b.dr-chen.encryption.cert.pem'),
    '--in',
    join(dir, 'report.json'),
    '--out',
    join(dir, 'report.p7m'),
  );
  expect(sealed.stderr).toBe('');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openAs = (who: string, out: string, ...extra: string[]) =>
  rts(
    'cms',
    'open',
    '--key',
    file(`${who}.encryption.key.pem`),
    '--cert',
    file(`${who}.encryption.cert.pem`),
    '--trust',
    file('ca.pem'),
    '--in',
    join(dir, 'report.p7m'),
    '--out',
    join(dir, out),
    ...extra,
  );

describe('rts cms', () => {
  it('opens a sealed file for each recipient and names the signer', () => {
    for (const who of ['clinic-a.dr-ahmed', 'clinic-b.dr-chen']) {
      const opened = openAs(who, `${who}.json`, '--crl', file('ca.crl.pem'), '--json');
      expect(opened.status, opened.stderr).toBe(0);
      expect(JSON.parse(opened.stdout)).toMatchObject({
        signer: expect.stringContaining('CN=clinic-b.dr-chen'),
        contentEncryption: 'aes-256-gcm',
      });
      expect(readFileSync(join(dir, `${who}.json`))).toEqual(Buffer.from(report));
    }
  });

  it('produces what openssl cms decrypts and verifies', () => {
    const decrypted = openssl(
      'cms',
      '-decrypt',
      '-binary',
      '-inform',
      'DER',
      '-in',
      'report.p7m',
      '-recip',
      file('clinic-a.dr-ahmed.encryption.cert.pem'),
      '-inkey',
      file('clinic-a.dr-ahmed.encryption.key.pem'),
      '-out',
      'inner.p7s',
    );
    expect(decrypted.status, decrypted.output).toBe(0);
    const verified = openssl(
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      'inner.p7s',
      '-CAfile',
      file('ca.pem'),
      '-out',
      'openssl.json',
    );
    expect(verified.status, verified.output).toBe(0);
    expect(readFileSync(join(dir, 'openssl.json'))).toEqual(Buffer.from(report));
  });

  it('refuses a reader it was not sealed for, with the error code', () => {
    const refused = openAs('clinic-b.dr-duarte', 'duarte.json');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^rts: cms-not-a-recipient: /);
  });

  it('refuses a revoked signer once the CRL lists it', () => {
    // In a copy of the region, so the other tests keep an empty CRL.
    const crlDir = join(dir, 'revoked');
    cpSync(region(), crlDir, { recursive: true });
    expect(rts('pki', 'revoke', '--ca-dir', crlDir, 'clinic-b.dr-chen.signing').status).toBe(0);
    const refused = openAs('clinic-a.dr-ahmed', 'revoked.json', '--crl', join(crlDir, 'ca.crl.pem'));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^rts: cms-certificate-revoked: /);
  });

  it('inspects a file without showing content or keys', () => {
    const inspected = rts('inspect', join(dir, 'report.p7m'));
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/authEnvelopedData|AuthEnvelopedData/);
    expect(inspected.stdout).not.toContain('Unstable angina');
  });

  it('says which option is missing', () => {
    const missing = rts('cms', 'seal', '--in', 'x');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^rts: usage: .*--key/);
  });
});
