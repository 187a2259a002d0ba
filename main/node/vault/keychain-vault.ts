import type { ApiErrorReason } from '../../../shared/api/index.ts';
import { AsyncEntry, findCredentialsAsync, type EntryOptions } from '@napi-rs/keyring';
import { moveKeytarItems } from './keytar-migration.ts';
import { VaultUnavailableError, type SecretVault } from './secret-vault.ts';

export const DEFAULT_VAULT_SERVICE = 'rts-workstation';

/**
 * Linux: the Secret Service only. Left to choose, @napi-rs/keyring falls back to the kernel keyring (keyutils) when no
 * Secret Service answers, and that keyring does not outlive the login session: a store key put there is lost at the
 * next reboot. Ignored on macOS and Windows.
 */
const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

/**
 * Failures that mean "there is no usable keychain", as the Secret Service client reports them on Linux (no D-Bus
 * session, no Secret Service, no default keyring, locked collection with nobody to unlock it) and as macOS reports a
 * denied store. keytar's (libsecret's) wording is kept: it still answers while secrets move over.
 */
const UNAVAILABLE_PATTERNS: readonly { pattern: RegExp; hint: string; reason: ApiErrorReason }[] = [
  {
    pattern:
      /autolaunch D-Bus|dbus-daemon autolaunch|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect to socket/i,
    hint: 'No D-Bus session is running. Start the workstation from a desktop session, or run it under dbus-run-session.',
    reason: 'keychain-no-dbus',
  },
  {
    pattern:
      /org\.freedesktop\.secrets|was not provided by any \.service files|ServiceUnknown|Secret Service provider/i,
    hint: 'No Secret Service is running. Install and start gnome-keyring or KWallet (Secret Service API).',
    reason: 'keychain-no-secret-service',
  },
  {
    // The Secret Service has no default collection to create the item in (a keyring daemon that was never set up).
    pattern: /Secret Service: no result found/i,
    hint: 'The Secret Service has no default keyring. Log in to the desktop once, or create a "Login" keyring in Passwords and Keys and make it the default.',
    reason: 'keychain-no-default-keyring',
  },
  {
    pattern: /Cannot create an item in a locked collection|\blocked\b|dismissed/i,
    hint: 'The login keyring is locked. Unlock it (log in to the desktop, or unlock it in Passwords and Keys).',
    reason: 'keychain-locked',
  },
  {
    pattern: /User interaction is not allowed|errSecInteractionNotAllowed/i,
    hint: 'The macOS keychain refused access. Unlock the login keychain and allow RTS Workstation to use it.',
    reason: 'keychain-macos-refused',
  },
];

export function classifyVaultError(error: unknown): Error {
  if (error instanceof VaultUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const match = UNAVAILABLE_PATTERNS.find(({ pattern }) => pattern.test(message));
  return match
    ? new VaultUnavailableError(`The OS keychain is not available: ${message}`, match.hint, {
        cause: error,
        reason: match.reason,
      })
    : error instanceof Error
      ? error
      : new Error(message);
}

/**
 * gnome-keyring-daemon (Debian's 42.1; upstream reports the same of 50.0, `assertion 'client' failed`, when a client
 * leaves while it still answers another) aborts now and then; D-Bus starts it again at the next call, with the same
 * keyring. The call in flight fails with one of these, and the same call a moment later succeeds. Our integration
 * runs lost the daemon in about one run in three (9 aborts in dmesg in a day), failing whatever asked then.
 */
const DAEMON_RESTARTED =
  /disconnected from message bus without replying|The name :\d+\.\d+ was not provided|session wrapping the secret does not exist/i;
const RESTART_RETRY_DELAYS_MS = [250, 1_000];

/** Runs a keychain operation, again after a restart of the Secret Service; its failure classified. Exported for tests. */
export async function guarded<T>(
  operation: () => Promise<T>,
  retryDelaysMs: readonly number[] = RESTART_RETRY_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const delay = retryDelaysMs[attempt];
      const message = error instanceof Error ? error.message : String(error);
      const settled = delay === undefined || error instanceof VaultUnavailableError || !DAEMON_RESTARTED.test(message);
      if (settled) throw classifyVaultError(error);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export interface KeychainVaultOptions {
  /**
   * `move` (the default): the service may be older than the switch from keytar, so its items move over first.
   * `none`: the service was made after the switch (tests and benches make one per run), keytar holds nothing of it and
   * is never asked. Such a vault also works when first used after the keyring daemon restarted, which a `move` vault
   * refuses until the app restarts (keytar's libsecret cannot follow the new daemon; CI on 69ad9e0 met it so).
   * A `move` vault on a service a `none` vault made finds nothing to move (keytar-migration.ts).
   */
  readonly keytarItems?: 'move' | 'none';
}

/**
 * The OS keychain (macOS Keychain, Windows Credential Manager, the Linux Secret Service) through @napi-rs/keyring.
 * Before its first answer in a process, the secrets a workstation set up with keytar holds move over, once per service
 * (keytar-migration.ts); after that keytar is never asked, so a restarted keyring daemon, which keytar's libsecret
 * cannot follow, does not matter to it.
 */
export function createKeychainVault(
  service: string = DEFAULT_VAULT_SERVICE,
  { keytarItems = 'move' }: KeychainVaultOptions = {},
): SecretVault {
  // Made once per account: making an entry blocks the thread about 6.6 ms (it reaches the Secret Service), and the
  // audit anchor alone is written some 90 times in the consult bench; a kept entry sets in 1.9 ms and gets in 0.6 ms.
  // A kept entry keeps its Secret Service session, which a restarted daemon no longer knows ("the session wrapping the
  // secret does not exist"): a failed entry is dropped, and guarded's retry makes a new one.
  const entries = new Map<string, AsyncEntry>();
  const withEntry = async <T>(account: string, operation: (entry: AsyncEntry) => Promise<T>): Promise<T> => {
    let made = entries.get(account);
    if (!made) entries.set(account, (made = new AsyncEntry(service, account, ENTRY_OPTIONS)));
    try {
      return await operation(made);
    } catch (error) {
      entries.delete(account);
      throw error;
    }
  };
  let moved: Promise<void> | undefined = keytarItems === 'none' ? Promise.resolve() : undefined;
  const keytarItemsMoved = () =>
    (moved ??= guarded(() =>
      moveKeytarItems(
        service,
        (itemService, account) => new AsyncEntry(itemService, account, ENTRY_OPTIONS),
        async (itemService) => (await findCredentialsAsync(itemService)).map((c) => c.account),
      ),
    ).catch((error: unknown) => {
      moved = undefined;
      throw error;
    }));

  return {
    get: async (account) => {
      await keytarItemsMoved();
      return guarded(async () => (await withEntry(account, (e) => e.getPassword())) ?? undefined);
    },
    set: async (account, secret) => {
      await keytarItemsMoved();
      await guarded(() => withEntry(account, (e) => e.setPassword(secret)));
    },
    delete: async (account) => {
      await keytarItemsMoved();
      return guarded(() => withEntry(account, (e) => e.deleteCredential()));
    },
  };
}
