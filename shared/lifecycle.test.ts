import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  asUnsubscribe,
  createDisposableStore,
  createEmitter,
  createRunOnceScheduler,
  toDisposable,
} from './lifecycle.ts';

describe('toDisposable', () => {
  it('runs its function on the first dispose only', () => {
    const run = vi.fn();
    const disposable = toDisposable(run);
    disposable.dispose();
    disposable.dispose();
    expect(run).toHaveBeenCalledTimes(1);
  });
});

describe('DisposableStore', () => {
  it('disposes what it holds, last added first, once', () => {
    const order: string[] = [];
    const store = createDisposableStore();
    const first = store.add(toDisposable(() => order.push('first')));
    store.add(toDisposable(() => order.push('second')));
    expect(store.disposed).toBe(false);
    store.dispose();
    store.dispose();
    first.dispose();
    expect(order).toEqual(['second', 'first']);
    expect(store.disposed).toBe(true);
  });

  it('disposes at once what is added after it was disposed', () => {
    const store = createDisposableStore();
    store.dispose();
    const late = vi.fn();
    store.add(toDisposable(late));
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('disposes the others when one throws, then throws its error', () => {
    const store = createDisposableStore();
    const before = vi.fn();
    store.add(toDisposable(before));
    store.add(
      toDisposable(() => {
        throw new Error('stuck');
      }),
    );
    const after = vi.fn();
    store.add(toDisposable(after));
    expect(() => store.dispose()).toThrow('stuck');
    expect(before).toHaveBeenCalledTimes(1);
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('throws every error when several throw', () => {
    const store = createDisposableStore();
    for (const message of ['one', 'two'])
      store.add(
        toDisposable(() => {
          throw new Error(message);
        }),
      );
    let thrown: unknown;
    try {
      store.dispose();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AggregateError);
    expect((thrown as AggregateError).errors.map((e: Error) => e.message)).toEqual(['two', 'one']);
  });
});

describe('Emitter', () => {
  it('calls each listener with the value until it unsubscribes', () => {
    const emitter = createEmitter<number>();
    const seen: number[] = [];
    const subscription = emitter.event((n) => seen.push(n));
    emitter.fire(1);
    subscription.dispose();
    emitter.fire(2);
    expect(seen).toEqual([1]);
  });

  it('counts the same function subscribed twice as two subscriptions', () => {
    const emitter = createEmitter<string>();
    const listener = vi.fn();
    const first = emitter.event(listener);
    emitter.event(listener);
    first.dispose();
    emitter.fire('x');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('fires nothing once disposed, and a late subscriber never hears anything', () => {
    const emitter = createEmitter<string>();
    const early = vi.fn();
    emitter.event(early);
    emitter.dispose();
    const late = vi.fn();
    emitter.event(late).dispose();
    emitter.fire('after');
    expect(early).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  it('tells a listener subscribed during a fire of the next value only, and none unsubscribed during it', () => {
    const emitter = createEmitter<number>();
    const seen: string[] = [];
    const later = vi.fn((n: number) => seen.push(`later ${n}`));
    emitter.event((n) => {
      seen.push(`first ${n}`);
      second.dispose();
      emitter.event(later);
    });
    const second = emitter.event((n) => seen.push(`second ${n}`));
    emitter.fire(1);
    expect(seen).toEqual(['first 1']);
    expect(later).not.toHaveBeenCalled();
  });

  it('calls every listener when one throws, and reports the error to onListenerError', () => {
    const reported: unknown[] = [];
    const emitter = createEmitter<number>({ onListenerError: (error) => reported.push(error) });
    const failure = new Error('listener failed');
    emitter.event(() => {
      throw failure;
    });
    const other = vi.fn();
    emitter.event(other);
    expect(() => emitter.fire(7)).not.toThrow();
    expect(other).toHaveBeenCalledWith(7);
    expect(reported).toEqual([failure]);
  });

  it('without onListenerError, throws the error to the caller after every listener was called', () => {
    const emitter = createEmitter<number>();
    emitter.event(() => {
      throw new Error('listener failed');
    });
    const other = vi.fn();
    emitter.event(other);
    expect(() => emitter.fire(7)).toThrow('listener failed');
    expect(other).toHaveBeenCalledWith(7);
  });

  it('hands out an unsubscribe function where an interface wants one', () => {
    const emitter = createEmitter<number>();
    const listener = vi.fn();
    const off = asUnsubscribe(emitter.event)(listener);
    emitter.fire(1);
    off();
    emitter.fire(2);
    expect(listener.mock.calls).toEqual([[1]]);
  });
});

describe('RunOnceScheduler', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs once for a burst of requests, counted from the first, and again for a request after the run', () => {
    vi.useFakeTimers();
    const task = vi.fn();
    const scheduler = createRunOnceScheduler(task, 250);
    scheduler.schedule();
    vi.advanceTimersByTime(200);
    scheduler.schedule();
    expect(scheduler.scheduled).toBe(true);
    vi.advanceTimersByTime(50);
    expect(task).toHaveBeenCalledTimes(1);
    expect(scheduler.scheduled).toBe(false);
    scheduler.schedule();
    vi.advanceTimersByTime(250);
    expect(task).toHaveBeenCalledTimes(2);
  });

  it('runs nothing once disposed, neither a run that was due nor a later request', () => {
    vi.useFakeTimers();
    const task = vi.fn();
    const store = createDisposableStore();
    const scheduler = store.add(createRunOnceScheduler(task, 250));
    scheduler.schedule();
    store.dispose();
    scheduler.schedule();
    vi.advanceTimersByTime(1_000);
    expect(task).not.toHaveBeenCalled();
    expect(scheduler.scheduled).toBe(false);
  });
});
