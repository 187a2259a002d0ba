import { test as base, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryVault,
  createWorkstationHost,
  type DemoRegionProcess,
  type WorkstationCore,
  type WorkstationCoreOptions,
} from '../../main/node/index.ts';
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
 * The data directory is a fresh temporary one unless the test names its own. `vault` is the own region's keychain;
 * with `openDemoRegion` the workstation can also run the demo region (its keychain then lives in memory).
 */
export type HarnessCoreOptions = Omit<WorkstationCoreOptions, 'dataDir'> & {
  readonly dataDir?: string;
  readonly openDemoRegion?: () => Promise<DemoRegionProcess>;
};

/**
 * Opens the built renderer in Chromium wired to a real workstation (the host and its core, as the Electron shell
 * creates them) running in this Node process: the page calls it through a binding exactly where Electron would use
 * IPC, and its events are delivered into the page.
 */
export const test = base.extend<{ openWorkstation: (options: HarnessCoreOptions) => Promise<OpenedWorkstation> }>({
  openWorkstation: async ({ page, browser }, use) => {
    if (!existsSync(join(RENDERER_DIR, 'index.html')))
      throw new Error(`${RENDERER_DIR} is missing: run 'npm run build' first`);
    const server = await startRendererServer(RENDERER_DIR);
    const cores: WorkstationCore[] = [];
    const dataDirs: string[] = [];
    await use(async (options) => {
      const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'rts-e2e-'));
      if (!options.dataDir) dataDirs.push(dataDir);
      const demoVault = createMemoryVault();
      const core = createWorkstationHost({
        ...options,
        dataDir,
        vault: (region) => (region === 'demo' ? demoVault : options.vault),
      });
      cores.push(core);
      // The first workstation uses the test's page; each further one (another clinician) gets a window of its own.
      const ownPage =
        cores.length === 1
          ? page
          : await browser.newContext({ viewport: { width: 1280, height: 800 } }).then((c) => c.newPage());
      await ownPage.exposeBinding('__rtsHarnessInvoke', (_source, channel: unknown, input: unknown) =>
        core.dispatch(channel, input),
      );
      core.onEvent((event, payload) => {
        void ownPage
          .evaluate(([e, p]) => window.__rtsHarnessDeliver(e, p), [event, payload] as const)
          .catch(() => undefined);
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
