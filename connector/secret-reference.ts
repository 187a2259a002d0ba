import { readFileSync } from 'node:fs';
import type { SecretVault } from '../main/node/index.ts';
import type { SecretReference } from '../shared-node/index.ts';

export class SecretReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretReferenceError';
  }
}

export interface SecretResolver {
  resolve(reference: SecretReference, what: string): Promise<string>;
}

/**
 * Resolving the secret references of connector.json (shared-node/secret-reference.ts): an environment variable, a file
 * (its contents, one trailing newline dropped) or an account in the OS keychain.
 */
export function createSecretResolver(options: {
  env?: NodeJS.ProcessEnv;
  path: (relative: string) => string;
  vault: () => SecretVault;
}): SecretResolver {
  const env = options.env ?? process.env;
  return {
    async resolve(reference, what) {
      let value: string | undefined;
      if ('env' in reference) {
        value = env[reference.env];
        if (value === undefined)
          throw new SecretReferenceError(`${what}: the environment variable ${reference.env} is not set`);
      } else if ('file' in reference) {
        try {
          value = readFileSync(options.path(reference.file), 'utf8').replace(/\r?\n$/, '');
        } catch (error) {
          throw new SecretReferenceError(
            `${what}: cannot read ${reference.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          );
        }
      } else {
        value = await options.vault().get(reference.keychain);
        if (value === undefined)
          throw new SecretReferenceError(`${what}: the OS keychain holds no "${reference.keychain}"`);
      }
      if (value.length === 0) throw new SecretReferenceError(`${what}: the secret is empty`);
      return value;
    },
  };
}
