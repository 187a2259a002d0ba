import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENTS } from '../../../shared/api/index.ts';
import { createDisposableStore } from '../../../shared/index.ts';
import { createSqliteTransportStore, openDatabase } from '../../../transport/index.ts';
import { openCaseStore } from '../consult/case-store.ts';
import type { CoreContext } from './core-context.ts';
import { createStateViews } from './state-views.ts';

describe("the outbox's state told to the windows", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is told at once after a quiet spell, and at most every 250 ms while messages are queued one after another', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const db = openDatabase(':memory:', undefined);
    const parts = { transport: createSqliteTransportStore(db), cases: openCaseStore(db) };
    const told: unknown[] = [];
    const disposables = createDisposableStore();
    const views = createStateViews({
      disposables,
      emit: (event: string, state: unknown) => event === EVENTS.outboxChanged && told.push(state),
      parts,
      need: () => parts,
    } as unknown as CoreContext);

    views.emitOutboxPromptly();
    expect(told).toHaveLength(1);
    // A burst: told once more, at the end of the 250 ms.
    for (let i = 0; i < 5; i++) views.emitOutboxPromptly();
    expect(told).toHaveLength(1);
    vi.advanceTimersByTime(249);
    expect(told).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(told).toHaveLength(2);
    expect(told[1]).toMatchObject({ waiting: [] });
    // Quiet since: told at once again.
    vi.advanceTimersByTime(300);
    views.emitOutboxPromptly();
    expect(told).toHaveLength(3);
    // Nothing after the core is disposed, at once or later.
    views.emitOutboxPromptly();
    disposables.dispose();
    vi.advanceTimersByTime(300);
    views.emitOutboxPromptly();
    vi.advanceTimersByTime(1000);
    expect(told).toHaveLength(3);
  });
});
