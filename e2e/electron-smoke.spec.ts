import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Starts the real Electron app. Where no Electron binary is installed (it cannot be downloaded on our build
 * machines) the test is skipped and says so; every feature it touches is also tested through the browser harness.
 */
const electronDir = join(import.meta.dirname, '..', 'node_modules', 'electron');
const pathFile = join(electronDir, 'path.txt');
const binary = existsSync(pathFile) ? join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()) : undefined;

test('the Electron app opens one hardened window on the app frame', async () => {
  const missing = !binary || !existsSync(binary);
  const reason =
    'No Electron binary installed (node_modules/electron/dist): Electron cannot be downloaded on this machine.';
  if (missing) console.log(`electron smoke test skipped: ${reason}`);
  test.skip(missing, reason);
  const app = await electron.launch({ executablePath: binary, args: [join(import.meta.dirname, '..')] });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('heading', { level: 1 })).toHaveText('RTS Workstation');
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    // No Node in the page, and the bridge is the only thing the preload added.
    const globals = await window.evaluate(() => {
      const g = globalThis as { require?: unknown; process?: unknown; rts?: object };
      return { require: typeof g.require, process: typeof g.process, rts: g.rts ? Object.keys(g.rts).sort() : [] };
    });
    expect(globals).toEqual({ require: 'undefined', process: 'undefined', rts: ['invoke', 'on'] });
  } finally {
    await app.close();
  }
});
