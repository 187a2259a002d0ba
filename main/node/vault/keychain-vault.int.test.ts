import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncEntry } from '@napi-rs/keyring';
import keytar from 'keytar';
import { afterAll, describe, expect, it } from 'vitest';
import { openWorkstationSettings } from '../settings/workstation-settings.ts';
import { openWorkstationStore } from '../store/workstation-store.ts';
import { createKeychainVault } from './keychain-vault.ts';
import { KEYTAR_MOVED_ACCOUNT, KEYTAR_MOVING_SERVICE_SUFFIX } from './keytar-migration.ts';
import type { SecretVault } from './secret-vault.ts';
import { STORE_KEY_ACCOUNT } from './vault-accounts.ts';

const VAULT_MODULE = join(import.meta.dirname, 'keychain-vault.ts');
const scratch = mkdtempSync(join(tmpdir(), 'rts-keychain-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** How a workstation stored secrets before the switch: keytar's items. */
function keytarVault(service: string): SecretVault {
  return {
    get: async (account) => (await keytar.getPassword(service, account)) ?? undefined,
    set: (account, secret) => keytar.setPassword(service, account, secret),
    delete: (account) => keytar.deletePassword(service, account),
  };
}

/** The item @napi-rs/keyring itself reads for the account (null when it has none). */
const keyringItemEntry = (service: string, account: string) =>
  new AsyncEntry(service, account, { linux: { store: 'secret-service' } });
const keyringItem = (service: string, account: string) => keyringItemEntry(service, account).getPassword();

describe('keychain vault on the OS keychain', () => {
  it('stores, reads back and deletes a secret', async () => {
    const vault = createKeychainVault(`rts-test-${randomUUID()}`);
    const secret = `s3cret-${randomUUID()}`;
    expect(await vault.get('broker-password:clinic-a')).toBeUndefined();
    await vault.set('broker-password:clinic-a', secret);
    expect(await vault.get('broker-password:clinic-a')).toBe(secret);
    expect(await vault.delete('broker-password:clinic-a')).toBe(true);
    expect(await vault.get('broker-password:clinic-a')).toBeUndefined();
    expect(await vault.delete('broker-password:clinic-a')).toBe(false);
  });
});

describe('secrets stored by keytar before the switch', () => {
  it("opens the store of a workstation set up with keytar, and moves its store key out of keytar's item", async () => {
    const service = `rts-test-${randomUUID()}`;
    const dir = mkdtempSync(join(scratch, 'store-'));
    const before = await openWorkstationStore({
      dir,
      vault: keytarVault(service),
      settings: openWorkstationSettings(dir),
    });
    before.exec(
      "create table upgrade_check (note text); insert into upgrade_check values ('written before the switch')",
    );
    before.close();
    const storeKey = await keytar.getPassword(service, STORE_KEY_ACCOUNT);
    expect(storeKey).toEqual(expect.any(String));
    expect(await keyringItem(service, STORE_KEY_ACCOUNT)).toBeNull(); // the new backend cannot see keytar's item itself

    const after = await openWorkstationStore({
      dir,
      vault: createKeychainVault(service),
      settings: openWorkstationSettings(dir),
    });
    expect(after.prepare('select note from upgrade_check').get()).toEqual({ note: 'written before the switch' });
    after.close();
    expect(await keyringItem(service, STORE_KEY_ACCOUNT)).toBe(storeKey);
    expect(await keytar.getPassword(service, STORE_KEY_ACCOUNT)).toBeNull();
  });

  it('moves every keytar item at the first call, and then never asks keytar again', async () => {
    const service = `rts-test-${randomUUID()}`;
    await keytar.setPassword(service, 'broker-password:clinic-a', 'from keytar');
    await keytar.setPassword(service, 'lock-passphrase', 'hash from keytar');
    const vault = createKeychainVault(service);

    expect(await vault.get('audit-key')).toBeUndefined();
    for (const account of ['broker-password:clinic-a', 'lock-passphrase'])
      expect(await keytar.getPassword(service, account)).toBeNull();
    expect(await keyringItem(service + KEYTAR_MOVING_SERVICE_SUFFIX, 'accounts')).toBeNull();
    expect(await keyringItem(service, 'broker-password:clinic-a')).toBe('from keytar');
    expect(await vault.get('lock-passphrase')).toBe('hash from keytar');
    expect(await keyringItem(service, KEYTAR_MOVED_ACCOUNT)).toEqual(expect.any(String));

    // Only a release from before the switch could write this: the move is done and keytar is not read again.
    await keytar.setPassword(service, 'audit-key', 'late keytar item');
    expect(await createKeychainVault(service).get('audit-key')).toBeUndefined();
  });

  it('finishes a move cut short from its list of accounts, keeping a secret written since', async () => {
    const service = `rts-test-${randomUUID()}`;
    // Cut short after audit-key had moved: keytar still holds two of the listed accounts.
    await keyringItemEntry(service + KEYTAR_MOVING_SERVICE_SUFFIX, 'accounts').setPassword(
      JSON.stringify(['audit-key', 'broker-password:clinic-a', 'lock-passphrase']),
    );
    await keyringItemEntry(service, 'audit-key').setPassword('moved before the cut');
    await keytar.setPassword(service, 'broker-password:clinic-a', 'from keytar');
    await keytar.setPassword(service, 'lock-passphrase', 'hash from keytar');
    await keyringItemEntry(service, 'lock-passphrase').setPassword('written since the switch');

    const vault = createKeychainVault(service);
    expect(await vault.get('broker-password:clinic-a')).toBe('from keytar');
    expect(await vault.get('lock-passphrase')).toBe('written since the switch');
    expect(await vault.get('audit-key')).toBe('moved before the cut');
    for (const account of ['broker-password:clinic-a', 'lock-passphrase'])
      expect(await keytar.getPassword(service, account)).toBeNull();
    expect(await keyringItem(service + KEYTAR_MOVING_SERVICE_SUFFIX, 'accounts')).toBeNull();
  });

  it('finds nothing to move in a service made after the switch', async () => {
    const service = `rts-test-${randomUUID()}`;
    await createKeychainVault(service, { keytarItems: 'none' }).set('store-key', 'made after the switch');
    expect(await createKeychainVault(service).get('store-key')).toBe('made after the switch');
    expect(await keyringItem(service, KEYTAR_MOVED_ACCOUNT)).toEqual(expect.any(String));
  });
});

/**
 * Runs one vault operation in a child process under `wrapper` (a fresh D-Bus session, or none) and returns what it
 * threw. Each child gets its own XDG directories, so a keyring daemon it starts is its own and stopped afterwards.
 */
function vaultFailure(operation: 'get' | 'set', wrapper: (node: string[]) => string[]) {
  const runtime = mkdtempSync(join(scratch, 'xdg-'));
  const probe = `
    import { createKeychainVault } from ${JSON.stringify(VAULT_MODULE)};
    const vault = createKeychainVault('rts-probe');
    try { await (${JSON.stringify(operation)} === 'get' ? vault.get('x') : vault.set('x', 'y')); console.log(JSON.stringify({ ok: true })); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, hint: e.hint, message: e.message })); }`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: runtime };
  delete childEnv.DISPLAY;
  delete childEnv.DBUS_SESSION_BUS_ADDRESS;
  const [command, ...args] = wrapper([process.execPath, '--input-type=module', '-e', probe]);
  const result = spawnSync(command!, args, { env: childEnv, encoding: 'utf8', timeout: 30_000, cwd: runtime });
  stopKeyringDaemonsOf(runtime);
  // A child that died (keytar's search: SIGSEGV, status 139 through dbus-run-session) printed nothing.
  const last = result.stdout?.trim().split('\n').pop();
  return JSON.parse(
    last || JSON.stringify({ status: result.status, signal: result.signal, stderr: result.stderr }),
  ) as Record<string, unknown>;
}

/** gnome-keyring-daemon detaches from the session and can outlive it: stop the ones started for `runtime` only. */
function stopKeyringDaemonsOf(runtime: string) {
  spawnSync('bash', [
    '-c',
    `for pid in $(pgrep -x gnome-keyring-d); do
    tr '\\0' '\\n' < /proc/$pid/environ 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$1" && kill "$pid"; done; true`,
    'stop',
    runtime,
  ]);
}

const unavailable = (hint: RegExp) => ({
  name: 'VaultUnavailableError',
  code: 'keychain-unavailable',
  hint: expect.stringMatching(hint),
});

describe('a keyring daemon that restarts while the workstation runs', () => {
  it('goes on storing, reading and deleting once the restarted daemon answers (keytar is not asked any more)', () => {
    const runtime = mkdtempSync(join(scratch, 'xdg-'));
    // The session's own activation file, as scripts/with-test-env.sh writes: the restarted daemon is unlocked.
    const start = join(runtime, 'start-keyring.sh');
    writeFileSync(
      start,
      '#!/bin/sh\nprintf %s pw | exec gnome-keyring-daemon --unlock --foreground --components=secrets\n',
      {
        mode: 0o755,
      },
    );
    mkdirSync(join(runtime, 'dbus-1', 'services'), { recursive: true });
    writeFileSync(
      join(runtime, 'dbus-1', 'services', 'org.freedesktop.secrets.service'),
      `[D-BUS Service]\nName=org.freedesktop.secrets\nExec=${start}\n`,
    );
    const probe = `
      import { execSync } from 'node:child_process';
      import { readFileSync } from 'node:fs';
      import { createKeychainVault } from ${JSON.stringify(VAULT_MODULE)};
      const vault = createKeychainVault('rts-restart');
      await vault.set('broker-password:clinic-a', 'before');
      // This session's daemon, found by its runtime directory (others' tests run beside this one).
      const ours = execSync('pgrep -x gnome-keyring-d || true', { encoding: 'utf8' }).split(/\\s+/).filter(Boolean)
        .filter((pid) => readFileSync('/proc/' + pid + '/environ', 'latin1').split('\\0')
          .includes('XDG_RUNTIME_DIR=' + process.env.XDG_RUNTIME_DIR));
      for (const pid of ours) process.kill(Number(pid), 'SIGKILL');
      const answers = { killed: ours.length };
      try {
        await vault.set('broker-password:clinic-a', 'after');
        answers.read = await vault.get('broker-password:clinic-a');
        answers.deleted = await vault.delete('broker-password:clinic-a');
      } catch (e) { answers.error = e.message; }
      // First used after the restart: a service made since the switch works; one that may hold keytar's items cannot
      // be moved through the keytar of this process, and says so.
      const fresh = createKeychainVault('rts-restart-fresh', { keytarItems: 'none' });
      try {
        await fresh.set('lock-passphrase', 'fresh');
        answers.fresh = await fresh.get('lock-passphrase');
      } catch (e) { answers.fresh = e.message; }
      try { await createKeychainVault('rts-restart-older').get('store-key'); answers.older = 'answered'; }
      catch (e) { answers.older = e.reason; }
      console.log(JSON.stringify(answers));`;
    const childEnv: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: runtime };
    delete childEnv.DISPLAY;
    delete childEnv.DBUS_SESSION_BUS_ADDRESS;
    const session = `
      printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      for _ in $(seq 100); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
          org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true" && break
        sleep 0.05
      done
      exec "$@"`;
    const result = spawnSync(
      'dbus-run-session',
      ['--', 'bash', '-c', session, 'restart', process.execPath, '--input-type=module', '-e', probe],
      { env: childEnv, encoding: 'utf8', timeout: 30_000, cwd: runtime },
    );
    stopKeyringDaemonsOf(runtime);
    const answers = JSON.parse(result.stdout.trim().split('\n').pop() || JSON.stringify({ stderr: result.stderr }));
    expect(answers).toEqual({ killed: 1, read: 'after', deleted: true, fresh: 'fresh', older: 'keychain-restarted' });
  });
});

