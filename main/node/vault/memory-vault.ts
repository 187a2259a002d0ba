import { VaultUnavailableError, type SecretVault } from './secret-vault.ts';

/**
 * A vault that forgets everything when the process ends: for simulated workstations (the demo region's peers),
 * benchmarks and tests, never for a user's workstation. `secrets` lets a test look inside; `unavailable = true` makes
 * every call fail as an unreachable keychain does (a locked keyring at sleep, a D-Bus session gone), until set back.
 */
export function createMemoryVault(): SecretVault & { readonly secrets: Map<string, string>; unavailable: boolean } {
  const secrets = new Map<string, string>();
  const vault = {
    secrets,
    unavailable: false,
    get: async (account: string) => reachable(() => secrets.get(account)),
    set: async (account: string, secret: string) => reachable(() => void secrets.set(account, secret)),
    delete: async (account: string) => reachable(() => secrets.delete(account)),
  };
  function reachable<T>(operation: () => T): T {
    if (vault.unavailable)
      throw new VaultUnavailableError(
        'The OS keychain is not available: the collection is locked',
        'Unlock the login keyring.',
        { reason: 'keychain-locked' },
      );
    return operation();
  }
  return vault;
}
