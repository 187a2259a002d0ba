import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../shared/api/index.ts';
import type { WorkstationCore } from '../main/node/index.ts';
import { call, startDemoRegion, startDemoWorkstation, type DemoRegion } from './demo-region.ts';
import { TEST_PGLITE_TEMPLATES, until } from '../testkit/index.ts';

/**
 * The embedded demo region needs no external service: the demo broker, the real hub, the simulated peers, and the
 * user's workstation core, in this process; and the `demo --headless --check` command as a child process.
 */
describe('embedded demo region', () => {
  let dir: string;
  let region: DemoRegion;
  let user: WorkstationCore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rts-demo-region-'));
    region = await startDemoRegion({ dataDir: dir, expertDelayMs: 200, hubDatabaseTemplates: TEST_PGLITE_TEMPLATES });
    user = await startDemoWorkstation(join(dir, 'ws-demo'), region.user, {
      version: 'test',
      expectExperts: region.directorySize,
    });
  }, 120_000);

  afterAll(async () => {
    await user?.stop();
    await region?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a generated directory the user can search', async () => {
    expect(region.directorySize).toBeGreaterThanOrEqual(60);
    const state = await call(user, COMMANDS.getDirectoryState);
    expect(state).toMatchObject({ experts: region.directorySize, behind: false, refused: [] });
    const cardiology = await call(user, COMMANDS.searchDirectory, { text: 'cardiology' });
    expect(cardiology.experts.length).toBeGreaterThan(1);
    // Search across scripts: a Chinese hospital by a part from its middle, Bengali names by a prefix, å kept apart.
    const hospital = await call(user, COMMANDS.searchDirectory, { text: '人民医院' });
    expect(hospital.experts.length).toBeGreaterThan(0);
    expect(hospital.experts.every((e) => e.organization === '郑州市第一人民医院')).toBe(true);
    const dhaka = await call(user, COMMANDS.searchDirectory, { text: 'ঢাকা মেডি' });
    expect(dhaka.experts.length).toBeGreaterThan(0);
    expect(dhaka.experts.every((e) => e.organization === 'ঢাকা মেডিকেল কলেজ হাসপাতাল')).toBe(true);
    const aas = await call(user, COMMANDS.searchDirectory, { text: 'åsvik' });
    expect(aas.experts.length).toBeGreaterThan(0);
    expect((await call(user, COMMANDS.searchDirectory, { text: 'asvik' })).experts).toEqual([]);
    const expert = await call(user, COMMANDS.getExpert, { practitionerId: region.simulatedExpert.practitionerId });
    expect(expert).toMatchObject({ endpoints: [region.simulatedExpert.endpointId] });
    expect(expert.certificates.map((c) => `${c.use}:${c.state}`)).toEqual(['signing:valid', 'encryption:valid']);
  });

  it('carries a consult to the simulated expert and its signed report back, verified', async () => {
    const created = await call(user, COMMANDS.createConsult, {
      expertId: region.simulatedExpert.practitionerId,
      patient: { family: 'Testesen', given: ['Tove'], gender: 'female', birthDate: '1980-02-03' },
      priority: 'urgent',
      reason: 'Chest pain on exertion',
      question: 'Stress test?',
    });
    await until(
      async () =>
        (await call(user, COMMANDS.listCases, {})).find((c) => c.caseId === created.caseId)?.status === 'completed',
      'the report',
      60_000,
    );
    const view = await call(user, COMMANDS.openCase, { caseId: created.caseId });
    expect(view.report).toMatchObject({
      verified: true,
      signer: { subject: expect.stringContaining(`CN=${region.simulatedExpert.practitionerId}`) },
    });
    expect(view.report!.conclusion.length).toBeGreaterThan(0);
    expect(view.messages.map((m) => `${m.direction}:${m.status}:${m.state}`)).toEqual([
      'out:requested:processed',
      'in:accepted:verified',
      'in:completed:verified',
    ]);
  }, 90_000);

  it('runs `demo --headless --check` to a completed round trip, exit 0', async () => {
    const child = spawn(process.execPath, ['demo/main.ts', '--headless', '--check'], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toMatch(/^demo-check: ok$/m);
    expect(code, output).toBe(0);
    expect(output).not.toMatch(/password|BEGIN/i);
  }, 180_000);
});
