import keytar from 'keytar';

/**
 * Secrets that workstations stored with keytar (archived upstream; the vault used it until December 2026), read once
 * so that they can move to the current backend. Delete this file, its call sites and the keytar dependency once every
 * workstation has run a release that migrates (see README, "Secrets").
 *
 * On Linux keytar's items carry libsecret attributes {xdg:schema: org.freedesktop.Secret.Generic, service, account},
 * which @napi-rs/keyring never looks up (it uses {service, username}); on Windows keytar's credential is named
 * `service/account`, @napi-rs/keyring's `account.service`. On macOS both address the same generic password item
 * (service + account), so there is nothing to move there — and deleting "the keytar copy" would delete the secret.
 */
const keytarItemsAreSeparate = process.platform !== 'darwin';

export async function readKeytarSecret(service: string, account: string): Promise<string | undefined> {
  if (!keytarItemsAreSeparate) return undefined;
  return (await keytar.getPassword(service, account)) ?? undefined;
}

/** Resolves true when keytar held an item for the account and it was removed. */
export async function deleteKeytarSecret(service: string, account: string): Promise<boolean> {
  if (!keytarItemsAreSeparate) return false;
  return keytar.deletePassword(service, account);
}
