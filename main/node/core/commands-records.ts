import { API_ERROR_CODES, COMMANDS, EVENTS } from '../../../shared/api/index.ts';
import { CONSULT_STATUSES } from '../../../shared/protocol/index.ts';
import { AUDIT_ACTIONS } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { refusedMessages } from '../messaging/traffic-views.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

type RecordCommands = Pick<
  CommandHandlers,
  | typeof COMMANDS.getOutboxState
  | typeof COMMANDS.withdrawMessage
  | typeof COMMANDS.listRejections
  | typeof COMMANDS.checkAuditLog
  | typeof COMMANDS.listAuditLog
>;

/** What the workstation keeps about its traffic: the outbox (and taking back a request from it), the refused messages, the audit log. */
export function recordCommands(ctx: CoreContext, views: StateViews): RecordCommands {
  return {
    [COMMANDS.getOutboxState]: async () => views.outboxState(),
    [COMMANDS.withdrawMessage]: async ({ messageId }) => {
      const { db, transport, cases, audit } = ctx.unlocked();
      const [waiting] = cases.waiting(1, messageId);
      if (!waiting?.withdrawable)
        throw new CoreError(
          API_ERROR_CODES.notAllowed,
          waiting ? 'withdraw-not-only-message' : 'withdraw-not-waiting',
          waiting
            ? 'Only a request that is its case’s only message can be withdrawn; cancel the case instead.'
            : 'This message is no longer waiting to be sent.',
        );
      // The sender first (in this same turn, so it cannot start sending it between the two), then the store.
      if (ctx.link && !ctx.link.outbox.withdraw(messageId))
        throw new CoreError(
          API_ERROR_CODES.notAllowed,
          'withdraw-sending-now',
          'This request is being sent now and can no longer be withdrawn.',
        );
      const at = Date.now();
      db.transaction(() => {
        if (!transport.outbox.withdraw(messageId))
          throw new CoreError(
            API_ERROR_CODES.notAllowed,
            'withdraw-sent-meanwhile',
            'This request was sent meanwhile.',
          );
        cases.setMessageState(messageId, 'failed', at, undefined, 'withdrawn before it was sent');
        cases.update(waiting.caseId, { status: CONSULT_STATUSES.cancelled, at });
        audit.append({
          actor: ctx.me().practitionerId,
          action: AUDIT_ACTIONS.withdrawn,
          subject: `case:${waiting.caseId}`,
          detail: `message:${messageId}`,
        });
      })();
      ctx.emit(EVENTS.caseChanged, { summary: ctx.unlocked().consult.summaryOf(waiting.caseId), isNew: false });
      const state = views.outboxState();
      ctx.emit(EVENTS.outboxChanged, state);
      return state;
    },
    [COMMANDS.listRejections]: async () => refusedMessages(ctx.unlocked().transport, 500),
    [COMMANDS.checkAuditLog]: async () => ctx.unlocked().audit.check(),
    [COMMANDS.listAuditLog]: async ({ beforeSeq, limit }) => {
      const { audit } = ctx.unlocked();
      const entries = audit.list({ limit: limit ?? 50, ...(beforeSeq !== undefined && { beforeSeq }) });
      return { total: audit.count(), entries: entries.map(({ hash: _mac, ...entry }) => entry) };
    },
  };
}
