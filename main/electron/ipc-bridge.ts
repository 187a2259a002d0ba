import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { COMMANDS } from '../../shared/api/channels.ts';
import { API_ERROR_CODES, apiError } from '../../shared/api/api-error.ts';
import { err } from '../../shared/api/result.ts';
import type { WorkstationCore } from '../node/workstation-core.ts';
import { isAppUrl } from './renderer-origin.ts';

/** Only the top frame of one of our windows, showing our own page, may call the core. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  const window = BrowserWindow.fromWebContents(event.sender);
  return window !== null && isAppUrl(frame.url);
}

export function wireIpc(core: WorkstationCore): void {
  for (const channel of Object.values(COMMANDS)) {
    ipcMain.handle(channel, (event, input: unknown) =>
      isTrustedSender(event)
        ? core.dispatch(channel, input)
        : err(apiError(API_ERROR_CODES.forbiddenSender, 'This page may not use the workstation API.')),
    );
  }
  core.onEvent((event, payload) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(event, payload);
  });
}
