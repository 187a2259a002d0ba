import { EVENTS } from '../../../shared/api/index.ts';
import { toDisposable } from '../../../shared/index.ts';
import type { CoreContext } from './core-context.ts';

/** How often waiting urgent requests are looked at: a minute's resolution is what an escalation time in minutes needs. */
const ESCALATION_CHECK_MS = 30_000;
/** Cases of an older store read per turn of the event loop, so that commands are answered in between. */
const DESCRIBE_CHUNK = 20;

/**
 * What the case store needs while the core runs: the details of cases kept before the inbox showed them (read once,
 * in the background) and the escalation of urgent requests not accepted in time, announced once per case.
 */
export function startCaseUpkeep(ctx: CoreContext): void {
  const { consult, cases } = ctx.need();
  let describing: ReturnType<typeof setTimeout> | undefined = setTimeout(function describeMore() {
    describing = undefined;
    consult.describeOlderCases(DESCRIBE_CHUNK).then(
      (read) => {
        if (read === 0 || ctx.disposables.disposed) return;
        ctx.emit(EVENTS.casesDescribed, { count: read });
        describing = setTimeout(describeMore, 0);
      },
      (error: unknown) =>
        ctx.logger.error('cases.describe-failed', { error: error instanceof Error ? error.name : 'unknown' }),
    );
  }, 0);
  ctx.disposables.add(toDisposable(() => clearTimeout(describing)));

  const announced = new Set<string>();
  const check = () => {
    const before = Date.now() - ctx.settings.read().ui.escalateAfterMinutes * 60_000;
    const waiting = cases.escalated(before);
    const still = new Set(waiting.map((c) => c.caseId));
    for (const id of announced) if (!still.has(id)) announced.delete(id);
    for (const c of waiting) {
      if (announced.has(c.caseId)) continue;
      announced.add(c.caseId);
      ctx.emit(EVENTS.caseEscalated, {
        caseId: c.caseId,
        priority: c.priority as 'stat' | 'asap' | 'urgent',
        waitingSince: new Date(c.statusAt).toISOString(),
      });
    }
  };
  const timer = setInterval(check, ESCALATION_CHECK_MS);
  timer.unref();
  ctx.disposables.add(toDisposable(() => clearInterval(timer)));
  check();
}
