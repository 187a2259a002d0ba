import { spawnSync } from 'node:child_process';
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
});
