import { COMMANDS, EVENTS, type EventChannel } from '../../shared/api/channels.ts';
import type { ConnectionState } from '../../shared/api/connection-state.ts';
import type { EventPayload } from '../../shared/api/contract.ts';
import { assertEndpointId } from '../../shared/protocol/endpoint-id.ts';
import { createCommandDispatcher, type CommandDispatcher } from './api/command-dispatcher.ts';
import { createBrokerConnection, type BrokerConnection, type BrokerHost } from '../../transport/broker-connection.ts';
import { VaultUnavailableError, type SecretVault } from './vault/secret-vault.ts';
import { brokerPasswordAccount } from './vault/vault-accounts.ts';

/** Where this workstation joins its region. The password is not here: it is in the keychain. */
export interface BrokerProfile {
  readonly hosts: readonly BrokerHost[];
  readonly vhost: string;
  readonly endpointId: string;
}

export interface WorkstationCoreOptions {
  readonly productName: string;
  readonly version: string;
  readonly vault: SecretVault;
  /** Absent until the administrator configures a region. */
  readonly broker?: BrokerProfile;
}

export type CoreEventListener = <E extends EventChannel>(event: E, payload: EventPayload<E>) => void;

/**
 * The main process's logic, in plain Node: what the Electron shell wires to windows and IPC, and what browser tests
 * drive directly.
 */
export interface WorkstationCore {
  readonly dispatch: CommandDispatcher;
  /** Every event the renderer may subscribe to, for the shell (or test harness) to forward. */
  onEvent(listener: CoreEventListener): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createWorkstationCore(options: WorkstationCoreOptions): WorkstationCore {
  const listeners = new Set<CoreEventListener>();
  const emit: CoreEventListener = (event, payload) => {
    for (const listener of listeners) listener(event, payload);
  };

  let connection: BrokerConnection | undefined;
  let standaloneState: ConnectionState = {
    status: options.broker ? 'offline' : 'not-configured',
    since: new Date().toISOString(),
    reason: options.broker ? 'not started' : 'No region is configured yet.',
  };
  const connectionState = () => connection?.state ?? standaloneState;
  const setStandaloneState = (status: ConnectionState['status'], reason: string) => {
    standaloneState = { status, since: new Date().toISOString(), reason };
    emit(EVENTS.connectionStateChanged, standaloneState);
  };

  const dispatch = createCommandDispatcher({
    [COMMANDS.getAppInfo]: async () => ({ productName: options.productName, version: options.version }),
    [COMMANDS.getConnectionState]: async () => connectionState(),
  });

  async function start(): Promise<void> {
    const profile = options.broker;
    if (!profile || connection) return;
    const endpointId = assertEndpointId(profile.endpointId);
    const account = brokerPasswordAccount(endpointId);
    let stored: string | undefined;
    try {
      stored = await options.vault.get(account);
    } catch (error) {
      if (!(error instanceof VaultUnavailableError)) throw error;
      setStandaloneState('offline', `${error.message}. ${error.hint}`);
      return;
    }
    if (stored === undefined) {
      setStandaloneState('offline', `No broker password for endpoint ${endpointId} in the OS keychain.`);
      return;
    }
    connection = createBrokerConnection({
      hosts: profile.hosts,
      vhost: profile.vhost,
      username: endpointId,
      containerId: endpointId,
      password: async () => {
        const password = await options.vault.get(account);
        if (password === undefined) throw new Error(`broker password for ${endpointId} vanished from the keychain`);
        return password;
      },
    });
    connection.onStateChanged((state) => emit(EVENTS.connectionStateChanged, state));
    await connection.start();
  }

  async function stop(): Promise<void> {
    const current = connection;
    connection = undefined;
    if (current) {
      await current.stop();
      standaloneState = current.state;
    }
  }

  return {
    dispatch,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start,
    stop,
  };
}
