import { COMMANDS, API_ERROR_CODES } from '../../../shared/api/index.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { AUDIT_ACTIONS } from '../audit/audit-log.ts';
import { CoreError } from '../core-error.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

type LockCommands = Pick<
  CommandHandlers,
  typeof COMMANDS.lock | typeof COMMANDS.unlock | typeof COMMANDS.setLockPassphrase | typeof COMMANDS.setLockPolicy
>;

/** The app lock: locking, unlocking, its passphrase and whether one is required. */
export function lockCommands(ctx: CoreContext, views: StateViews): LockCommands {
  const { lock } = ctx;
  return {
    [COMMANDS.lock]: async () => {
      if (!lock.lock())
        throw new CoreError(
          API_ERROR_CODES.notConfigured,
          'lock-passphrase-not-set',
          'Set a lock passphrase in the settings first.',
        );
      ctx.parts?.audit.append({
        actor: ctx.parts.identity.practitionerId() ?? 'system',
        action: AUDIT_ACTIONS.locked,
        subject: 'app',
      });
      return { locked: true };
    },
    [COMMANDS.unlock]: async ({ passphrase }) => {
      await lock.unlock(passphrase);
      ctx.parts?.audit.append({
        actor: ctx.parts.identity.practitionerId() ?? 'system',
        action: AUDIT_ACTIONS.unlocked,
        subject: 'app',
      });
      return { locked: false };
    },
    [COMMANDS.setLockPassphrase]: async ({ passphrase, current }) => {
      await lock.setPassphrase(passphrase, current);
      await views.setupChanged();
      return { locked: lock.locked };
    },
    [COMMANDS.setLockPolicy]: async ({ policy, current }) => {
      if (policy === 'optional' && ctx.lockPolicy === 'required') await lock.confirm(current, 'make-optional');
      ctx.settings.setLockPolicy(policy);
      ctx.lockPolicy = policy;
      return views.setupChanged();
    },
  };
}
