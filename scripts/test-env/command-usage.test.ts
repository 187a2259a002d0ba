import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The commands people run by hand answer --help with their usage and a wrong option with one line and the usage,
// never a stack trace (both used to crash in parseArgs).
const COMMANDS = [
  {
    name: 'npm run broker',
    script: 'scripts/test-env/rabbitmq.ts',
    usage: /^usage: npm run broker -- COMMAND --state FILE/m,
    mention: /rabbitmqctl/,
  },
  {
    name: 'npm run artemis',
    script: 'scripts/test-env/artemis.ts',
    usage: /^usage: npm run artemis -- COMMAND --state FILE/m,
    mention: /Maven Central/,
  },
  { name: 'npm run demo', script: 'demo/main.ts', usage: /^usage: npm run demo -- --headless/m, mention: /--check/ },
];

function run(script: string, ...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 15_000 });
}

describe.each(COMMANDS)('$name', ({ script, usage, mention }) => {
  it('prints its usage for --help and exits 0', () => {
    const result = run(script, '--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(usage);
    expect(result.stdout).toMatch(mention);
  });

  it('names an unknown option, prints the usage and exits 2 without a stack trace', () => {
    const result = run(script, '--no-such-option');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--no-such-option'/);
    expect(result.stderr).toMatch(usage);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
