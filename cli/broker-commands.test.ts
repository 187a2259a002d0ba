import { spawnSync } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rabbitPasswordHash } from '../hub/index.ts';

const CLI = join(import.meta.dirname, 'rts.ts');
const root = mkdtempSync(join(tmpdir(), 'rts-broker-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rts = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: root });

interface Definitions {
  users: { name: string; password_hash: string }[];
  permissions: { user: string; write: string; read: string }[];
  queues: { name: string }[];
}

describe('rts broker definitions', () => {
  it('writes the topology with one user per endpoint, hashes only, and their passwords apart (0600)', () => {
    const result = rts(
      'broker',
      'definitions',
      '--endpoint',
      'clinic-a',
      'ws-1',
      '--out',
      'defs.json',
      '--secrets-out',
      'secrets.json',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const definitions = JSON.parse(readFileSync(join(root, 'defs.json'), 'utf8')) as Definitions;
    const secrets = JSON.parse(readFileSync(join(root, 'secrets.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual(['clinic-a', 'rts-admin', 'rts-hub', 'ws-1']);
    expect(statSync(join(root, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, 'defs.json'), 'utf8')).not.toContain(secrets['ws-1']!);
    for (const user of definitions.users) {
      // The hash is RabbitMQ's salted SHA-256 of exactly the password written to the secrets file.
      const salt = Buffer.from(user.password_hash, 'base64').subarray(0, 4);
      expect(rabbitPasswordHash(secrets[user.name]!, salt)).toBe(user.password_hash);
    }
    expect(definitions.permissions.find((p) => p.user === 'ws-1')).toMatchObject({ read: '^rts\\.downlink\\.ws-1$' });
    expect(definitions.queues.map((q) => q.name)).toContain('rts.downlink.clinic-a');
  });

  it('refuses a bad endpoint id and an existing file without --force', () => {
    const bad = rts('broker', 'definitions', '--endpoint', 'Clinic A', '--out', 'x.json', '--secrets-out', 'y.json');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^rts: .*not an endpoint id: Clinic A/);
    const again = rts(
      'broker',
      'definitions',
      '--endpoint',
      'clinic-a',
      '--out',
      'defs.json',
      '--secrets-out',
      'other.json',
    );
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/defs\.json exists/);
  });

  it('writes the Artemis topology as broker.xml elements and login files, hashes only, for --kind artemis', () => {
    const result = rts(
      'broker',
      'definitions',
      '--kind',
      'artemis',
      '--endpoint',
      'clinic-a',
      '--out',
      'artemis',
      '--secrets-out',
      'artemis-secrets.json',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const secrets = JSON.parse(readFileSync(join(root, 'artemis-secrets.json'), 'utf8')) as Record<string, string>;
    const users = readFileSync(join(root, 'artemis', 'artemis-users.properties'), 'utf8');
    expect(statSync(join(root, 'artemis', 'artemis-users.properties')).mode & 0o777).toBe(0o600);
    for (const [name, password] of Object.entries(secrets)) {
      const [, salt, hash] = new RegExp(`^${name} = ENC\\(1024:([0-9A-F]+):([0-9A-F]+)\\)$`, 'm').exec(users)!;
      expect(pbkdf2Sync(password, Buffer.from(salt!, 'hex'), 1024, 64, 'sha1').toString('hex').toUpperCase()).toBe(
        hash,
      );
      expect(users).not.toContain(password);
    }
    expect(readFileSync(join(root, 'artemis', 'artemis-roles.properties'), 'utf8')).toContain(
      'rts-endpoint-clinic-a = clinic-a',
    );
    expect(readFileSync(join(root, 'artemis', 'rts-topology.xml'), 'utf8')).toContain(
      '<divert name="rts.uplink.clinic-a">',
    );
    const badKind = rts(
      'broker',
      'definitions',
      '--kind',
      'qpid',
      '--endpoint',
      'c',
      '--out',
      'q',
      '--secrets-out',
      'q.json',
    );
    expect(badKind.status).toBe(2);
    expect(badKind.stderr).toMatch(/--kind must be rabbitmq or artemis/);
  });
});
