import { EVENTS } from '../../../shared/api/index.ts';
import { toDisposable } from '../../../shared/index.ts';
import { escalateBefore } from './commands-consults.ts';
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

  // Announced once per run: a restart reminds the user once of what still waits (one notification, not one per case).
  const announced = new Set<string>();
  const check = () => {
    try {
      const waiting = cases.escalated(escalateBefore(ctx));
      const still = new Set(waiting.map((c) => c.caseId));
      for (const id of announced) if (!still.has(id)) announced.delete(id);
      const fresh = waiting.filter((c) => !announced.has(c.caseId));
      if (fresh.length === 0) return;
      for (const c of fresh) announced.add(c.caseId);
      ctx.emit(EVENTS.caseEscalated, {
        cases: fresh.map((c) => ({
          caseId: c.caseId,
          priority: c.priority as 'stat' | 'asap' | 'urgent',
          waitingSince: new Date(c.statusAt).toISOString(),
        })),
      });
    } catch (error) {
      ctx.logger.error('cases.escalation-check-failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
  };
  const timer = setInterval(check, ESCALATION_CHECK_MS);
  timer.unref();
  ctx.disposables.add(toDisposable(() => clearInterval(timer)));
  check();
}
