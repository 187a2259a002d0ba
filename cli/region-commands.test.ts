import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '../hub/index.ts';
import { pemToDer } from '../shared/pki/index.ts';
import { certificateBindingProblem } from '../shared-node/index.ts';

const CLI = join(import.meta.dirname, 'rts.ts');

let root: string;
let dir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rts-region-'));
  dir = join(root, 'north');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rts(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(...args: string[]): string {
  const result = rts(...args);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

function openssl(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { cwd: root, encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Exactly one line on stderr, in the documented shape. */
function expectErrorLine(stderr: string, code: string): void {
  expect(stderr).toMatch(new RegExp(`^rts: ${code}: [^\\n]+\\n$`));
}

interface Definitions {
  users: { name: string; password_hash: string }[];
  permissions: { user: string }[];
  topic_permissions: { user: string }[];
  queues: { name: string }[];
}
const definitions = () => JSON.parse(readFileSync(join(dir, 'broker-definitions.json'), 'utf8')) as Definitions;
const hashOf = (user: string) => definitions().users.find((u) => u.name === user)?.password_hash;
const secrets = () => JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
const state = () =>
  JSON.parse(readFileSync(join(dir, 'region.json'), 'utf8')) as {
    crl: { crlNumber: number };
    endpoints: {
      id: string;
      status: string;
      certificates: { serialNumber: string; file: string; revokedAt?: string }[];
    }[];
  };
const snapshot = () =>
  ['broker-definitions.json', 'secrets.json', 'region.json', 'ca.crl.pem'].map((f) =>
    readFileSync(join(dir, f), 'utf8'),
  );

describe('rts region', () => {
  beforeAll(() => {
    // The broker's TLS certificate comes from another CA here, as it often does in a real region.
    ok('pki', 'demo-region', '--out', join(root, 'broker-pki'));
  }, 60_000);

  it('creates a region whose hub configuration loads and whose secrets are mode 0600', () => {
    const out = ok(
      'region',
      'create',
      '--dir',
      dir,
      '--name',
      'North Region',
      '--broker-host',
      'broker.north.example:5671',
      '--broker-ca',
      join(root, 'broker-pki', 'ca.pem'),
    );
    expect(out).toContain('rabbitmqctl import_definitions');
    for (const secret of ['ca.key.pem', 'hub.key.pem', 'enrolment-signer.key.pem', 'secrets.json']) {
      expect(statSync(join(dir, secret)).mode & 0o777).toBe(0o600);
    }
    const hub = loadHubConfig(join(dir, 'hub-config.json'), {});
    expect(hub.config.broker.tls?.caFile).toBe('broker-ca.pem');
    expect(hub.config.broker.management.url).toBe('https://broker.north.example:15671');
    // rts hub … talks to the hub's operator API with a token of the region's secrets.
    expect(hub.config.operator).toEqual({ port: 7380, token: { env: 'RTS_HUB_OPERATOR_TOKEN' } });
    expect(JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8'))['rts-hub:operator-token']).toMatch(
      /^[\w-]{32}$/,
    );
    expect(definitions().users.map((u) => u.name)).toEqual(['rts-admin', 'rts-hub']);
    expect(openssl('verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'hub.cert.pem')).status).toBe(0);

    const before = snapshot();
    expect(
      ok('region', 'create', '--dir', dir, '--name', 'North Region', '--broker-host', 'broker.north.example:5671'),
    ).toMatch(/exists in .*; nothing changed/);
    expect(snapshot()).toEqual(before);
  }, 60_000);

  it('refuses a region whose broker is remote and reached without TLS, in one line, writing nothing', () => {
    const result = rts(
      'region',
      'create',
      '--dir',
      join(root, 'plain'),
      '--name',
      'Plain',
      '--broker-host',
      'broker.plain.example:5672',
    );
    expect(result.status).toBe(2);
    expectErrorLine(result.stderr, 'usage');
    expect(result.stderr).toContain('plain AMQP (no TLS) to broker.plain.example is refused');
    expect(() => statSync(join(root, 'plain'))).toThrow();
  });

  it("adds two endpoints without changing the hub's, the administrator's or the first endpoint's password hash, and a second add changes nothing", () => {
    const hubHash = hashOf('rts-hub');
    const adminHash = hashOf('rts-admin');
    ok('region', 'add-endpoint', 'clinic-a', '--dir', dir, '--kind', 'clinic-system');
    const clinicHash = hashOf('clinic-a');
    ok('region', 'add-endpoint', 'ws-1', '--dir', dir, '--kind', 'workstation');
    expect(hashOf('rts-hub')).toBe(hubHash);
    expect(hashOf('rts-admin')).toBe(adminHash);
    expect(hashOf('clinic-a')).toBe(clinicHash);
    expect(definitions().users.map((u) => u.name)).toEqual(['rts-admin', 'rts-hub', 'clinic-a', 'ws-1']);
    expect(definitions().queues.map((q) => q.name)).toContain('rts.downlink.ws-1');
    expect(Object.keys(secrets())).toEqual([
      'rts-admin',
      'rts-hub',
      'rts-hub:operator-token',
      'clinic-a',
      'clinic-a.p12',
      'ws-1',
    ]);
    // The clinic system's .p12 opens with its password and holds a certificate of this CA naming the endpoint.
    const p12 = openssl(
      'pkcs12',
      '-in',
      join(dir, 'endpoints/clinic-a/clinic-a.p12'),
      '-passin',
      `pass:${secrets()['clinic-a.p12']}`,
      '-nokeys',
      '-clcerts',
    );
    expect(p12.output).toMatch(/subject=.*CN\s*=\s*clinic-a/);

    const before = snapshot();
    expect(ok('region', 'add-endpoint', 'ws-1', '--dir', dir, '--kind', 'workstation')).toContain(
      'Endpoint "ws-1" exists (workstation, active); nothing changed',
    );
    expect(snapshot()).toEqual(before);
  }, 60_000);

  it('writes an enrolment file that verifies against the region CA, and refuses one with a byte of the broker host changed', () => {
    const file = join(dir, 'endpoints/ws-1/ws-1.rtsenrol');
    const shown = ok('region', 'enrolment', 'show', file, '--trust', join(dir, 'ca.pem'));
    expect(shown).toContain('endpoint:     ws-1 (workstation)');
    expect(shown).toMatch(
      /broker\.north\.example:5671, vhost rts, user ws-1, TLS CA CN=Demo Region Root CA.*, server name broker\.north\.example\n/,
    );
    // The fingerprint the user compares with the administrator's, as openssl prints it.
    const fingerprint = openssl('x509', '-in', join(dir, 'ca.pem'), '-noout', '-fingerprint', '-sha256')
      .output.trim()
      .replace(/^.*Fingerprint=/i, '');
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(shown).toContain(`CA SHA-256:   ${fingerprint}`);
    const json = JSON.parse(ok('region', 'enrolment', 'show', file, '--trust', join(dir, 'ca.pem'), '--json')) as {
      hubCertificatePem: string;
      crlPem: string;
    };
    expect(json.hubCertificatePem).toBe(readFileSync(join(dir, 'hub.cert.pem'), 'utf8'));
    expect(json.crlPem).toBe(readFileSync(join(dir, 'ca.crl.pem'), 'utf8'));
    expect(JSON.stringify(json)).not.toContain(secrets()['ws-1']);

    const bytes = readFileSync(file);
    const at = bytes.indexOf('broker.north.example');
    expect(at).toBeGreaterThan(0);
    const tampered = Buffer.from(bytes);
    tampered[at] = 'c'.charCodeAt(0); // crokers.north.example
    writeFileSync(join(root, 'tampered.rtsenrol'), tampered);
    const refused = rts('region', 'enrolment', 'show', join(root, 'tampered.rtsenrol'), '--trust', join(dir, 'ca.pem'));
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'enrolment-refused');
    expect(refused.stderr).toContain('altered after signing');
    expect(refused.stdout).toBe('');

    // Another CA than the one trusted: refused too.
    const other = rts('region', 'enrolment', 'show', file, '--trust', join(root, 'broker-pki', 'ca.pem'));
    expect(other.status).toBe(1);
    expectErrorLine(other.stderr, 'enrolment-refused');
  }, 60_000);

  it('refuses a --tls-server-name that is no DNS name in one line, adding nothing', () => {
    const before = snapshot();
    const refused = rts(
      'region',
      'add-endpoint',
      'ws-9',
      '--dir',
      dir,
      '--kind',
      'workstation',
      '--tls-server-name',
      'vhost:rts',
    );
    expect(refused.status).toBe(2);
    expectErrorLine(refused.stderr, 'usage');
    expect(snapshot()).toEqual(before);
  });

  it("issues a practitioner's certificate from a request only if it names a directory id of one of the region's clinics", () => {
    ok(
      'pki',
      'request',
      '--subject-cn',
      'Dr. Lima',
      '--key-out',
      join(root, 'lima-name.key'),
      '--out',
      join(root, 'lima-name.csr'),
    );
    const refused = rts(
      'region',
      'issue',
      'ws-1',
      '--dir',
      dir,
      '--csr',
      join(root, 'lima-name.csr'),
      '--profile',
      'practitioner-signing',
    );
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'region-refused');
    expect(refused.stderr).toContain("must name the practitioner's directory id");

    ok(
      'pki',
      'request',
      '--directory-id',
      'clinic-z.dr-lima',
      '--profile',
      'practitioner-signing',
      '--key-out',
      join(root, 'lima-z.key'),
      '--out',
      join(root, 'lima-z.csr'),
    );
    const noClinic = rts(
      'region',
      'issue',
      'ws-1',
      '--dir',
      dir,
      '--csr',
      join(root, 'lima-z.csr'),
      '--profile',
      'practitioner-signing',
    );
    expectErrorLine(noClinic.stderr, 'region-refused');
    expect(noClinic.stderr).toContain('"clinic-z" is no clinic system of this region');

    ok(
      'pki',
      'request',
      '--directory-id',
      'clinic-a.dr-lima',
      '--profile',
      'practitioner-signing',
      '--key-out',
      join(root, 'lima.key'),
      '--out',
      join(root, 'lima.csr'),
    );
    expect(
      ok('region', 'issue', 'ws-1', '--dir', dir, '--csr', join(root, 'lima.csr'), '--profile', 'practitioner-signing'),
    ).toContain('CN=clinic-a.dr-lima');
    expect(state().endpoints.find((e) => e.id === 'ws-1')?.certificates).toHaveLength(1);
  }, 60_000);

  it('revokes a certificate issued with rts pki issue by serial, so that openssl verify -crl_check refuses it', () => {
    ok(
      'pki',
      'request',
      '--subject-cn',
      'clinic-b',
      '--profile',
      'clinic-system',
      '--key-out',
      join(root, 'b.key'),
      '--out',
      join(root, 'b.csr'),
    );
    const issued = JSON.parse(
      ok(
        'pki',
        'issue',
        '--csr',
        join(root, 'b.csr'),
        '--profile',
        'clinic-system',
        '--ca-cert',
        join(dir, 'ca.pem'),
        '--ca-key',
        join(dir, 'ca.key.pem'),
        '--out',
        join(root, 'b.pem'),
        '--json',
      ),
    ) as { serialNumber: string };
    const check = () =>
      openssl(
        'verify',
        '-crl_check',
        '-CAfile',
        join(dir, 'ca.pem'),
        '-CRLfile',
        join(dir, 'ca.crl.pem'),
        join(root, 'b.pem'),
      );
    expect(check().status).toBe(0);

    const crlNumber = state().crl.crlNumber;
    expect(ok('region', 'revoke', '--dir', dir, '--serial', issued.serialNumber)).toContain(
      `CRL number ${crlNumber + 1}`,
    );
    expect(check().output).toContain('certificate revoked');
    expect(check().status).not.toBe(0);
    expect(ok('region', 'revoke', '--dir', dir, '--serial', issued.serialNumber)).toContain('nothing changed');
    expect(state().crl.crlNumber).toBe(crlNumber + 1);
  }, 60_000);

  it('suspends and resumes an endpoint: its broker permissions go and come back, and the broker commands are printed', () => {
    const out = ok('region', 'suspend', 'ws-1', '--dir', dir);
    expect(out).toContain('rabbitmqctl clear_permissions -p rts ws-1');
    expect(out).toContain('rabbitmqctl clear_topic_permissions -p rts ws-1');
    expect(out).toContain('npx rts hub disconnect ws-1 --config hub-config.json');
    expect(definitions().permissions.map((p) => p.user)).not.toContain('ws-1');
    expect(definitions().topic_permissions.map((p) => p.user)).not.toContain('ws-1');
    expect(definitions().users.map((u) => u.name)).toContain('ws-1');
    expect(ok('region', 'list', '--dir', dir)).toMatch(/ws-1\s+workstation\s+suspended/);
    expect(ok('region', 'suspend', 'ws-1', '--dir', dir)).toContain('already suspended; nothing changed');

    ok('region', 'resume', 'ws-1', '--dir', dir);
    expect(definitions().permissions.map((p) => p.user)).toContain('ws-1');
  }, 60_000);

  it('removes an endpoint: its user and password go, its certificates are revoked, and it cannot come back under the same id', () => {
    const hubHash = hashOf('rts-hub');
    const certificate = join(dir, state().endpoints.find((e) => e.id === 'clinic-a')!.certificates[0]!.file);
    const out = ok('region', 'remove', 'clinic-a', '--dir', dir);
    expect(out).toContain('rabbitmqctl delete_user clinic-a');
    expect(definitions().users.map((u) => u.name)).toEqual(['rts-admin', 'rts-hub', 'ws-1']);
    expect(hashOf('rts-hub')).toBe(hubHash);
    expect(Object.keys(secrets())).not.toContain('clinic-a');
    expect(Object.keys(secrets())).not.toContain('clinic-a.p12');
    expect(
      openssl('verify', '-crl_check', '-CAfile', join(dir, 'ca.pem'), '-CRLfile', join(dir, 'ca.crl.pem'), certificate)
        .output,
    ).toContain('certificate revoked');

    const before = snapshot();
    expect(ok('region', 'remove', 'clinic-a', '--dir', dir)).toContain('already removed; nothing changed');
    expect(snapshot()).toEqual(before);
    const again = rts('region', 'add-endpoint', 'clinic-a', '--dir', dir, '--kind', 'clinic-system');
    expect(again.status).toBe(1);
    expectErrorLine(again.stderr, 'region-refused');
  }, 60_000);

  it('publishes a new CRL with the next number and a nextUpdate --days ahead, keeping the revocations', () => {
    const { crlNumber } = state().crl;
    ok('region', 'publish-crl', '--dir', dir, '--days', '3');
    expect(state().crl.crlNumber).toBe(crlNumber + 1);
    const text = openssl('crl', '-in', join(dir, 'ca.crl.pem'), '-noout', '-text').output;
    expect(text.match(/Serial Number:/g)).toHaveLength(2);
    const next = new Date(/Next Update: (.+)/.exec(text)![1]!).getTime();
    expect(Math.abs(next - (Date.now() + 3 * 86_400_000))).toBeLessThan(120_000);
    // A fresh enrolment file carries the new CRL.
    ok('region', 'enrolment', 'write', 'ws-1', '--dir', dir);
    expect(
      ok('region', 'enrolment', 'show', join(dir, 'endpoints/ws-1/ws-1.rtsenrol'), '--trust', join(dir, 'ca.pem')),
    ).toContain(`number ${crlNumber + 1}, 2 revoked`);
  }, 60_000);
});

describe("certificates from rts pki and rts region pass the hub's registration rule", () => {
  let region: string;
  beforeAll(() => {
    region = join(root, 'binding');
    ok('region', 'create', '--dir', region, '--name', 'Binding Region', '--broker-host', '127.0.0.1:5672');
    ok('region', 'add-endpoint', 'clinic-a', '--dir', region, '--kind', 'clinic-system');
    ok('region', 'add-endpoint', 'ws-2', '--dir', region, '--kind', 'workstation');
  }, 60_000);

  it('binds the certificates of rts pki request --directory-id, issued by rts region issue, to that directory id', () => {
    for (const use of ['signing', 'encryption'] as const) {
      const csr = join(root, `binding-${use}.csr`);
      ok(
        'pki',
        'request',
        '--directory-id',
        'clinic-a.dr-lima',
        '--profile',
        `practitioner-${use}`,
        '--key-out',
        join(root, `binding-${use}.key`),
        '--out',
        csr,
      );
      ok('region', 'issue', 'ws-2', '--dir', region, '--csr', csr, '--profile', `practitioner-${use}`);
    }
    const regionState = JSON.parse(readFileSync(join(region, 'region.json'), 'utf8')) as {
      endpoints: { id: string; certificates: { profile: string; file: string }[] }[];
    };
    const issued = regionState.endpoints.find((e) => e.id === 'ws-2')!.certificates;
    expect(issued.map((c) => c.profile)).toEqual(['practitioner-signing', 'practitioner-encryption']);
    for (const [certificate, use] of issued.map((c, i) => [c, (['signing', 'encryption'] as const)[i]!] as const)) {
      const der = pemToDer(readFileSync(join(region, certificate.file), 'utf8'));
      expect(certificateBindingProblem(der, use, 'clinic-a.dr-lima'), use).toBeUndefined();
      expect(certificateBindingProblem(der, use, 'clinic-a.dr-berg')?.detail, use).toBe(
        `the ${use} certificate is issued to "clinic-a.dr-lima", not to the directory id clinic-a.dr-berg`,
      );
    }
  }, 60_000);

  it('refuses a practitioner request that names the person (--subject-cn "Dr. Ana Lima"), and its certificate at rts region issue', () => {
    for (const use of ['signing', 'encryption']) {
      const refused = rts(
        'pki',
        'request',
        '--subject-cn',
        'Dr. Ana Lima',
        '--profile',
        `practitioner-${use}`,
        '--key-out',
        join(root, 'lima-person.key'),
        '--out',
        join(root, 'lima-person.csr'),
      );
      expect(refused.status).toBe(2);
      expectErrorLine(refused.stderr, 'usage');
      expect(refused.stderr).toContain(
        `a practitioner-${use} certificate names the practitioner's directory id: give --directory-id, not --subject-cn "Dr. Ana Lima"`,
      );
    }
    // Without a profile the request is made (it could be for anything), but no practitioner certificate comes of it.
    ok(
      'pki',
      'request',
      '--subject-cn',
      'Dr. Ana Lima',
      '--key-out',
      join(root, 'lima-person.key'),
      '--out',
      join(root, 'lima-person.csr'),
    );
    const notIssued = rts(
      'region',
      'issue',
      'ws-2',
      '--dir',
      region,
      '--csr',
      join(root, 'lima-person.csr'),
      '--profile',
      'practitioner-signing',
    );
    expect(notIssued.status).toBe(1);
    expectErrorLine(notIssued.stderr, 'region-refused');
  }, 60_000);

  it('rts cms open checks revocation against the CRL of an enrolment file that verifies against the region CA', () => {
    const certificates = (
      JSON.parse(readFileSync(join(region, 'region.json'), 'utf8')) as {
        endpoints: { id: string; certificates: { profile: string; file: string; serialNumber: string }[] }[];
      }
    ).endpoints.find((e) => e.id === 'ws-2')!.certificates;
    const [signing, encryption] = ['practitioner-signing', 'practitioner-encryption'].map((p) =>
      certificates.find((c) => c.profile === p)!,
    );
    writeFileSync(join(root, 'note.json'), '{"note":"enrolment CRL"}');
    ok(
      'cms',
      'seal',
      '--key',
      join(root, 'binding-signing.key'),
      '--cert',
      join(region, signing!.file),
      '--to',
      join(region, encryption!.file),
      '--in',
      join(root, 'note.json'),
      '--out',
      join(root, 'note.p7m'),
    );
    const enrolmentFile = join(region, 'endpoints', 'ws-2', 'ws-2.rtsenrol');
    const open = (enrolment: string) =>
      rts(
        'cms',
        'open',
        '--key',
        join(root, 'binding-encryption.key'),
        '--cert',
        join(region, encryption!.file),
        '--trust',
        join(region, 'ca.pem'),
        '--enrolment',
        enrolment,
        '--in',
        join(root, 'note.p7m'),
        '--out',
        join(root, 'note.out.json'),
      );
    expect(open(enrolmentFile).status).toBe(0);
    expect(readFileSync(join(root, 'note.out.json'), 'utf8')).toBe('{"note":"enrolment CRL"}');

    writeFileSync(join(root, 'before-revocation.rtsenrol'), readFileSync(enrolmentFile));
    ok('region', 'revoke', '--dir', region, '--serial', signing!.serialNumber);
    ok('region', 'enrolment', 'write', 'ws-2', '--dir', region);
    const revoked = open(enrolmentFile);
    expect(revoked.status).toBe(1);
    expect(revoked.stderr).toMatch(/revoked/);
    // The file's CRL is the one checked: the earlier file does not list the certificate yet.
    expect(open(join(root, 'before-revocation.rtsenrol')).status).toBe(0);

    const tampered = readFileSync(enrolmentFile);
    const at = tampered.indexOf(Buffer.from('Binding Region'));
    tampered[at] = tampered[at]! ^ 1;
    writeFileSync(join(root, 'tampered.rtsenrol'), tampered);
    const refused = open(join(root, 'tampered.rtsenrol'));
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'enrolment-refused');
  }, 60_000);
});

describe('rts region add-endpoint --practitioner, and sync-broker through the management API', () => {
  interface Request {
    method: string;
    path: string;
    authorization: string;
    body: unknown;
  }
  let region: string;
  let server: Server;
  let port: number;
  const requests: Request[] = [];
  /** What the fake management API answers; RabbitMQ answers 201 for a created object. */
  let status = 201;

  /** The rts command without blocking this process: the fake management API in it must answer meanwhile. */
  function rtsAsync(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });
  }
  const regionSecrets = () => JSON.parse(readFileSync(join(region, 'secrets.json'), 'utf8')) as Record<string, string>;
  const regionState = () =>
    JSON.parse(readFileSync(join(region, 'region.json'), 'utf8')) as {
      broker: { managementUrl: string };
      endpoints: { id: string; certificates: { profile: string; subject: string; file: string }[] }[];
    };
  const files = () =>
    ['region.json', 'secrets.json', 'broker-definitions.json'].map((f) => readFileSync(join(region, f), 'utf8'));

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({
          method: request.method!,
          path: request.url!,
          authorization: request.headers.authorization ?? '',
          body: JSON.parse(body),
        });
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(status >= 400 ? '{"error":"not_authorized","reason":"Login failed"}' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    region = join(root, 'sync');
    ok(
      'region',
      'create',
      '--dir',
      region,
      '--name',
      'Sync Region',
      '--broker-host',
      '127.0.0.1:5672',
      '--management-url',
      `http://127.0.0.1:${port}`,
    );
  }, 60_000);
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("issues each practitioner's signing and encryption certificates with keys in .p12 files, passwords in secrets.json; a second add changes nothing", () => {
    const out = ok(
      'region',
      'add-endpoint',
      'clinic-p',
      '--dir',
      region,
      '--kind',
      'clinic-system',
      '--practitioner',
      'dr-a',
      '--practitioner',
      'dr-b',
    );
    expect(out).toContain('(practitioners clinic-p.dr-a, clinic-p.dr-b)');
    expect(out).not.toContain(regionSecrets()['clinic-p.dr-a.signing.p12']);
    const certificates = regionState().endpoints.find((e) => e.id === 'clinic-p')!.certificates;
    expect(certificates.map((c) => `${c.profile} ${c.subject}`)).toEqual([
      'clinic-system CN=clinic-p,O=Sync Region',
      'practitioner-signing CN=clinic-p.dr-a,O=Sync Region',
      'practitioner-encryption CN=clinic-p.dr-a,O=Sync Region',
      'practitioner-signing CN=clinic-p.dr-b,O=Sync Region',
      'practitioner-encryption CN=clinic-p.dr-b,O=Sync Region',
    ]);
    expect(Object.keys(regionSecrets()).filter((k) => k.startsWith('clinic-p'))).toEqual([
      'clinic-p',
      'clinic-p.p12',
      'clinic-p.dr-a.signing.p12',
      'clinic-p.dr-a.encryption.p12',
      'clinic-p.dr-b.signing.p12',
      'clinic-p.dr-b.encryption.p12',
    ]);
    for (const use of ['signing', 'encryption'] as const) {
      const p12 = join(region, 'endpoints', 'clinic-p', `clinic-p.dr-b.${use}.p12`);
      expect(statSync(p12).mode & 0o777).toBe(0o600);
      const opened = openssl(
        'pkcs12',
        '-in',
        p12,
        '-passin',
        `pass:${regionSecrets()[`clinic-p.dr-b.${use}.p12`]}`,
        '-nokeys',
        '-clcerts',
      );
      expect(opened.status).toBe(0);
      expect(opened.output).toMatch(/subject=.*CN\s*=\s*clinic-p\.dr-b/);
      // The certificate file recorded in region.json is the one in the .p12, and the hub's binding rule takes it.
      const recorded = certificates.find(
        (c) => c.profile === `practitioner-${use}` && c.subject.startsWith('CN=clinic-p.dr-b,'),
      )!;
      expect(
        certificateBindingProblem(pemToDer(readFileSync(join(region, recorded.file), 'utf8')), use, 'clinic-p.dr-b'),
      ).toBeUndefined();
    }
    expect(
      openssl(
        'verify',
        '-CAfile',
        join(region, 'ca.pem'),
        join(region, 'endpoints/clinic-p/clinic-p.dr-a.signing.cert.pem'),
      ).status,
    ).toBe(0);

    const before = files();
    expect(
      ok('region', 'add-endpoint', 'clinic-p', '--dir', region, '--kind', 'clinic-system', '--practitioner', 'dr-c'),
    ).toContain('exists (clinic-system, active); nothing changed');
    expect(files()).toEqual(before);
  }, 60_000);

  it('refuses --practitioner for a workstation, a local id that makes no directory id, and one given twice, in one line, adding nothing', () => {
    const before = files();
    for (const [args, words] of [
      [['ws-p', '--kind', 'workstation', '--practitioner', 'dr-a'], '--practitioner is for a clinic system'],
      [
        ['clinic-q', '--kind', 'clinic-system', '--practitioner', 'dr a'],
        '--practitioner "dr a": "clinic-q.dr a" is no directory id',
      ],
      [['clinic-q', '--kind', 'clinic-system', '--practitioner', 'dr-a.x'], '"clinic-q.dr-a.x" is no directory id'],
      [
        ['clinic-q', '--kind', 'clinic-system', '--practitioner', 'dr-a', '--practitioner', 'dr-a'],
        '--practitioner "dr-a" is given twice',
      ],
    ] as const) {
      const refused = rts('region', 'add-endpoint', ...args, '--dir', region);
      expect(refused.status).toBe(2);
      expectErrorLine(refused.stderr, 'usage');
      expect(refused.stderr).toContain(words);
    }
    expect(files()).toEqual(before);
    expect(() => statSync(join(region, 'endpoints', 'clinic-q'))).toThrow();
  });

  it("gives every active endpoint its user, downlink and the definitions' grants through the management API, as rts-admin", async () => {
    ok('region', 'add-endpoint', 'ws-s', '--dir', region, '--kind', 'workstation');
    ok('region', 'add-endpoint', 'ws-off', '--dir', region, '--kind', 'workstation');
    ok('region', 'suspend', 'ws-off', '--dir', region);
    requests.length = 0;
    const result = await rtsAsync('region', 'sync-broker', '--dir', region);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Applied to the broker at http://127.0.0.1:${port}, vhost rts:`);
    expect(result.stdout).toContain(
      'clinic-p: user (password of secrets.json), queue rts.downlink.clinic-p bound to rts.downlink; reads rts.downlink.clinic-p, writes rts.uplink under routing key clinic-p',
    );
    expect(result.stdout).toContain('Left alone: ws-off (suspended).');
    expect(result.stdout).not.toContain(regionSecrets()['clinic-p']);

    const admin = `Basic ${Buffer.from(`rts-admin:${regionSecrets()['rts-admin']}`).toString('base64')}`;
    expect(requests.every((r) => r.authorization === admin)).toBe(true);
    const forClinic = requests.filter((r) => r.path.includes('clinic-p'));
    expect(forClinic.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /api/users/clinic-p',
      'PUT /api/queues/rts/rts.downlink.clinic-p',
      'POST /api/bindings/rts/e/rts.downlink/q/rts.downlink.clinic-p',
      'PUT /api/permissions/rts/clinic-p',
      'PUT /api/topic-permissions/rts/clinic-p',
    ]);
    expect(forClinic[0]!.body).toEqual({ password: regionSecrets()['clinic-p'], tags: '' });
    // The grants of broker-definitions.json: nothing a second run could take away from a registered endpoint.
    const definitions = JSON.parse(readFileSync(join(region, 'broker-definitions.json'), 'utf8')) as {
      permissions: { user: string; configure: string; write: string; read: string }[];
      topic_permissions: { user: string; exchange: string; write: string; read: string }[];
    };
    const grants = definitions.permissions.find((p) => p.user === 'clinic-p')!;
    expect(forClinic[3]!.body).toEqual({
      configure: '^$',
      write: '^rts\\.uplink$',
      read: '^rts\\.downlink\\.clinic-p$',
    });
    expect(forClinic[3]!.body).toEqual({ configure: grants.configure, write: grants.write, read: grants.read });
    const topic = definitions.topic_permissions.find((p) => p.user === 'clinic-p')!;
    expect(forClinic[4]!.body).toEqual({ exchange: 'rts.uplink', write: '^clinic-p$', read: '^$' });
    expect(forClinic[4]!.body).toEqual({ exchange: topic.exchange, write: topic.write, read: topic.read });
    expect(requests.filter((r) => r.path.includes('ws-s'))).toHaveLength(5);
    expect(requests.some((r) => r.path.includes('ws-off'))).toBe(false);
  }, 60_000);

  it('says in one line when the management API refuses, or cannot be reached, or would be plain HTTP to another host', async () => {
    status = 401;
    const refused = await rtsAsync('region', 'sync-broker', '--dir', region);
    status = 201;
    expect(refused.status).toBe(1);
    expectErrorLine(refused.stderr, 'broker-error');
    expect(refused.stderr).toContain('PUT users/clinic-p: 401');

    const statePath = join(region, 'region.json');
    const original = readFileSync(statePath, 'utf8');
    const withUrl = (url: string) =>
      writeFileSync(
        statePath,
        JSON.stringify({ ...JSON.parse(original), broker: { ...regionState().broker, managementUrl: url } }),
      );
    try {
      const closed = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const free = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(free));
        });
      });
      withUrl(`http://127.0.0.1:${closed}`);
      const unreachable = await rtsAsync('region', 'sync-broker', '--dir', region);
      expect(unreachable.status).toBe(1);
      expectErrorLine(unreachable.stderr, 'broker-unreachable');
      expect(unreachable.stderr).toContain('ECONNREFUSED');

      withUrl('http://broker.sync.example:15672');
      const plain = await rtsAsync('region', 'sync-broker', '--dir', region);
      expect(plain.status).toBe(1);
      expectErrorLine(plain.stderr, 'region-refused');
      expect(plain.stderr).toContain('plain HTTP to broker.sync.example is refused');
    } finally {
      writeFileSync(statePath, original);
    }
  }, 60_000);

  it("removes a clinic system with its practitioners' .p12 passwords, and revokes their certificates", () => {
    ok('region', 'remove', 'clinic-p', '--dir', region);
    expect(Object.keys(regionSecrets()).filter((k) => k.startsWith('clinic-p'))).toEqual([]);
    const revoked = openssl(
      'verify',
      '-crl_check',
      '-CAfile',
      join(region, 'ca.pem'),
      '-CRLfile',
      join(region, 'ca.crl.pem'),
      join(region, 'endpoints/clinic-p/clinic-p.dr-a.encryption.cert.pem'),
    );
    expect(revoked.output).toContain('certificate revoked');
  }, 60_000);
});

