import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, type DirectoryState, type RegionState, type SetupState } from '../../shared/api/index.ts';
import { forkDemoRegion, type DemoRegionProcess } from './demo/demo-region-process.ts';
import { createMemoryVault } from './vault/memory-vault.ts';
import type { WorkstationCore } from './workstation-core.ts';
import { createWorkstationHost } from './workstation-host.ts';

const DEMO_MAIN = join(import.meta.dirname, '..', '..', 'demo', 'main.ts');

const portAccepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe("the workstation host: the demo region and the user's own region", () => {
  const dir = mkdtempSync(join(tmpdir(), 'rts-host-'));
  // One keychain per region, kept across app starts like the OS keychain.
  const vaults = { own: createMemoryVault(), demo: createMemoryVault() };
  const forked: DemoRegionProcess[] = [];
  const openHost = () =>
    createWorkstationHost({
      productName: 'RTS Workstation',
      version: 'test',
      dataDir: join(dir, 'app'),
      vault: (region) => vaults[region],
      openDemoRegion: async () => {
        const region = await forkDemoRegion({
          node: process.execPath,
          script: DEMO_MAIN,
          dataDir: join(dir, 'region'),
          applicantEverySeconds: 0,
        });
        forked.push(region);
        return region;
      },
    });
  let host: WorkstationCore | undefined;
  afterAll(async () => {
    await host?.stop();
    await Promise.all(forked.map((region) => region.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = async <T>(command: string, input?: unknown): Promise<T> => {
    const result = await host!.dispatch(command, input);
    if (!result.ok) throw new Error(result.error.message);
    return result.value as T;
  };
  const joinedDemo = async () => {
    const deadline = Date.now() + 60_000;
    let state: { registration: string; experts: number; demo: boolean } | undefined;
    while (Date.now() < deadline) {
      const setup = await ask<SetupState>(COMMANDS.getSetupState);
      const directory = await ask<DirectoryState>(COMMANDS.getDirectoryState);
      state = {
        registration: setup.registration.state,
        experts: directory.experts,
        demo: setup.profile?.demo === true,
      };
      if (state.registration === 'accepted' && state.experts >= 60) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(state).toMatchObject({ registration: 'accepted', demo: true });
    expect(state!.experts).toBeGreaterThanOrEqual(60);
  };

  it('opens on the demo region when no region of its own is set up, and keeps it apart from the own region', async () => {
    host = openHost();
    const regionEvents: RegionState[] = [];
    host.onEvent((event, payload) => {
      if (event === 'region:changed') regionEvents.push(payload as RegionState);
    });
    await host.start();
    expect(await ask<RegionState>(COMMANDS.getRegionState)).toEqual({
      active: 'demo',
      demoAvailable: true,
      switching: false,
    });
    await joinedDemo();
    // The demo practitioner's keys went to the demo keychain only.
    expect([...vaults.demo.secrets.keys()].some((account) => account.startsWith('private-key:signing:'))).toBe(true);
    expect(vaults.own.secrets.size).toBe(0);

    const demoPort = forked[0]!.access.amqpPort;
    expect(await ask<RegionState>(COMMANDS.switchRegion, { to: 'own' })).toMatchObject({
      active: 'own',
      switching: false,
    });
    expect(regionEvents.map((e) => [e.active, e.switching])).toEqual([
      ['demo', true],
      ['demo', false],
      ['own', true],
      ['own', false],
    ]);
    // The own region is not set up: none of the demo region's profile, identity or directory shows there.
    const own = await ask<SetupState>(COMMANDS.getSetupState);
    expect(own.profile).toBeUndefined();
    expect(own.identity?.ready).toBe(false);
    expect((await ask<DirectoryState>(COMMANDS.getDirectoryState)).experts).toBe(0);
    // The demo region went with the switch.
    expect(await portAccepts(demoPort)).toBe(false);
    await host.stop();

    // The next start remembers the choice: the own region, and no demo region started.
    host = openHost();
    await host.start();
    expect(await ask<RegionState>(COMMANDS.getRegionState)).toMatchObject({ active: 'own' });
    expect(forked).toHaveLength(1);

    // Back to the demo region: a fresh one (new PKI, new broker port), joined again in its own workspace.
    expect(await ask<RegionState>(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({ active: 'demo' });
    expect(forked).toHaveLength(2);
    await joinedDemo();
    await host.stop();
    expect(await portAccepts(forked[1]!.access.amqpPort)).toBe(false);
  }, 240_000);

  it('keeps the own region locked after a switch to the demo region and back', async () => {
    const lockDir = join(dir, 'lock');
    const lockVaults = { own: createMemoryVault(), demo: createMemoryVault() };
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(join(lockDir, 'region.json'), JSON.stringify({ active: 'own' }));
    const locking = createWorkstationHost({
      productName: 'RTS Workstation',
      version: 'test',
      dataDir: lockDir,
      vault: (region) => lockVaults[region],
      openDemoRegion: async () => {
        const region = await forkDemoRegion({
          node: process.execPath,
          script: DEMO_MAIN,
          dataDir: join(dir, 'lock-region'),
          applicantEverySeconds: 0,
        });
        forked.push(region);
        return region;
      },
    });
    await locking.start();
    try {
      expect(await locking.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' })).toEqual({
        ok: true,
        value: { locked: false },
      });
      expect(await locking.dispatch(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({
        ok: true,
        value: { active: 'demo' },
      });
      // The demo region's workspace has no passphrase of its own: it opens unlocked, with invented data only.
      expect(await locking.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
        ok: true,
        value: { locked: false, hasLockPassphrase: false },
      });
      expect(await locking.dispatch(COMMANDS.switchRegion, { to: 'own' })).toMatchObject({
        ok: true,
        value: { active: 'own' },
      });
      expect(await locking.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
        ok: true,
        value: { locked: true, hasLockPassphrase: true },
      });
      expect(await locking.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
      expect(await locking.dispatch(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({
        ok: false,
        error: { code: 'locked' },
      });
    } finally {
      await locking.stop();
    }
  }, 120_000);

  it('returns to the own region when the demo region fails to start, and says why until the next switch', async () => {
    const failing = createWorkstationHost({
      productName: 'RTS Workstation',
      version: 'test',
      dataDir: join(dir, 'failing'),
      vault: () => createMemoryVault(),
      openDemoRegion: () => Promise.reject(new Error('the demo region stopped (exit 1) before it was ready')),
    });
    // A first start with nothing set up tries the demo region.
    await failing.start();
    try {
      const message = 'The demo region could not be opened: the demo region stopped (exit 1) before it was ready';
      const problem = { code: 'internal', reason: 'region-not-opened', params: { region: 'demo' }, message };
      expect(await failing.dispatch(COMMANDS.getRegionState, undefined)).toEqual({
        ok: true,
        value: { active: 'own', demoAvailable: true, switching: false, problem: { ...problem, retryable: true } },
      });
      expect(await failing.dispatch(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({
        ok: false,
        error: { ...problem, retryable: true },
      });
      expect(await failing.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
        ok: true,
        value: { hasBrokerPassword: false },
      });
      expect(await failing.dispatch(COMMANDS.switchRegion, { to: 'own' })).toEqual({
        ok: true,
        value: { active: 'own', demoAvailable: true, switching: false },
      });
    } finally {
      await failing.stop();
    }
  });

  it('refuses the demo region where it cannot run, and stays on the own region', async () => {
    const packaged = createWorkstationHost({
      productName: 'RTS Workstation',
      version: 'test',
      dataDir: join(dir, 'packaged'),
      vault: () => createMemoryVault(),
    });
    await packaged.start();
    try {
      expect(await packaged.dispatch(COMMANDS.getRegionState, undefined)).toEqual({
        ok: true,
        value: { active: 'own', demoAvailable: false, switching: false },
      });
      const refused = await packaged.dispatch(COMMANDS.switchRegion, { to: 'demo' });
      expect(refused).toMatchObject({
        ok: false,
        error: { message: expect.stringContaining('cannot run the demo region') },
      });
      expect(await packaged.dispatch(COMMANDS.getRegionState, undefined)).toMatchObject({
        ok: true,
        value: { active: 'own', switching: false },
      });
    } finally {
      await packaged.stop();
    }
  });
});
