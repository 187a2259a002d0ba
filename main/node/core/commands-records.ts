import { COMMANDS } from '../../../shared/api/index.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { refusedMessages } from '../messaging/traffic-views.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

type RecordCommands = Pick<
  CommandHandlers,
  | typeof COMMANDS.getOutboxState
  | typeof COMMANDS.listRejections
  | typeof COMMANDS.checkAuditLog
  | typeof COMMANDS.listAuditLog
>;

/** What the workstation keeps about its traffic: the outbox, the refused messages, the audit log. */
export function recordCommands(ctx: CoreContext, views: StateViews): RecordCommands {
  return {
    [COMMANDS.getOutboxState]: async () => views.outboxState(),
    [COMMANDS.listRejections]: async () => refusedMessages(ctx.unlocked().transport, 500),
    [COMMANDS.checkAuditLog]: async () => ctx.unlocked().audit.check(),
    [COMMANDS.listAuditLog]: async ({ beforeSeq, limit }) => {
      const { audit } = ctx.unlocked();
      const entries = audit.list({ limit: limit ?? 50, ...(beforeSeq !== undefined && { beforeSeq }) });
      return { total: audit.count(), entries: entries.map(({ hash: _mac, ...entry }) => entry) };
    },
  };
}
