import { describe, expect, it } from 'vitest';
import { COMMANDS, EVENTS } from '../shared/api/index.ts';
import { createRtsApi } from './bridge.ts';
import type { BridgeTransport } from './rts-api.ts';

function recordingTransport() {
  const calls: unknown[][] = [];
  const listeners: ((payload: unknown) => void)[] = [];
  const transport: BridgeTransport = {
    invoke: async (channel, input) => {
      calls.push([channel, input]);
      return { ok: true, value: 'v' };
    },
    on: (_channel, listener) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
  };
  return { transport, calls, listeners };
}

describe('preload bridge', () => {
  it('passes contract commands through and refuses any other channel', async () => {
    const { transport, calls } = recordingTransport();
    const api = createRtsApi(transport);
    await api.invoke(COMMANDS.getAppInfo);
    expect(calls).toEqual([[COMMANDS.getAppInfo, undefined]]);
    await expect((api.invoke as (c: string) => Promise<unknown>)('shell:open-external')).rejects.toThrow(
      /unknown command/,
    );
    expect(calls).toHaveLength(1);
  });

  it('hands listeners the payload alone and unsubscribes', () => {
    const { transport, listeners } = recordingTransport();
    const api = createRtsApi(transport);
    const seen: unknown[] = [];
    const off = api.on(EVENTS.connectionStateChanged, (payload) => seen.push(payload));
    listeners[0]!({ status: 'online' });
    off();
    expect(seen).toEqual([{ status: 'online' }]);
    expect(listeners).toHaveLength(0);
    expect(() => (api.on as (e: string, l: () => void) => void)('ipc:raw', () => undefined)).toThrow(/unknown event/);
  });

  it('is frozen, so page scripts cannot swap its methods', () => {
    const api = createRtsApi(recordingTransport().transport);
    expect(Object.isFrozen(api)).toBe(true);
  });
});
