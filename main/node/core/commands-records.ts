import { COMMANDS } from '../../../shared/api/channels.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

type RecordCommands = Pick<CommandHandlers,
  typeof COMMANDS.getOutboxState | typeof COMMANDS.listRejections | typeof COMMANDS.checkAuditLog | typeof COMMANDS.listAuditLog>;

/** What the workstation keeps about its traffic: the outbox, the refused messages, the audit log. */
export function recordCommands(ctx: CoreContext, views: StateViews): RecordCommands {
  return {
    [COMMANDS.getOutboxState]: async () => views.outboxState(),
    [COMMANDS.listRejections]: async () => ctx.unlocked().transport.deadLetters.list({ state: 'held', limit: 500 }).map((d) => {
      const props = d.message.properties.application_properties;
      return {
        id: d.id, messageId: d.messageId, reason: d.reason, detail: d.detail, receivedAt: new Date(d.receivedAt).toISOString(),
        ...(typeof props.rtsType === 'string' && { type: props.rtsType }), ...(typeof props.rtsSender === 'string' && { sender: props.rtsSender }),
        ...(typeof props.rtsCase === 'string' && { caseId: props.rtsCase }),
      };
    }),
    [COMMANDS.checkAuditLog]: async () => ctx.unlocked().audit.check(),
    [COMMANDS.listAuditLog]: async ({ beforeSeq, limit }) => {
      const { audit } = ctx.unlocked();
      const entries = audit.list({ limit: limit ?? 50, ...(beforeSeq !== undefined && { beforeSeq }) });
      return { total: audit.count(), entries: entries.map(({ hash: _mac, ...entry }) => entry) };
    },
  };
}
