import { app, BrowserWindow, session } from 'electron';
import { join } from 'node:path';
import { createKeytarVault } from '../node/vault/keytar-vault.ts';
import { createWorkstationCore, type WorkstationCore } from '../node/workstation-core.ts';
import { registerAppScheme, serveRenderer } from './app-protocol.ts';
import { hardenSession, hardenWebContents, secureWebPreferences } from './hardening.ts';
import { wireIpc } from './ipc-bridge.ts';
import { RENDERER_ENTRY_URL } from './renderer-origin.ts';

// The builds of all three processes sit in dist/ under the app's root (package.json "main": dist/main/main.cjs).
const distDir = () => join(app.getAppPath(), 'dist');

let core: WorkstationCore | undefined;
let mainWindow: BrowserWindow | undefined;

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'RTS Workstation',
    webPreferences: secureWebPreferences(join(distDir(), 'preload', 'preload.cjs')),
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(RENDERER_ENTRY_URL);
  return window;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  registerAppScheme();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow();
  });
  app.on('will-quit', () => void core?.stop());

  void app.whenReady().then(async () => {
    hardenSession(session.defaultSession);
    serveRenderer(join(distDir(), 'renderer'));
    core = createWorkstationCore({ productName: app.getName(), version: app.getVersion(), vault: createKeytarVault() });
    wireIpc(core);
    mainWindow = createMainWindow();
    await core.start();
  });
}
