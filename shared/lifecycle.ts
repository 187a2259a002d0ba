/**
 * One way to emit and to let go, for every layer (pure: the timers used are the ones Node and browsers share). After
 * VS Code's lifecycle and event modules: what a component registers — listeners, timers, subscriptions to others — goes
 * into its DisposableStore, and disposing the store is its stop. A callback that arrives after it (a timer, a promise,
 * a peer's event) then finds nothing to run, by construction rather than by a flag each callback must check.
 */

export interface Disposable {
  /** Idempotent: a second call does nothing. */
  dispose(): void;
}

/** `dispose` runs on the first dispose() only. */
export function toDisposable(dispose: () => void): Disposable {
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      dispose();
    },
  };
}

export interface DisposableStore extends Disposable {
  readonly disposed: boolean;
  /**
   * Keeps `disposable` until the store is disposed, and returns it. Once the store is disposed it is disposed at once:
   * a late registration must not outlive its owner.
   */
  add<T extends Disposable>(disposable: T): T;
}

/**
 * Disposes what it holds last-added first (like a stack: what was set up on top of something goes before it). One that
 * throws does not keep the others alive; its error is thrown once all are disposed.
 */
export function createDisposableStore(): DisposableStore {
  let held: Disposable[] | undefined = [];
  return {
    get disposed() {
      return held === undefined;
    },
    add(disposable) {
      if (held) held.push(disposable);
      else disposable.dispose();
      return disposable;
    },
    dispose() {
      const disposing = held;
      held = undefined;
      if (!disposing) return;
      const errors: unknown[] = [];
      for (const disposable of disposing.reverse()) {
        try {
          disposable.dispose();
        } catch (error) {
          errors.push(error);
        }
      }
      throwAll(errors, 'disposables threw while disposed');
    },
  };
}

export type Listener<T> = (value: T) => void;
/** Subscribes `listener`; disposing the result unsubscribes it. Named `onDidX` (or `onX`) where it is offered. */
export type Event<T> = (listener: Listener<T>) => Disposable;

export interface EmitterOptions {
  /**
   * Told of each listener that throws; the others are still called. Without it the error is thrown to the caller of
   * fire() once every listener has been called.
   */
  readonly onListenerError?: (error: unknown) => void;
}

export interface Emitter<T> extends Disposable {
  /** What the owner hands out: subscribers can listen, only the owner can fire. */
  readonly event: Event<T>;
  /** Calls every listener subscribed before this call; a no-op once disposed. */
  fire(value: T): void;
}

export function createEmitter<T>(options: EmitterOptions = {}): Emitter<T> {
  // One entry per subscription: the same function subscribed twice is called twice and unsubscribed one at a time.
  let subscriptions: Set<{ readonly listener: Listener<T> }> | undefined = new Set();
  return {
    event(listener) {
      const subscription = { listener };
      subscriptions?.add(subscription);
      return toDisposable(() => subscriptions?.delete(subscription));
    },
    fire(value) {
      if (!subscriptions) return;
      const errors: unknown[] = [];
      // A copy: who subscribes during the call hears the next one; who unsubscribes during it (or disposes) hears no more.
      for (const subscription of [...subscriptions]) {
        if (!subscriptions?.has(subscription)) continue;
        try {
          subscription.listener(value);
        } catch (error) {
          if (options.onListenerError) options.onListenerError(error);
          else errors.push(error);
        }
      }
      throwAll(errors, 'listeners threw');
    },
    dispose() {
      subscriptions = undefined;
    },
  };
}

/** For an interface that hands out an unsubscribe function (`onX(listener) => () => void`): the same subscription. */
export function asUnsubscribe<T>(event: Event<T>): (listener: Listener<T>) => () => void {
  return (listener) => {
    const subscription = event(listener);
    return () => subscription.dispose();
  };
}

export interface RunOnceScheduler extends Disposable {
  /**
   * Runs the task `delayMs` from now, unless a run is already due: requests meanwhile fold into that one (a burst of
   * changes is told a few times a second at most, never postponed for as long as the burst lasts). A no-op once
   * disposed.
   */
  schedule(): void;
  readonly scheduled: boolean;
}

/** A task run at most once per `delayMs`; disposing it cancels a run that is due. */
export function createRunOnceScheduler(task: () => void, delayMs: number): RunOnceScheduler {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  return {
    schedule() {
      if (disposed || timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        task();
      }, delayMs);
    },
    get scheduled() {
      return timer !== undefined;
    },
    dispose() {
      disposed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** One error as it is; several as one AggregateError, so that none is lost. */
function throwAll(errors: readonly unknown[], what: string): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} ${what} failed`);
}
