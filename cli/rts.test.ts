import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, 'rts.ts');
const rts = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('rts, loading only the group of the command given', () => {
  it('lists every group in help, and each top-level command works with its group alone', () => {
    const help = rts('--help');
    expect(help.status).toBe(0);
    const commands = [...help.stdout.split('Commands:')[1]!.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!);
    expect(commands).toEqual([
      'pki',
      'cms',
      'inspect',
      'hub',
      'broker',
      'region',
      'workstation',
      'connector',
      'clinic',
      'help',
    ]);
    for (const command of commands.filter((c) => c !== 'help')) {
      const alone = rts(command, '--help');
      expect({ command, status: alone.status, stderr: alone.stderr }).toEqual({ command, status: 0, stderr: '' });
      expect(alone.stdout).toContain(`Usage: rts ${command}`);
    }
  });

  it('refuses an unknown command with the usage line', () => {
    const result = rts('nosuch');
    expect(result.status).toBe(2);
    expect(result.stderr).toBe("rts: usage: unknown command 'nosuch'\n");
  });
});
