import { app, BrowserWindow, dialog, Notification, powerMonitor, session } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, EVENTS, type EventPayload } from '../../shared/api/index.ts';
import { resolveLocale, translatorFor, type LanguageChoice, type Translate } from '../../shared/i18n/index.ts';
import { openJsonLinesLogFile, type JsonLinesLogFile } from '../../shared-node/index.ts';
import {
  forkDemoRegion,
  createKeychainVault,
  DEFAULT_VAULT_SERVICE,
  createWorkstationHost,
  type DemoRegionProcess,
  type SaveDialog,
  type WorkstationCore,
} from '../node/index.ts';
import { registerAppScheme, serveRenderer } from './app-protocol.ts';
import { hardenSession, hardenWebContents, secureWebPreferences } from './hardening.ts';
import { caseNotification, escalationNotification, notificationTarget } from './case-notification.ts';
import { wireIpc } from './ipc-bridge.ts';
import { RENDERER_ENTRY_URL } from './renderer-origin.ts';

// The builds of all three processes sit in dist/ under the app's root (package.json "main": dist/main/main.cjs).
const distDir = () => join(app.getAppPath(), 'dist');

let core: WorkstationCore | undefined;
/** The core's and the transport's event codes (never content), one JSON object per line, in the OS's log folder. */
let log: JsonLinesLogFile | undefined;
let mainWindow: BrowserWindow | undefined;
/** OS notifications on screen. */
const shown = new Set<Notification>();

/**
 * A checkout of the project can run the embedded demo region: in a Node process of its own (the project's Node 22,
 * which runs the TypeScript sources). A packaged app has no demo sources and offers only the user's own region.
 */
function demoRegionLauncher(): (() => Promise<DemoRegionProcess>) | undefined {
  const node = join(app.getAppPath(), 'node_modules', '.bin', 'node');
  const script = join(app.getAppPath(), 'demo', 'main.ts');
  if (!existsSync(node) || !existsSync(script)) return undefined;
  return () => forkDemoRegion({ node, script, dataDir: join(app.getPath('userData'), 'demo-region') });
}

/**
 * The system's save dialog, over the main window, starting in the user's downloads folder: the only way a file leaves
 * the app (the session cancels every download). The core writes the file (main/node/files/save-file.ts).
 */
const saveDialog: SaveDialog = {
  choosePath: async (fileName) => {
    const options = { defaultPath: join(app.getPath('downloads'), fileName) };
    const { canceled, filePath } = await (mainWindow
      ? dialog.showSaveDialog(mainWindow, options)
      : dialog.showSaveDialog(options));
    return canceled || !filePath ? undefined : filePath;
  },
};

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

/**
 * Locks the app after the user's idle time (from the settings), and when the screen locks or the machine sleeps. The
 * lock command needs no keychain (a keyring that locks with the screen cannot keep the app open), and when the set-up
 * cannot be read the default idle time applies: the doubt locks.
 */
function watchIdle(workstation: WorkstationCore): void {
  const lockNow = () => void workstation.dispatch(COMMANDS.lock, undefined);
  powerMonitor.on('lock-screen', lockNow);
  powerMonitor.on('suspend', lockNow);
  const check = async () => {
    const setup = await workstation.dispatch(COMMANDS.getSetupState, undefined);
    const { ui, locked } = setup.ok
      ? (setup.value as { ui: { lockAfterMinutes: number }; locked: boolean })
      : { ui: { lockAfterMinutes: 10 }, locked: false };
    if (!locked && powerMonitor.getSystemIdleTime() >= ui.lockAfterMinutes * 60) lockNow();
  };
  setInterval(() => void check(), 15_000).unref();
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
  app.on('will-quit', () => {
    void core?.stop().finally(() => void log?.close());
  });

  void app.whenReady().then(async () => {
    hardenSession(session.defaultSession);
    serveRenderer(join(distDir(), 'renderer'));
    const openDemoRegion = demoRegionLauncher();
    log = openJsonLinesLogFile(join(app.getPath('logs'), 'workstation.jsonl'));
    core = createWorkstationHost({
      logger: log,
      productName: app.getName(),
      version: app.getVersion(),
      dataDir: app.getPath('userData'),
      vault: (region) =>
        createKeychainVault(region === 'demo' ? `${DEFAULT_VAULT_SERVICE}-demo` : DEFAULT_VAULT_SERVICE),
      saveDialog,
      // Bundled beside main.cjs (scripts/electron-bundles.ts): a worker thread runs a file of its own.
      fhirWorker: join(distDir(), 'main', 'base-fhir-worker.cjs'),
      ...(openDemoRegion && { openDemoRegion }),
    });
    wireIpc(core);
    // Notifications speak the language the page speaks: the user's choice in Settings, else the OS's.
    let language: LanguageChoice = 'system';
    const translate = (): Translate => translatorFor(resolveLocale(language, app.getPreferredSystemLanguages()));
    void core.dispatch(COMMANDS.getSetupState, undefined).then((setup) => {
      if (setup.ok) language = (setup.value as EventPayload<typeof EVENTS.setupChanged>).ui.language;
    });
    core.onEvent((event, payload) => {
      if (event === EVENTS.setupChanged) {
        language = (payload as EventPayload<typeof EVENTS.setupChanged>).ui.language;
        return;
      }
      if (event !== EVENTS.caseChanged && event !== EVENTS.caseEscalated) return;
      const text =
        event === EVENTS.caseEscalated
          ? escalationNotification(translate(), payload as EventPayload<typeof EVENTS.caseEscalated>, new Date())
          : caseNotification(translate(), payload as EventPayload<typeof EVENTS.caseChanged>);
      if (!text || !Notification.isSupported()) return;
      const notification = new Notification({ title: text.title, body: text.body, silent: false });
      const target = notificationTarget(
        payload as EventPayload<typeof EVENTS.caseEscalated> | EventPayload<typeof EVENTS.caseChanged>,
      );
      // Held until clicked or closed: a notification nothing refers to is collected, and its click never arrives.
      shown.add(notification);
      notification.on('close', () => shown.delete(notification));
      notification.on('click', () => {
        shown.delete(notification);
        if (!mainWindow) return;
        if (mainWindow.isMinimized()) mainWindow.restore();
        mainWindow.show();
        mainWindow.focus();
        mainWindow.webContents.send(EVENTS.openRequested, target);
      });
      notification.show();
    });
    watchIdle(core);
    mainWindow = createMainWindow();
    await core
      .start()
      .catch((error: unknown) =>
        console.error(`workstation: ${error instanceof Error ? error.message : String(error)}`),
      );
  });
}
