import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { COMMANDS, API_ERROR_CODES, apiError, err } from '../../shared/api/index.ts';
import type { WorkstationCore } from '../node/index.ts';
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
        : err(
            apiError(API_ERROR_CODES.forbiddenSender, 'forbidden-sender', 'This page may not use the workstation API.'),
          ),
    );
  }
  core.onEvent((event, payload) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(event, payload);
  });
}
