import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENTS } from '../../../shared/api/index.ts';
import { createDisposableStore } from '../../../shared/index.ts';
import { createSqliteTransportStore, scratchDatabase } from '../../../transport/index.ts';
import { openCaseStore, type CaseStore } from '../consult/case-store.ts';
import type { CoreContext } from './core-context.ts';
import { startCaseUpkeep } from './case-upkeep.ts';

const STAT = '00000000-0000-4000-8000-000000000001';
const ROUTINE = '00000000-0000-4000-8000-000000000002';

describe('case upkeep', () => {
  let cases: CaseStore;
  let dispose: () => void;
  let emitted: [string, unknown][];
  let describeOlderCases: ReturnType<typeof vi.fn>;
  let ctx: CoreContext;

  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-05T10:00:00Z') });
    const scratch = scratchDatabase();
    dispose = scratch.dispose;
    createSqliteTransportStore(scratch.db);
    cases = openCaseStore(scratch.db);
    for (const [caseId, priority] of [
      [STAT, 'stat'],
      [ROUTINE, 'routine'],
    ] as const)
      cases.create({
        caseId,
        role: 'expert',
        status: 'requested',
        priority,
        applicantId: 'b.x',
        expertId: 'a.y',
        createdAt: Date.now(),
        mySequence: 0,
      });
    emitted = [];
    // Three cases of an older store to read, 2 at a time… then none.
    const left = [2, 1, 0];
    describeOlderCases = vi.fn(async () => left.shift() ?? 0);
    ctx = {
      options: {},
      need: () => ({ cases, consult: { describeOlderCases } }),
      emit: (event: string, payload: unknown) => emitted.push([event, payload]),
      settings: { read: () => ({ ui: { escalateAfterMinutes: 10 } }) },
      disposables: createDisposableStore(),
      logger: { info: () => undefined, error: () => undefined },
    } as unknown as CoreContext;
  });
  afterEach(() => {
    ctx.disposables.dispose();
    vi.useRealTimers();
    dispose();
  });

  it('reads the cases of an older store in the background, telling the lists each time', async () => {
    startCaseUpkeep(ctx);
    await vi.advanceTimersByTimeAsync(10);
    expect(describeOlderCases).toHaveBeenCalledTimes(3);
    expect(emitted.filter(([e]) => e === EVENTS.casesDescribed)).toEqual([
      [EVENTS.casesDescribed, { count: 2 }],
      [EVENTS.casesDescribed, { count: 1 }],
    ]);
  });

  it('announces an urgent request once when it has waited the escalation time, and nothing once stopped', async () => {
    startCaseUpkeep(ctx);
    const escalations = () => emitted.filter(([e]) => e === EVENTS.caseEscalated);
    await vi.advanceTimersByTimeAsync(9 * 60_000);
    expect(escalations()).toEqual([]);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(escalations()).toEqual([
      [EVENTS.caseEscalated, { cases: [{ caseId: STAT, priority: 'stat', waitingSince: '2026-12-05T10:00:00.000Z' }] }],
    ]);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(escalations()).toHaveLength(1);
    // Stopped: nothing more.
    ctx.disposables.dispose();
    cases.update(STAT, { status: 'accepted', at: Date.now() });
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(escalations()).toHaveLength(1);
  });

  it("judges escalation by the core's clock when it is given one", async () => {
    let ahead = 0;
    ctx = { ...ctx, options: { ...ctx.options, now: () => Date.now() + ahead } };
    startCaseUpkeep(ctx);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(emitted.filter(([e]) => e === EVENTS.caseEscalated)).toEqual([]);
    ahead = 10 * 60_000;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(emitted.filter(([e]) => e === EVENTS.caseEscalated)).toHaveLength(1);
  });
});
