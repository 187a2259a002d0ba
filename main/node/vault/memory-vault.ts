import type { SecretVault } from './secret-vault.ts';

/**
 * A vault that forgets everything when the process ends: for simulated workstations (the demo region's peers),
 * benchmarks and tests, never for a user's workstation. `secrets` lets a test look inside.
 */
export function createMemoryVault(): SecretVault & { readonly secrets: Map<string, string> } {
  const secrets = new Map<string, string>();
  return {
    secrets,
    get: async (account) => secrets.get(account),
    set: async (account, secret) => void secrets.set(account, secret),
    delete: async (account) => secrets.delete(account),
  };
}
