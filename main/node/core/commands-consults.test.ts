import { describe, expect, it, vi } from 'vitest';
import { API_ERROR_CODES, COMMANDS } from '../../../shared/api/index.ts';
import { CoreError } from '../core-error.ts';
import type { SaveDialog } from '../files/save-file.ts';
import { consultCommands } from './commands-consults.ts';
import type { CoreContext } from './core-context.ts';

const CASE = '00000000-0000-4000-8000-000000000001';

/**
 * The save command around the consult service's saveAttachment (consult-service.test.ts writes real files): who saves,
 * a workstation without a save dialog, and the app locking while the dialog is open.
 */
function saving(options: { dialog?: SaveDialog; lockWhileChoosing?: boolean }) {
  let locked = false;
  const saveAttachment = vi.fn(async (_caseId: string, _file: unknown, dialog: SaveDialog, _savedBy: string) => {
    const chosen = await dialog.choosePath('a.pdf');
    return chosen ? { saved: true as const, folder: '/chosen', fileName: 'a.pdf' } : { saved: false as const };
  });
  const ctx = {
    options: {
      ...(options.dialog && {
        saveDialog: {
          choosePath: async (fileName: string) => {
            if (options.lockWhileChoosing) locked = true;
            return options.dialog!.choosePath(fileName);
          },
        },
      }),
    },
    unlocked: () => {
      if (locked) throw new CoreError(API_ERROR_CODES.locked, 'workstation-locked', 'The workstation is locked.');
      return { consult: { saveAttachment } };
    },
    me: () => ({ practitionerId: 'clinic-b.dr-berg', endpointId: 'ws-applicant-1' }),
  } as unknown as CoreContext;
  return { save: consultCommands(ctx)[COMMANDS.saveAttachment], saveAttachment };
}

describe('saving a case file', () => {
  it("saves as the workstation's practitioner, through the shell's dialog", async () => {
    const { save, saveAttachment } = saving({ dialog: { choosePath: async (name) => `/chosen/${name}` } });
    expect(await save({ caseId: CASE, index: 2 })).toEqual({ saved: true, folder: '/chosen', fileName: 'a.pdf' });
    expect(saveAttachment).toHaveBeenCalledWith(CASE, { index: 2 }, expect.anything(), 'clinic-b.dr-berg');
  });

  it('is refused where the shell offers no save dialog', async () => {
    const { save, saveAttachment } = saving({});
    await expect(save({ caseId: CASE, index: 0 })).rejects.toMatchObject({ code: API_ERROR_CODES.notAllowed });
    expect(saveAttachment).not.toHaveBeenCalled();
  });

  it('writes nothing to a path chosen after the app locked', async () => {
    const { save } = saving({ dialog: { choosePath: async (name) => `/chosen/${name}` }, lockWhileChoosing: true });
    await expect(save({ caseId: CASE, index: 0 })).rejects.toMatchObject({ code: API_ERROR_CODES.locked });
  });
});
