import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConnectorConfigError,
  loadConnectorConfig,
  MIN_API_TOKEN_LENGTH,
  type LoadedConnectorConfig,
} from './connector-config.ts';
import { createSealedFileVault } from './sealed-file-vault.ts';
import { createMemoryVault, createKeychainVault, type SecretVault } from '../main/node/index.ts';
import { startConnector, type ConnectorCore } from './connector-core.ts';
import { startConnectorApi, type ConnectorApi } from './http-api.ts';
import { createSecretResolver } from './secret-reference.ts';
import type { Logger } from '../shared/index.ts';

/** A running connector: its core and its HTTP API, stopped together (API first, so no request meets a closed store). */
export interface RunningConnector {
  readonly core: ConnectorCore;
  readonly api: ConnectorApi;
  /** Where the API listens, e.g. http://127.0.0.1:7390 */
  readonly url: string;
  stop(): Promise<void>;
}

export const CONNECTOR_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The OS keychain, or with `masterKey` the sealed file in the data directory. */
async function vaultOf(loaded: LoadedConnectorConfig, env: NodeJS.ProcessEnv | undefined): Promise<SecretVault> {
  const { config, path } = loaded;
  if (!config.masterKey) return createKeychainVault(config.keychainService);
  const keychainless = createMemoryVault();
  const masterKey = await createSecretResolver({ path, vault: () => keychainless, ...(env && { env }) }).resolve(
    config.masterKey,
    'masterKey',
  );
  mkdirSync(path(config.dataDir), { recursive: true, mode: 0o700 });
  return createSealedFileVault(join(path(config.dataDir), 'vault.sealed.json'), masterKey);
}

export async function runConnector(options: {
  configFile: string;
  vault?: SecretVault;
  env?: NodeJS.ProcessEnv;
  log?: (line: Record<string, unknown>) => void;
  logger?: Logger;
  reconnectDelayMs?: { initial: number; max: number };
}): Promise<RunningConnector> {
  const loaded = loadConnectorConfig(options.configFile);
  const vault = options.vault ?? (await vaultOf(loaded, options.env));
  const core = await startConnector({
    loaded,
    vault,
    ...(options.env && { env: options.env }),
    ...(options.log && { log: options.log }),
    ...(options.logger && { logger: options.logger }),
    ...(options.reconnectDelayMs && { reconnectDelayMs: options.reconnectDelayMs }),
  });
  let api: ConnectorApi;
  try {
    const token = await createSecretResolver({
      path: loaded.path,
      vault: () => vault,
      ...(options.env && { env: options.env }),
    }).resolve(loaded.config.api.token, 'api.token');
    if (token.length < MIN_API_TOKEN_LENGTH)
      throw new ConnectorConfigError(
        `api.token: at least ${MIN_API_TOKEN_LENGTH} characters (e.g. openssl rand -base64 32)`,
      );
    api = await startConnectorApi({
      core,
      host: loaded.config.api.host,
      port: loaded.config.api.port,
      token,
      maxRequestBytes: loaded.config.api.maxRequestBytes,
      version: CONNECTOR_VERSION,
    });
  } catch (error) {
    await core.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    core,
    api,
    url: `http://${loaded.config.api.host.includes(':') ? `[${loaded.config.api.host}]` : loaded.config.api.host}:${api.port}`,
    stop: () =>
      (stopped ??= (async () => {
        await api.close();
        await core.stop();
      })()),
  };
}
