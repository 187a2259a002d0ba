import { API_ERROR_CODES, COMMANDS } from '../../../shared/api/index.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { AUDIT_ACTIONS } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { SaveDialog } from '../files/save-file.ts';
import type { CoreContext } from './core-context.ts';

type ConsultCommands = Pick<
  CommandHandlers,
  | typeof COMMANDS.listCases
  | typeof COMMANDS.countCases
  | typeof COMMANDS.openCase
  | typeof COMMANDS.createConsult
  | typeof COMMANDS.actOnCase
  | typeof COMMANDS.sendReport
  | typeof COMMANDS.recordExport
  | typeof COMMANDS.findPatients
  | typeof COMMANDS.getRequestContent
  | typeof COMMANDS.getDraft
  | typeof COMMANDS.saveDraft
  | typeof COMMANDS.discardDraft
  | typeof COMMANDS.saveAttachment
>;

/** Urgent requests waiting to be accepted since before this (ms) are escalated: the user's escalation time ago. */
export const escalateBefore = (ctx: CoreContext) =>
  (ctx.options.now ?? Date.now)() - ctx.settings.read().ui.escalateAfterMinutes * 60_000;

/** The consults: the inbox, one case, composing (from a case seen before, from a draft), the steps of a case, the report, an export, a file saved. */
export function consultCommands(ctx: CoreContext): ConsultCommands {
  return {
    [COMMANDS.listCases]: async (input) =>
      ctx.unlocked().consult.inbox({
        ...(input ? Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) : {}),
        escalateBefore: escalateBefore(ctx),
      }),
    [COMMANDS.countCases]: async () => ctx.unlocked().consult.counts(escalateBefore(ctx)),
    [COMMANDS.openCase]: async ({ caseId }) => ctx.unlocked().consult.openCase(caseId),
    [COMMANDS.createConsult]: async (input) => ctx.unlocked().consult.compose(input, ctx.me().practitionerId),
    [COMMANDS.actOnCase]: async (action) => ctx.unlocked().consult.act(action),
    [COMMANDS.sendReport]: async ({ passphrase, ...report }) => {
      const { consult } = ctx.unlocked();
      await ctx.lock.confirm(passphrase);
      const sent = await consult.sendReport(report);
      // Signed and queued: the answer says so even if the app locked meanwhile (the draft then goes at the next send).
      ctx.parts?.drafts.discard(`report:${report.caseId}`);
      return sent;
    },
    [COMMANDS.recordExport]: async ({ caseId, form }) => {
      const { consult, audit } = ctx.unlocked();
      consult.summaryOf(caseId); // refuses a case that is not here
      audit.append({
        actor: ctx.me().practitionerId,
        action: AUDIT_ACTIONS.exported,
        subject: `case:${caseId}`,
        detail: form,
      });
      return { recorded: true as const };
    },
    [COMMANDS.findPatients]: async ({ text, limit }) =>
      ctx
        .unlocked()
        .consult.patients(text, limit ?? 10)
        .map(({ seenAt, ...patient }) => ({ ...patient, seenAt: new Date(seenAt).toISOString() })),
    [COMMANDS.getRequestContent]: async ({ caseId, take }) =>
      ctx.unlocked().consult.requestContent(caseId, take ?? 'request'),
    [COMMANDS.getDraft]: async ({ key }) => {
      const draft = ctx.unlocked().drafts.get(key);
      return draft ? { body: draft.body, savedAt: new Date(draft.savedAt).toISOString() } : {};
    },
    // Writing needs no unlock: the lock keeps what is stored from being read, and the words typed just before the app
    // locked (the screen closing writes them) must not be lost.
    [COMMANDS.saveDraft]: async ({ key, body }) => ({
      savedAt: new Date(ctx.need().drafts.save(key, body)).toISOString(),
    }),
    [COMMANDS.discardDraft]: async ({ key }) => ({ discarded: ctx.unlocked().drafts.discard(key) }),
    [COMMANDS.saveAttachment]: async ({ caseId, ...file }) => {
      const { saveDialog } = ctx.options;
      if (!saveDialog)
        throw new CoreError(API_ERROR_CODES.notAllowed, 'cannot-save-files', 'This workstation cannot save files.');
      const dialog: SaveDialog = {
        // The dialog may stay open for long: a path chosen after the app locked is not written to.
        choosePath: async (fileName) => {
          const chosen = await saveDialog.choosePath(fileName);
          ctx.unlocked();
          return chosen;
        },
      };
      return ctx.unlocked().consult.saveAttachment(caseId, file, dialog, ctx.me().practitionerId);
    },
  };
}
