import { test as base, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorkstationCore, type WorkstationCore, type WorkstationCoreOptions } from '../../main/node/workstation-core.ts';
import { startRendererServer } from './renderer-server.ts';

const RENDERER_DIR = join(import.meta.dirname, '..', '..', 'dist', 'renderer');

let pageBridgeScript: Promise<string> | undefined;

/** The page-side bridge, bundled once per worker from the real preload/bridge.ts. */
function bundlePageBridge(): Promise<string> {
  pageBridgeScript ??= build({
    entryPoints: [join(import.meta.dirname, 'page-bridge.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome140',
  }).then((result) => result.outputFiles[0]!.text);
  return pageBridgeScript;
}

export interface OpenedWorkstation {
  core: WorkstationCore;
  page: Page;
}

/**
 * Opens the built renderer in Chromium wired to a real workstation core running in this Node process: the page calls
 * the core through a binding exactly where Electron would use IPC, and core events are delivered into the page.
 */
/** The data directory is a fresh temporary one unless the test names its own. */
export type HarnessCoreOptions = Omit<WorkstationCoreOptions, 'dataDir'> & { readonly dataDir?: string };

export const test = base.extend<{ openWorkstation: (options: HarnessCoreOptions) => Promise<OpenedWorkstation> }>({
  openWorkstation: async ({ page, browser }, use) => {
    if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`${RENDERER_DIR} is missing: run 'npm run build' first`);
    const server = await startRendererServer(RENDERER_DIR);
    const cores: WorkstationCore[] = [];
    const dataDirs: string[] = [];
    await use(async (options) => {
      const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rts-e2e-'));
      if (!options.dataDir) dataDirs.push(dataDir);
      const core = createWorkstationCore({ ...options, dataDir });
      cores.push(core);
      // The first workstation uses the test's page; each further one (another clinician) gets a window of its own.
      const ownPage = cores.length === 1 ? page : await browser.newContext({ viewport: { width: 1280, height: 800 } }).then((c) => c.newPage());
      await ownPage.exposeBinding('__rtsHarnessInvoke', (_source, channel: unknown, input: unknown) => core.dispatch(channel, input));
      core.onEvent((event, payload) => {
        void ownPage.evaluate(([e, p]) => window.__rtsHarnessDeliver(e, p), [event, payload] as const).catch(() => undefined);
      });
      await ownPage.addInitScript({ content: await bundlePageBridge() });
      await ownPage.goto(server.url);
      await core.start();
      return { core, page: ownPage };
    });
    await Promise.all(cores.map((core) => core.stop()));
    await server.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  },
});

export { expect } from '@playwright/test';
