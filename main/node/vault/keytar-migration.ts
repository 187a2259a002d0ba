import keytar from 'keytar';
import { VaultUnavailableError } from './secret-vault.ts';

/**
 * Secrets that workstations stored with keytar (archived upstream; the vault used it until December 2026) move to the
 * current backend once per keychain service, and a note in the keychain says so: from then on keytar is never asked
 * again. Delete this file, its call site and the keytar dependency once every workstation has run a release that
 * migrates (see README, "Secrets").
 *
 * On Linux keytar's items carry libsecret attributes {xdg:schema: org.freedesktop.Secret.Generic, service, account},
 * which @napi-rs/keyring never looks up (it uses {service, username}); on Windows keytar's credential is named
 * `service/account`, @napi-rs/keyring's `account.service`. On macOS both address the same generic password item
 * (service + account), so there is nothing to move there — and deleting "the keytar copy" would delete the secret.
 */
const keytarItemsAreSeparate = process.platform !== 'darwin';

/** The keychain account whose presence says that keytar's items of the service have moved (it holds only a date). */
export const KEYTAR_MOVED_ACCOUNT = 'moved-from-keytar';

/**
 * Where a move keeps the accounts it is taking over (names only) until it is done: an entry of the service `service` +
 * this suffix, never of the service itself, which keytar's search must find without items of the current backend.
 * While keytar is being searched the entry holds SEARCHING.
 */
export const KEYTAR_MOVING_SERVICE_SUFFIX = ':moving-from-keytar';
const MOVING_ACCOUNT = 'accounts';
const SEARCHING = 'searching';

/** The part of a keychain entry the move needs. */
export interface MovableEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deleteCredential(): Promise<boolean>;
}

/**
 * libsecret (under keytar) remembers which D-Bus connection answered first and keeps sending there: once that
 * gnome-keyring-daemon has gone (42.1 aborts now and then), every keytar call of the process fails so, while a fresh
 * client reaches the restarted daemon. Tried: daemon killed, then nine keytar calls over four seconds, all refused so.
 */
const STALE_SERVICE = /The name :\d+\.\d+ was not provided/;

async function askKeytar<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!STALE_SERVICE.test(message)) throw error;
    throw new VaultUnavailableError(
      `The OS keychain is not available: keytar's items could not be moved: ${message}`,
      'The keychain service restarted while RTS Workstation was running. Restart RTS Workstation.',
      { cause: error, reason: 'keychain-restarted' },
    );
  }
}

/**
 * Moves every item keytar holds for `service` into the entries `entry(service, account)` makes: an entry that already
 * has a secret keeps it (it was written after the switch) and keytar's copy goes; otherwise the secret is copied, read
 * back, and only then removed from keytar. Returns at once when the note says this was done before.
 *
 * keytar's search (FindCredentials) crashes the process, SIGSEGV in strdup(NULL), on an item it cannot read whole:
 * reproduced with the login keyring locked and nobody to answer the unlock prompt (keytar then reads even an existing
 * item as absent, without an error), and under gdb and in vitest with an item of the current backend (no `account`
 * attribute) in the service, written a moment before. So keytar is searched only after a write has succeeded, which
 * fails in a locked keyring with the keychain's own "locked" error, and only while the service holds no current item;
 * what it found is kept beside the service, from which a move cut short resumes without searching again. A service
 * that holds current items and no note was made after the switch (a `none` vault): there is nothing of it in keytar.
 */
export async function moveKeytarItems(
  service: string,
  entry: (service: string, account: string) => MovableEntry,
  currentAccounts: (service: string) => Promise<readonly string[]>,
): Promise<void> {
  if (!keytarItemsAreSeparate) return;
  if ((await entry(service, KEYTAR_MOVED_ACCOUNT).getPassword()) !== null) return;
  const moving = entry(service + KEYTAR_MOVING_SERVICE_SUFFIX, MOVING_ACCOUNT);
  let accounts = parseAccountList(await moving.getPassword());
  if (!accounts) {
    if ((await currentAccounts(service)).length > 0) accounts = [];
    else {
      await moving.setPassword(SEARCHING);
      accounts = (await askKeytar(() => keytar.findCredentials(service))).map((c) => c.account);
      await moving.setPassword(JSON.stringify(accounts));
    }
  }
  for (const account of accounts) {
    const password = await askKeytar(() => keytar.getPassword(service, account));
    if (password === null) continue; // Moved before the move was cut short.
    if ((await entry(service, account).getPassword()) === null) {
      await entry(service, account).setPassword(password);
      if ((await entry(service, account).getPassword()) !== password) {
        throw new Error(
          `The OS keychain did not keep ${account} when moving it from keytar's item; keytar's item is left as it was`,
        );
      }
    }
    await askKeytar(() => keytar.deletePassword(service, account));
  }
  await moving.deleteCredential();
  await entry(service, KEYTAR_MOVED_ACCOUNT).setPassword(new Date().toISOString());
}

/** The accounts of a move cut short; undefined when none was under way or it was cut short while searching. */
function parseAccountList(text: string | null): string[] | undefined {
  if (text === null || text === SEARCHING) return undefined;
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`The keychain's list of accounts moving from keytar is not a list of names; nothing was moved`);
  }
  return parsed;
}
