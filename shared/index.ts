/** What other layers may use of shared/: they import it from here only (eslint rule rts/layers). */
export {
  asUnsubscribe,
  createDisposableStore,
  createEmitter,
  createRunOnceScheduler,
  toDisposable,
} from './lifecycle.ts';
export type { Disposable, DisposableStore } from './lifecycle.ts';
export { NO_LOGGER, errorCodeOf } from './logger.ts';
export type { LogFields, Logger } from './logger.ts';