describe('keychain vault without a usable keychain', () => {
  it('fails with the D-Bus hint when no D-Bus session exists, instead of falling back to the kernel keyring', () => {
    expect(vaultFailure('set', (node) => node)).toMatchObject(unavailable(/No D-Bus session is running/));
  });

  it('fails with the Secret Service hint when the session has no Secret Service', () => {
    // A session bus that can start nothing: no org.freedesktop.secrets, as on a desktop without gnome-keyring or KWallet.
    const config = join(scratch, `bus-${randomUUID()}.conf`);
    writeFileSync(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
      "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
      <busconfig><type>session</type><listen>unix:tmpdir=${scratch}</listen><auth>EXTERNAL</auth>
      <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`,
    );
    expect(vaultFailure('get', (node) => ['dbus-run-session', `--config-file=${config}`, '--', ...node])).toMatchObject(
      unavailable(/No Secret Service is running/),
    );
  });

  it('fails with the default-keyring hint when the Secret Service has no keyring to store into', () => {
    // gnome-keyring started by D-Bus activation in a session where no login keyring was ever created.
    expect(vaultFailure('set', (node) => ['dbus-run-session', '--', ...node])).toMatchObject(
      unavailable(/no default keyring/),
    );
  });

  /**
   * A session whose login keyring is locked (no prompter can unlock it), after `seed` (a module, run by the same node)
   * has stored what it needs while the keyring was still open.
   */
  const lockedSession =
    (seed = '') =>
    (node: string[]) => [
      'dbus-run-session',
      '--',
      'bash',
      '-c',
      `
      printf %s pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      [ -z "$0" ] || "$1" --input-type=module -e "$0" || exit 1
      dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
      exec "$@"`,
      seed,
      ...node,
    ];

  it('fails with the locked-keyring hint when the login keyring is locked and nobody can unlock it', () => {
    expect(vaultFailure('set', lockedSession())).toMatchObject(unavailable(/login keyring is locked/));
  });

  it('says the keyring is locked, instead of crashing, when keytar holds items of the service in it', () => {
    // keytar's search dies (SIGSEGV) on the locked items whose secrets it cannot load: the vault must not reach it.
    const seed = `import keytar from ${JSON.stringify(createRequire(import.meta.url).resolve('keytar'))};
      await keytar.setPassword('rts-probe', 'store-key', 'from keytar');`;
    expect(vaultFailure('get', lockedSession(seed))).toMatchObject(unavailable(/login keyring is locked/));
  });
});
