import type { RtsApi } from '../preload/index.ts';

declare global {
  interface Window {
    readonly rts?: RtsApi;
  }
}

/** The preload bridge, the renderer's only way to the main process. */
export function getRtsApi(): RtsApi {
  if (!window.rts) throw new Error('The workstation bridge is missing: this page must run inside RTS Workstation.');
  return window.rts;
}
