/** What other layers may use of preload/: they import it from here only (eslint rule rts/layers). */
export { createRtsApi } from './bridge.ts';
export { RTS_API_GLOBAL } from './rts-api.ts';
export type { RtsApi } from './rts-api.ts';
