import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createRtsApi } from './bridge.ts';
import { RTS_API_GLOBAL } from './rts-api.ts';

// Sandboxed preload: bundled into one file, so it needs nothing but `electron` at run time.
contextBridge.exposeInMainWorld(
  RTS_API_GLOBAL,
  createRtsApi({
    invoke: (channel, input) => ipcRenderer.invoke(channel, input),
    on: (channel, listener) => {
      const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, wrapped);
      return () => ipcRenderer.removeListener(channel, wrapped);
    },
  }),
);
