import type { RtsApi } from '../preload/index.ts';
import { resolveLocale } from '../shared/i18n/index.ts';
import { intlFor } from './i18n/index.ts';

declare global {
  interface Window {
    readonly rts?: RtsApi;
  }
}

/** The preload bridge, the renderer's only way to the main process. */
export function getRtsApi(): RtsApi {
  if (!window.rts)
    // Before the settings can be asked (they come through the bridge): in the OS's language.
    throw new Error(intlFor(resolveLocale('system', navigator.languages)).formatMessage({ id: 'frame.bridgeMissing' }));
  return window.rts;
}
