import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, EVENTS } from '../../shared/api/index.ts';
import type { LogFields, Logger } from '../../shared/index.ts';
import { createWorkstationCore } from './workstation-core.ts';
import { VaultUnavailableError, type SecretVault } from './vault/secret-vault.ts';
import { createMemoryVault } from './vault/memory-vault.ts';

const broker = { hosts: [{ host: '127.0.0.1', port: 1 }], vhost: 'rts', endpointId: 'ws-1' };
const emptyVault = createMemoryVault();
const noKeychain: SecretVault = {
  get: async () => {
    throw new VaultUnavailableError('The OS keychain is not available: no bus', 'Start a D-Bus session.');
  },
  set: async () => undefined,
  delete: async () => false,
};

const dataDir = () => mkdtempSync(join(tmpdir(), 'rts-core-unit-'));

describe('workstation core', () => {
  it('answers app info and says when no region is configured', async () => {
    const core = createWorkstationCore({
      productName: 'RTS Workstation',
      version: '9.9.9',
      vault: emptyVault,
      dataDir: dataDir(),
    });
    await core.start();
    expect(await core.dispatch(COMMANDS.getAppInfo, undefined)).toEqual({
      ok: true,
      value: { productName: 'RTS Workstation', version: '9.9.9' },
    });
    expect(await core.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({
      ok: true,
      value: { status: 'not-configured' },
    });
  });

  it('reports an unavailable keychain as the offline reason, with its remedy, instead of failing to start', async () => {
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: noKeychain,
      broker,
      dataDir: dataDir(),
    });
    const events: unknown[] = [];
    core.onEvent((event, payload) => events.push([event, payload]));
    await core.start();
    const expected = { status: 'offline', reason: 'The OS keychain is not available: no bus. Start a D-Bus session.' };
    expect(await core.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({ ok: true, value: expected });
    expect(events).toEqual([
      [EVENTS.connectionStateChanged, expect.objectContaining(expected)],
      [
        EVENTS.setupChanged,
        expect.objectContaining({
          storeProblem: {
            code: 'keychain-unavailable',
            reason: 'keychain-unavailable',
            message: expected.reason,
            retryable: true,
          },
        }),
      ],
    ]);
  });

  it('logs its start, why it stays offline and its stop to options.logger, as codes and ids', async () => {
    const lines: unknown[] = [];
    const at = (level: string) => (code: string, fields?: LogFields) => void lines.push([level, code, fields]);
    const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error') };
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: createMemoryVault(),
      broker,
      dataDir: dataDir(),
      logger,
    });
    await core.start();
    // The reason reaches the page as a code with its values, worded there in the user's language.
    expect(await core.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({
      ok: true,
      value: {
        status: 'offline',
        problem: { code: 'not-configured', reason: 'broker-password-missing', params: { endpointId: 'ws-1' } },
      },
    });
    await core.stop();
    expect(lines).toEqual([
      ['info', 'core.started', { version: '1' }],
      ['warn', 'core.link-refused', { endpointId: 'ws-1', reason: 'no-broker-password' }],
      ['info', 'core.stopped', undefined],
    ]);

    lines.length = 0;
    const keychainless = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: noKeychain,
      broker,
      dataDir: dataDir(),
      logger,
    });
    await keychainless.start();
    expect(lines).toEqual([['error', 'core.store-unavailable', { error: 'keychain-unavailable' }]]);
    expect(await keychainless.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({
      ok: true,
      value: { status: 'offline', problem: { code: 'keychain-unavailable' } },
    });
  });

  it('refuses to start with an endpoint id that is not valid', async () => {
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: emptyVault,
      broker: { ...broker, endpointId: 'Bad Id' },
      dataDir: dataDir(),
    });
    await expect(core.start()).rejects.toThrow(/invalid endpoint id/);
  });

  it('locks on request only with a passphrase set, refuses patient data while locked, and unlocks with the passphrase', async () => {
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: createMemoryVault(),
      dataDir: dataDir(),
    });
    await core.start();
    const events: unknown[] = [];
    core.onEvent((event, payload) => events.push([event, payload]));
    expect(await core.dispatch(COMMANDS.lock, undefined)).toMatchObject({
      ok: false,
      error: { code: 'not-configured' },
    });
    expect(await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'short' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect(await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });
    expect(await core.dispatch(COMMANDS.lock, undefined)).toEqual({ ok: true, value: { locked: true } });
    expect(await core.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await core.dispatch(COMMANDS.searchDirectory, { text: 'card' })).toMatchObject({
      ok: false,
      error: { code: 'locked' },
    });
    expect(await core.dispatch(COMMANDS.unlock, { passphrase: 'wrong horse' })).toMatchObject({
      ok: false,
      error: { code: 'not-allowed' },
    });
    expect(await core.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });
    expect(await core.dispatch(COMMANDS.listCases, {})).toEqual({ ok: true, value: [] });
    // The search's filters and paging are checked by the contract before the mirror is asked.
    expect(
      await core.dispatch(COMMANDS.searchDirectory, { text: '', specialty: 'Cardiology', language: 'nb', offset: 50 }),
    ).toEqual({ ok: true, value: { experts: [], more: false } });
    expect(await core.dispatch(COMMANDS.searchDirectory, { text: '', language: 'x'.repeat(36) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('language') },
    });
    expect(await core.dispatch(COMMANDS.searchDirectory, { text: '', offset: -1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('offset') },
    });
    expect(
      await core.dispatch(COMMANDS.searchDirectory, { text: '', organization: 'clinic-a.nordby', region: 'Vestland' }),
    ).toEqual({ ok: true, value: { experts: [], more: false } });
    expect(await core.dispatch(COMMANDS.searchDirectory, { text: '', region: 'x'.repeat(201) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', message: expect.stringContaining('region') },
    });
    // An empty directory offers no choices.
    expect(await core.dispatch(COMMANDS.directoryFacets, undefined)).toEqual({
      ok: true,
      value: { specialties: [], languages: [], hospitals: [], regions: [] },
    });
    expect(events).toEqual([
      [EVENTS.setupChanged, expect.objectContaining({ hasLockPassphrase: true, locked: false })],
      [EVENTS.lockChanged, { locked: true }],
      [EVENTS.lockChanged, { locked: false }],
    ]);
    // Changing the passphrase needs the current one.
    expect(await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'another passphrase' })).toMatchObject({
      ok: false,
      error: { code: 'not-allowed' },
    });
    expect(await core.dispatch(COMMANDS.checkAuditLog, undefined)).toMatchObject({
      ok: true,
      value: { ok: true, entries: 2 },
    });
    await core.stop();
  });

  it('opens locked after a restart when a passphrase is set, even if it was unlocked when it stopped', async () => {
    const dir = dataDir();
    const vault = createMemoryVault();
    const first = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await first.start();
    await first.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    expect(await first.dispatch(COMMANDS.listCases, {})).toEqual({ ok: true, value: [] });
    await first.stop();

    const restarted = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    // Locked before it has even started: the renderer's first question already gets the lock screen.
    expect(await restarted.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { locked: true, hasLockPassphrase: true },
    });
    await restarted.start();
    expect(await restarted.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await restarted.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });
    expect(await restarted.dispatch(COMMANDS.listCases, {})).toEqual({ ok: true, value: [] });
    await restarted.stop();
  });

  it('keeps a draft in the encrypted store across a restart, refuses it while locked, and forgets it when discarded', async () => {
    const dir = dataDir();
    const vault = createMemoryVault();
    const first = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await first.start();
    expect(await first.dispatch(COMMANDS.getDraft, { key: 'compose' })).toEqual({ ok: true, value: {} });
    const saved = await first.dispatch(COMMANDS.saveDraft, { key: 'compose', body: '{"family":"Nordmann"}' });
    expect(saved).toMatchObject({ ok: true, value: { savedAt: expect.any(String) } });
    // Only the drafts the renderer has: no key of its own choosing (a path, another table).
    expect(await first.dispatch(COMMANDS.saveDraft, { key: '../compose', body: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    await first.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    await first.stop();

    const restarted = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await restarted.start();
    expect(await restarted.dispatch(COMMANDS.getDraft, { key: 'compose' })).toMatchObject({
      ok: false,
      error: { code: 'locked' },
    });
    // Written while locked (the last words before the lock), read only once unlocked.
    expect(
      await restarted.dispatch(COMMANDS.saveDraft, { key: 'report:3b8f0d2e-8f0a-4c1e-a6b1-0c2d3e4f5a6b', body: '{}' }),
    ).toMatchObject({
      ok: true,
    });
    await restarted.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' });
    expect(await restarted.dispatch(COMMANDS.getDraft, { key: 'compose' })).toEqual({
      ok: true,
      value: { body: '{"family":"Nordmann"}', savedAt: (saved as { value: { savedAt: string } }).value.savedAt },
    });
    expect(await restarted.dispatch(COMMANDS.discardDraft, { key: 'compose' })).toEqual({
      ok: true,
      value: { discarded: true },
    });
    expect(await restarted.dispatch(COMMANDS.getDraft, { key: 'compose' })).toEqual({ ok: true, value: {} });
    await restarted.stop();
  });

  it('locks with the keychain unavailable, on any keychain failure, and restarts locked without it', async () => {
    const dir = dataDir();
    const vault = createMemoryVault();
    const core = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir, broker });
    await core.start();
    await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    vault.unavailable = true;
    expect(await core.dispatch(COMMANDS.lock, undefined)).toEqual({ ok: true, value: { locked: true } });
    expect(await core.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { locked: true, hasLockPassphrase: true },
    });
    expect(await core.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' })).toMatchObject({
      ok: false,
      error: { code: 'keychain-unavailable', retryable: true },
    });
    vault.unavailable = false;
    expect(await core.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' })).toEqual({
      ok: true,
      value: { locked: false },
    });

    // A keychain that fails under a running workstation (the set-up asks it for the broker password) locks it.
    vault.unavailable = true;
    await core.dispatch(COMMANDS.getSetupState, undefined);
    expect(await core.dispatch(COMMANDS.listCases, {})).toMatchObject({ ok: false, error: { code: 'locked' } });
    await core.stop();

    const restarted = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await restarted.start();
    expect(await restarted.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { locked: true },
    });
    await restarted.stop();
  });

  it('emits nothing after stop(), whatever still calls in, and is not started again', async () => {
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: createMemoryVault(),
      dataDir: dataDir(),
    });
    await core.start();
    await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    const events: unknown[] = [];
    core.onEvent((event, payload) => events.push([event, payload]));
    expect(await core.dispatch(COMMANDS.setUiPreferences, { theme: 'dark' })).toMatchObject({ ok: true });
    expect(events).toEqual([
      [EVENTS.setupChanged, expect.objectContaining({ ui: expect.objectContaining({ theme: 'dark' }) })],
    ]);
    await core.stop();
    // Commands that need no store still answer, and would emit: the set-up and the lock change.
    expect(await core.dispatch(COMMANDS.setUiPreferences, { theme: 'light' })).toMatchObject({ ok: true });
    expect(await core.dispatch(COMMANDS.lock, undefined)).toEqual({ ok: true, value: { locked: true } });
    expect(events).toHaveLength(1);
    await expect(core.start()).rejects.toThrow('was stopped');
  });

  it('signs a report only with the lock passphrase entered again, refusing with a code the screen can ask on', async () => {
    const core = createWorkstationCore({
      productName: 'RTS',
      version: '1',
      vault: createMemoryVault(),
      dataDir: dataDir(),
    });
    await core.start();
    const report = { caseId: '0b5e2d7c-4a57-4a4e-9d59-4c1f1b0b2a11', conclusion: 'Give tenecteplase now.' };
    // Without a passphrase the report goes to the case (which is not here).
    expect(await core.dispatch(COMMANDS.sendReport, report)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    expect(await core.dispatch(COMMANDS.sendReport, report)).toMatchObject({
      ok: false,
      error: { code: 'passphrase-required' },
    });
    expect(await core.dispatch(COMMANDS.sendReport, { ...report, passphrase: 'not mine at all' })).toMatchObject({
      ok: false,
      error: { code: 'not-allowed' },
    });
    expect(await core.dispatch(COMMANDS.sendReport, { ...report, passphrase: 'correct horse battery' })).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    await core.stop();
  });

  it('with the lock required by policy, refuses patient data and set-up until a passphrase is set, and keeps the policy', async () => {
    const dir = dataDir();
    const vault = createMemoryVault();
    const core = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await core.start();
    expect(await core.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { hasLockPassphrase: false },
    });
    expect(await core.dispatch(COMMANDS.setLockPolicy, { policy: 'required' })).toMatchObject({
      ok: true,
      value: { lockPolicy: 'required' },
    });
    expect(await core.dispatch(COMMANDS.listCases, {})).toMatchObject({
      ok: false,
      error: { code: 'not-configured', message: expect.stringContaining('lock policy') },
    });
    expect(await core.dispatch(COMMANDS.setTrust, { anchorsPem: 'x', hubCertificatePem: 'y' })).toMatchObject({
      ok: false,
      error: { code: 'not-configured', message: expect.stringContaining('lock policy') },
    });
    await core.dispatch(COMMANDS.setLockPassphrase, { passphrase: 'correct horse battery' });
    expect(await core.dispatch(COMMANDS.listCases, {})).toEqual({ ok: true, value: [] });
    // Making it optional again needs the passphrase.
    expect(await core.dispatch(COMMANDS.setLockPolicy, { policy: 'optional' })).toMatchObject({
      ok: false,
      error: { code: 'passphrase-required' },
    });
    await core.stop();
    const restarted = createWorkstationCore({ productName: 'RTS', version: '1', vault, dataDir: dir });
    await restarted.start();
    expect(await restarted.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { lockPolicy: 'required', locked: true },
    });
    await restarted.dispatch(COMMANDS.unlock, { passphrase: 'correct horse battery' });
    expect(
      await restarted.dispatch(COMMANDS.setLockPolicy, { policy: 'optional', current: 'correct horse battery' }),
    ).toMatchObject({ ok: true, value: { lockPolicy: 'optional' } });
    await restarted.stop();
  });
});
