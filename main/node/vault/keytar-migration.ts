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

/** The part of a keychain entry the move needs. */
export interface MovableEntry {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
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
 * Moves every item keytar holds for `service` into the entries `entry` makes: an entry that already has a secret keeps
 * it (it was written after the switch) and keytar's copy goes; otherwise the secret is copied, read back, and only then
 * removed from keytar. Returns at once when the note says this was done before.
 */
export async function moveKeytarItems(service: string, entry: (account: string) => MovableEntry): Promise<void> {
  if (!keytarItemsAreSeparate) return;
  if ((await entry(KEYTAR_MOVED_ACCOUNT).getPassword()) !== null) return;
  for (const { account, password } of await askKeytar(() => keytar.findCredentials(service))) {
    if ((await entry(account).getPassword()) === null) {
      await entry(account).setPassword(password);
      if ((await entry(account).getPassword()) !== password) {
        throw new Error(
          `The OS keychain did not keep ${account} when moving it from keytar's item; keytar's item is left as it was`,
        );
      }
    }
    await askKeytar(() => keytar.deletePassword(service, account));
  }
  await entry(KEYTAR_MOVED_ACCOUNT).setPassword(new Date().toISOString());
}
