/**
 * Runs in the page, in place of preload/preload.ts: builds the same bridge (preload/bridge.ts) over a Playwright
 * binding instead of Electron IPC. Bundled by esbuild and added with page.addInitScript.
 */
import { createRtsApi, RTS_API_GLOBAL } from '../../preload/index.ts';

declare global {
  interface Window {
    __rtsHarnessInvoke(channel: string, input: unknown): Promise<unknown>;
    __rtsHarnessDeliver(channel: string, payload: unknown): void;
  }
}

const listeners = new Map<string, Set<(payload: unknown) => void>>();

window.__rtsHarnessDeliver = (channel, payload) => {
  for (const listener of listeners.get(channel) ?? []) listener(payload);
};

Object.defineProperty(window, RTS_API_GLOBAL, {
  value: createRtsApi({
    invoke: (channel, input) => window.__rtsHarnessInvoke(channel, input),
    on: (channel, listener) => {
      const set = listeners.get(channel) ?? new Set();
      listeners.set(channel, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  }),
  writable: false,
  configurable: false,
});
