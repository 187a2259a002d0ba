import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../shared/api/index.ts';
import { createMemoryVault } from './vault/memory-vault.ts';
import { createWorkstationHost } from './workstation-host.ts';

describe('the workstation host and the app lock', () => {
  it('keeps the own region locked across a region switch (a new core) and a restart, and refuses to switch while locked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rts-host-lock-'));
    const vault = createMemoryVault();
    // A demo region that cannot start: each switch to it closes the own region's core and opens a new one.
    const open = () =>
      createWorkstationHost({
        productName: 'RTS',
        version: '1',
        dataDir,
        vault: () => vault,
        openDemoRegion: () => Promise.reject(new Error('no demo region here')),
      });
    let host = open();
    await host.start();
    expect(await host.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });
    expect(await host.dispatch(COMMANDS.listCases, {})).toEqual({ ok: true, value: [] });

    expect(await host.dispatch(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('no demo region here') },
    });
    expect(await host.dispatch(COMMANDS.getRegionState, undefined)).toMatchObject({
      ok: true,
      value: { active: 'own' },
    });
    expect(await host.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({ ok: true, value: { locked: true } });
    expect(await host.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await host.dispatch(COMMANDS.switchRegion, { to: 'demo' })).toMatchObject({
      ok: false,
      error: { code: 'locked' },
    });

    expect(await host.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });
    await host.stop();
    host = open();
    await host.start();
    expect(await host.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    await host.stop();
  });
});
