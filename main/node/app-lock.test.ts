import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAppLock, FREE_ATTEMPTS, LOCK_STATE_FILE, unlockWaitMs } from './app-lock.ts';
import { createMemoryVault } from './vault/memory-vault.ts';
import { LOCK_PASSPHRASE_ACCOUNT } from './vault/vault-accounts.ts';

const PASSPHRASE = 'ward 7 night shift';
const dataDir = () => mkdtempSync(join(tmpdir(), 'rts-lock-'));

/** A lock with a passphrase set, its vault and directory, and a clock the test moves. */
async function withPassphrase() {
  const dir = dataDir();
  const vault = createMemoryVault();
  const clock = { now: 1_000_000 };
  const open = () => createAppLock({ vault, dataDir: dir, now: () => clock.now });
  const lock = open();
  await lock.restore();
  await lock.setPassphrase(PASSPHRASE);
  return { dir, vault, clock, open, lock };
}

describe('app lock', () => {
  it('opens unlocked with no passphrase, and refuses to lock what nobody could unlock', async () => {
    const lock = createAppLock({ vault: createMemoryVault(), dataDir: dataDir() });
    await lock.restore();
    expect(lock.hasPassphrase()).toBe(false);
    expect(lock.lock()).toBe(false);
    expect(lock.locked).toBe(false);
    await expect(lock.confirm(undefined)).resolves.toBeUndefined();
  });

  it('starts locked after a restart whenever a passphrase is set, even unlocked when it stopped', async () => {
    const { open, lock } = await withPassphrase();
    expect(lock.locked).toBe(false);
    const restarted = open();
    expect(restarted.locked).toBe(true);
    await restarted.unlock(PASSPHRASE);
    expect(restarted.locked).toBe(false);
    expect(open().locked).toBe(true);
  });

  it('starts locked with the keychain unavailable, and locks without it', async () => {
    const { vault, open, lock } = await withPassphrase();
    vault.unavailable = true;
    expect(lock.lock()).toBe(true);
    expect(lock.locked).toBe(true);
    const restarted = open();
    await restarted.restore();
    expect(restarted.locked).toBe(true);
    // Unlocking needs the keychain: it says so and stays locked.
    await expect(restarted.unlock(PASSPHRASE)).rejects.toMatchObject({ code: 'keychain-unavailable', retryable: true });
    expect(restarted.locked).toBe(true);
    vault.unavailable = false;
    await restarted.unlock(PASSPHRASE);
    expect(restarted.locked).toBe(false);
  });

  it('locks on any failure of the keychain it guards', async () => {
    const { vault, lock } = await withPassphrase();
    const guarded = lock.guard(vault);
    await expect(guarded.get('store-key')).resolves.toBeUndefined();
    expect(lock.locked).toBe(false);
    vault.unavailable = true;
    await expect(guarded.get('store-key')).rejects.toThrow(/not available/);
    expect(lock.locked).toBe(true);
  });

  it('locks a workstation whose passphrase an older version set (hash in the keychain, no lock file)', async () => {
    const { dir, vault } = await withPassphrase();
    writeFileSync(join(dir, LOCK_STATE_FILE), '');
    const damaged = createAppLock({ vault, dataDir: dir });
    expect(damaged.locked).toBe(true);
    const older = createAppLock({ vault, dataDir: dataDir() });
    expect(older.locked).toBe(false);
    await older.restore();
    expect(older.locked).toBe(true);
    expect(older.hasPassphrase()).toBe(true);
  });

  it('never opens when the keychain has lost the hash that the lock file says was set', async () => {
    const { vault, open } = await withPassphrase();
    vault.secrets.delete(LOCK_PASSPHRASE_ACCOUNT);
    const restarted = open();
    await restarted.restore();
    await expect(restarted.unlock('anything at all')).rejects.toMatchObject({ code: 'keychain-changed' });
    expect(restarted.locked).toBe(true);
  });

  it('makes wrong passphrases wait, doubling, and the wait survives a restart', async () => {
    const { dir, clock, open, lock } = await withPassphrase();
    lock.lock();
    for (let i = 1; i < FREE_ATTEMPTS; i++)
      await expect(lock.unlock('wrong passphrase')).rejects.toMatchObject({
        code: 'not-allowed',
        reason: 'passphrase-wrong',
        params: { left: FREE_ATTEMPTS - i },
      });
    await expect(lock.unlock('wrong passphrase')).rejects.toMatchObject({
      code: 'not-allowed',
      reason: 'passphrase-wrong-wait',
      params: { seconds: 30 },
      message: /Wait 30 seconds/,
    });
    // Even the right passphrase waits now, and so does a restarted app.
    await expect(lock.unlock(PASSPHRASE)).rejects.toMatchObject({
      code: 'too-many-attempts',
      reason: 'passphrase-wait',
      params: { seconds: 30 },
      retryable: true,
      message: /30 seconds/,
    });
    const restarted = open();
    await expect(restarted.unlock(PASSPHRASE)).rejects.toMatchObject({ code: 'too-many-attempts' });
    clock.now += 30_000;
    await expect(restarted.unlock('wrong again')).rejects.toMatchObject({
      code: 'not-allowed',
      message: /Wait 60 seconds/,
    });
    clock.now += 59_000;
    await expect(restarted.unlock(PASSPHRASE)).rejects.toMatchObject({
      code: 'too-many-attempts',
      message: /in 1 second\./,
    });
    clock.now += 1_000;
    await restarted.unlock(PASSPHRASE);
    expect(restarted.locked).toBe(false);
    // A success starts the count afresh.
    expect(JSON.parse(readFileSync(join(dir, LOCK_STATE_FILE), 'utf8'))).toMatchObject({ failures: 0, locked: false });
    expect(unlockWaitMs(FREE_ATTEMPTS + 20)).toBe(15 * 60_000);
  });

  it('takes attempts one at a time, so that attempts sent together cannot all pass before the wait', async () => {
    const { lock } = await withPassphrase();
    lock.lock();
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => lock.unlock('wrong passphrase')));
    const codes = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'unlocked'));
    expect(codes).toEqual([
      'not-allowed',
      'not-allowed',
      'not-allowed',
      'too-many-attempts',
      'too-many-attempts',
      'too-many-attempts',
    ]);
  });

  it('stays locked when its file cannot be written', async () => {
    const { dir, lock } = await withPassphrase();
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory');
    expect(() => lock.lock()).toThrow();
    expect(lock.locked).toBe(true);
  });

  it('counts an attempt before checking it: a process killed during the check has used it', async () => {
    const { dir, open, lock } = await withPassphrase();
    lock.lock();
    const attempt = lock.unlock('wrong passphrase');
    // The count is on disk before the hash is computed (scrypt takes tens of milliseconds).
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(readFileSync(join(dir, LOCK_STATE_FILE), 'utf8'))).toMatchObject({ failures: 1, locked: true });
    await expect(attempt).rejects.toMatchObject({ code: 'not-allowed' });
    expect(open().locked).toBe(true);
  });

  it('asks for the passphrase again before signing, counting wrong ones, and locks once the waits begin', async () => {
    const { lock } = await withPassphrase();
    await expect(lock.confirm(undefined)).rejects.toMatchObject({ code: 'passphrase-required' });
    await expect(lock.confirm('')).rejects.toMatchObject({ code: 'passphrase-required' });
    await expect(lock.confirm(PASSPHRASE)).resolves.toBeUndefined();
    for (let i = 0; i < FREE_ATTEMPTS; i++)
      await expect(lock.confirm('not mine')).rejects.toMatchObject({ code: 'not-allowed' });
    expect(lock.locked).toBe(true);
  });

  it('sets a first passphrase after a start without the keychain, once the keychain answers', async () => {
    const vault = createMemoryVault();
    vault.unavailable = true;
    const lock = createAppLock({ vault, dataDir: dataDir() });
    await lock.restore();
    await expect(lock.setPassphrase(PASSPHRASE)).rejects.toMatchObject({ code: 'keychain-unavailable' });
    vault.unavailable = false;
    await lock.setPassphrase(PASSPHRASE);
    expect(lock.hasPassphrase()).toBe(true);
  });

  it('changes the passphrase only with the current one, through the same count', async () => {
    const { lock } = await withPassphrase();
    await expect(lock.setPassphrase('a new passphrase')).rejects.toMatchObject({ code: 'not-allowed' });
    await expect(lock.setPassphrase('a new passphrase', 'wrong one')).rejects.toMatchObject({ code: 'not-allowed' });
    await lock.setPassphrase('a new passphrase', PASSPHRASE);
    lock.lock();
    await expect(lock.unlock(PASSPHRASE)).rejects.toMatchObject({ code: 'not-allowed' });
    await lock.unlock('a new passphrase');
  });
});
