import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../shared/api/channels.ts';
import type { DirectoryState, SetupState } from '../../../shared/api/contract.ts';
import { createWorkstationCore, type WorkstationCore } from '../workstation-core.ts';
import { forkDemoRegion, joinDemoRegion, type DemoRegionProcess } from './demo-region-process.ts';
import { createMemoryVault } from '../vault/memory-vault.ts';

const DEMO_MAIN = join(import.meta.dirname, '..', '..', '..', 'demo', 'main.ts');

describe('the desktop app joining the demo region', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rts-demo-app-'));
  let region: DemoRegionProcess | undefined;
  let core: WorkstationCore | undefined;
  afterAll(async () => {
    await core?.stop();
    await region?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forks the region, sets the core up from what it hands over, labels it demo, and stops it with the app', async () => {
    region = await forkDemoRegion({ node: process.execPath, script: DEMO_MAIN, dataDir: join(dir, 'region'), applicantEverySeconds: 0 });
    expect(region.access).toMatchObject({ type: 'demo-region-ready', endpointId: 'ws-demo', vhost: 'rts' });
    core = createWorkstationCore({ productName: 'RTS Workstation', version: 'test', vault: createMemoryVault(), dataDir: join(dir, 'app') });
    await core.start();
    await joinDemoRegion(core, region.access);
    const ask = async <T>(command: typeof COMMANDS.getSetupState | typeof COMMANDS.getDirectoryState): Promise<T> => {
      const result = await core!.dispatch(command, undefined);
      if (!result.ok) throw new Error(result.error.message);
      return result.value as T;
    };
    const joined = async () => {
      const deadline = Date.now() + 60_000;
      let state: { registration: string; experts: number; demo: boolean } | undefined;
      while (Date.now() < deadline) {
        const setup = await ask<SetupState>(COMMANDS.getSetupState);
        const directory = await ask<DirectoryState>(COMMANDS.getDirectoryState);
        state = { registration: setup.registration.state, experts: directory.experts, demo: setup.profile?.demo === true };
        if (state.registration === 'accepted' && state.experts >= 60) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(state).toMatchObject({ registration: 'accepted', demo: true });
      expect(state!.experts).toBeGreaterThanOrEqual(60);
    };
    await joined();
    await region.stop();
    const after = await core.dispatch(COMMANDS.getConnectionState, undefined);
    // The region went with its process: the workstation now says it cannot reach it.
    await expect.poll(async () => ((await core!.dispatch(COMMANDS.getConnectionState, undefined)) as { value?: { status: string } }).value?.status, { timeout: 20_000 }).not.toBe('online');
    expect(after.ok).toBe(true);

    // The next start of the app brings a fresh demo region (new PKI, new broker port): the workstation joins it again.
    region = await forkDemoRegion({ node: process.execPath, script: DEMO_MAIN, dataDir: join(dir, 'region'), applicantEverySeconds: 0 });
    await joinDemoRegion(core, region.access);
    await joined();
  }, 180_000);
});