describe('rts region for a region on ActiveMQ Artemis', () => {
  let south: string;
  const artemisFile = (name: string) => readFileSync(join(south, 'artemis', name), 'utf8');
  beforeAll(() => {
    south = join(root, 'south');
  });

  it('writes the Artemis files, a hub configuration that manages Artemis over AMQP, and enrolment files that say so', () => {
    const create = ['region', 'create', '--dir', south, '--name', 'South Region', '--broker-host', '127.0.0.1:61616'];
    const refused = rts(...create, '--broker-kind', 'artemis', '--management-url', 'http://127.0.0.1:15672');
    expectErrorLine(refused.stderr, 'usage');
    expect(ok(...create, '--broker-kind', 'artemis')).toContain('rts-topology.xml');
    const hub = loadHubConfig(join(south, 'hub-config.json'), {});
    expect(hub.config.broker.kind).toBe('artemis');
    expect(hub.config.broker.management).toEqual({
      username: 'rts-admin',
      password: { env: 'RTS_BROKER_ADMIN_PASSWORD' },
    });

    const hubLine = () =>
      artemisFile('artemis-users.properties')
        .split('\n')
        .find((l) => l.startsWith('rts-hub = '));
    const hubBefore = hubLine();
    const added = ok('region', 'add-endpoint', 'clinic-s', '--dir', south, '--kind', 'clinic-system');
    // Existing users keep their hash line byte for byte (a fresh salt would change every line).
    expect(hubLine()).toBe(hubBefore);
    const clinicBefore = artemisFile('artemis-users.properties').match(/^clinic-s = .*$/m)![0];
    ok('region', 'add-endpoint', 'ws-s', '--dir', south, '--kind', 'workstation');
    expect(artemisFile('artemis-users.properties')).toContain(clinicBefore);
    expect(artemisFile('artemis-users.properties')).toMatch(/^ws-s = ENC\(/m);
    expect(added).toContain('etc/broker.xml');
    expect(artemisFile('rts-topology.xml')).toContain('<divert name="rts.uplink.clinic-s">');
    expect(artemisFile('rts-topology.xml')).toContain('<queue name="rts.downlink.clinic-s">');
    expect(artemisFile('artemis-users.properties')).toMatch(/^clinic-s = ENC\(1024:[0-9A-F]+:[0-9A-F]+\)$/m);
    expect(artemisFile('artemis-roles.properties')).toMatch(/^rts-endpoint-clinic-s = clinic-s$/m);
    const enrolment = join(south, 'endpoints/clinic-s/clinic-s.rtsenrol');
    const shown = JSON.parse(
      ok('region', 'enrolment', 'show', enrolment, '--trust', join(south, 'ca.pem'), '--json'),
    ) as {
      broker: { kind?: string };
    };
    expect(shown.broker.kind).toBe('artemis');
    expect(ok('region', 'enrolment', 'show', enrolment, '--trust', join(south, 'ca.pem'))).toContain(
      'broker:       ActiveMQ Artemis at 127.0.0.1:61616, user ',
    );
  }, 60_000);

  it('suspends an endpoint by taking its role (its user and downlink stay), resumes it, and refuses sync-broker', () => {
    expect(ok('region', 'suspend', 'clinic-s', '--dir', south)).toContain(
      'npx rts hub disconnect clinic-s --config hub-config.json',
    );
    expect(artemisFile('artemis-roles.properties')).not.toContain('rts-endpoint-clinic-s');
    expect(artemisFile('artemis-users.properties')).toMatch(/^clinic-s = /m);
    ok('region', 'resume', 'clinic-s', '--dir', south);
    expect(artemisFile('artemis-roles.properties')).toMatch(/^rts-endpoint-clinic-s = clinic-s$/m);
    const sync = rts('region', 'sync-broker', '--dir', south);
    expect(sync.status).not.toBe(0);
    expect(sync.stderr).toMatch(
      /^rts: [\w-]+: sync-broker speaks RabbitMQ's management API; this region runs ActiveMQ Artemis\./,
    );
    const removed = ok('region', 'remove', 'clinic-s', '--dir', south);
    expect(removed).toContain('bin/artemis queue delete --name rts.downlink.clinic-s');
    expect(artemisFile('artemis-users.properties')).not.toContain('clinic-s');
  }, 60_000);
});
