import type { EventChannel, EventPayload } from '../../shared/api/index.ts';
import { createEmitter, type Disposable } from '../../shared/index.ts';

export type CoreEventListener = <E extends EventChannel>(event: E, payload: EventPayload<E>) => void;

/** One event as the emitter carries it: a channel and its payload. */
type CoreEvent = { [E in EventChannel]: { readonly channel: E; readonly payload: EventPayload<E> } }[EventChannel];

export interface CoreEvents extends Disposable {
  readonly emit: CoreEventListener;
  /** As a WorkstationCore hands it out: the shell and the tests unsubscribe with a function. */
  readonly onEvent: (listener: CoreEventListener) => () => void;
}

/** The renderer's events (the core's, the host's) over one Emitter: nothing is emitted once disposed. */
export function createCoreEvents(): CoreEvents {
  const emitter = createEmitter<CoreEvent>();
  return {
    // The cast pairs a channel with its payload, which the generic signature already guarantees.
    emit: (channel, payload) => emitter.fire({ channel, payload } as CoreEvent),
    onEvent: (listener) => {
      const subscription = emitter.event(({ channel, payload }) => listener(channel, payload));
      return () => subscription.dispose();
    },
    dispose: () => emitter.dispose(),
  };
}
