import { isCommandChannel, isEventChannel, type CommandChannel } from '../shared/api/index.ts';
import type { BridgeTransport, RtsApi } from './rts-api.ts';

/**
 * Builds the renderer's API over a transport. It lets through only the contract's channels, and hands listeners the
 * payload alone (never Electron's event object, which would expose `sender`).
 */
export function createRtsApi(transport: BridgeTransport): RtsApi {
  const api: RtsApi = {
    invoke: ((command: CommandChannel, ...input: unknown[]) => {
      if (!isCommandChannel(command)) return Promise.reject(new Error(`unknown command ${String(command)}`));
      return transport.invoke(command, input[0]);
    }) as RtsApi['invoke'],
    on(event, listener) {
      if (!isEventChannel(event)) throw new Error(`unknown event ${String(event)}`);
      if (typeof listener !== 'function') throw new Error('listener must be a function');
      return transport.on(event, (payload) => listener(payload as Parameters<typeof listener>[0]));
    },
  };
  return Object.freeze(api);
}
