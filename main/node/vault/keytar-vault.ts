import keytar from 'keytar';
import { VaultUnavailableError, type SecretVault } from './secret-vault.ts';

export const DEFAULT_VAULT_SERVICE = 'rts-workstation';

/**
 * Failures that mean "there is no usable keychain", as libsecret reports them on Linux (no D-Bus session, no Secret
 * Service, locked collection with nobody to unlock it) and as macOS / Windows report a missing or denied store.
 */
const UNAVAILABLE_PATTERNS: readonly { pattern: RegExp; hint: string }[] = [
  {
    pattern: /autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|Could not connect|Failed to connect to socket/i,
    hint: 'No D-Bus session is running. Start the workstation from a desktop session, or run it under dbus-run-session.',
  },
  {
    pattern: /org\.freedesktop\.secrets|was not provided by any \.service files|ServiceUnknown/i,
    hint: 'No Secret Service is running. Install and start gnome-keyring or KWallet (Secret Service API).',
  },
  {
    pattern: /Cannot create an item in a locked collection|locked|dismissed/i,
    hint: 'The login keyring is locked. Unlock it (log in to the desktop, or unlock it in Passwords and Keys).',
  },
  {
    pattern: /User interaction is not allowed|errSecInteractionNotAllowed/i,
    hint: 'The macOS keychain refused access. Unlock the login keychain and allow RTS Workstation to use it.',
  },
];

export function classifyVaultError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const match = UNAVAILABLE_PATTERNS.find(({ pattern }) => pattern.test(message));
  return match
    ? new VaultUnavailableError(`The OS keychain is not available: ${message}`, match.hint, { cause: error })
    : error instanceof Error
      ? error
      : new Error(message);
}

async function guarded<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw classifyVaultError(error);
  }
}

export function createKeytarVault(service: string = DEFAULT_VAULT_SERVICE): SecretVault {
  return {
    get: (account) => guarded(async () => (await keytar.getPassword(service, account)) ?? undefined),
    set: (account, secret) => guarded(() => keytar.setPassword(service, account, secret)),
    delete: (account) => guarded(() => keytar.deletePassword(service, account)),
  };
}
