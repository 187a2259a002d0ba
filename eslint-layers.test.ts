import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Lint virtual files with the project's config; type-aware rules are off because the files do not exist on disk.
const eslint = new ESLint({
  overrideConfig: [
    tseslint.configs.disableTypeChecked,
    { languageOptions: { parserOptions: { projectService: false } } },
  ],
});

async function layerMessages(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter(
    (m) => m.fatal || m.ruleId === 'rts/layers' || m.ruleId === 'no-restricted-globals',
  );
}

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  return (await layerMessages(filePath, code)).map((m) => m.message);
}

// A non-test file of each product layer, and the way from it back to the repository root.
const PRODUCT_FILES = [
  ['shared/x.ts', '../'],
  ['shared-node/x.ts', '../'],
  ['transport/x.ts', '../'],
  ['main/node/x.ts', '../../'],
  ['main/electron/x.ts', '../../'],
  ['preload/x.ts', '../'],
  ['renderer/x.tsx', '../'],
  ['hub/x.ts', '../'],
  ['connector/x.ts', '../'],
] as const;

describe('layer direction lint rule', () => {
  it.each([
    ['shared/x.ts', `import { readFileSync } from 'node:fs';`],
    ['shared/x.ts', `import { createHash } from 'crypto';`],
    ['shared/x.ts', `import { x } from '../main/node/x.ts';`],
    ['shared/x.ts', `export const w = window.location;`],
    ['shared/x.ts', `export const b = Buffer.from('a');`],
    ['shared/x.ts', `export const d = document.title;`],
    ['shared/x.ts', `export const f = fetch('https://example.org');`],
    ['main/node/x.ts', `import { app } from 'electron';`],
    ['main/node/x.ts', `import { wireIpc } from '../electron/ipc-bridge.ts';`],
    ['main/node/x.ts', `import { x } from '../../hub/x.ts';`],
    ['hub/x.ts', `import { x } from '../main/node/x.ts';`],
    ['hub/x.ts', `import { app } from 'electron';`],
    ['hub/x.ts', `import { x } from '../cli/x.ts';`],
    ['shared/cms/x.test.ts', `import { x } from '../../main/node/x.ts';`],
    ['cli/x.ts', `import { app } from 'electron';`],
    ['preload/x.ts', `import { readFileSync } from 'node:fs';`],
    ['preload/x.ts', `import { x } from '../main/node/x.ts';`],
    ['renderer/x.ts', `import { x } from '../main/node/workstation-core.ts';`],
    ['renderer/x.ts', `import { createRtsApi } from '../preload/bridge.ts';`],
    ['renderer/x.ts', `import { ipcRenderer } from 'electron';`],
    ['renderer/x.ts', `import { join } from 'node:path';`],
    ['renderer/x.ts', `import rhea from 'rhea';`],
    ['shared/x.ts', `import { x } from '../shared-node/x.ts';`],
    ['shared-node/x.ts', `import { x } from '../hub/x.ts';`],
    ['shared-node/x.ts', `import { x } from '../main/node/x.ts';`],
    ['renderer/x.ts', `import { x } from '../shared-node/x.ts';`],
    ['connector/x.ts', `import { x } from '../hub/x.ts';`],
    ['connector/x.ts', `import { x } from '../cli/x.ts';`],
    ['connector/x.ts', `import { app } from 'electron';`],
    ['main/node/x.ts', `import { x } from '../../connector/x.ts';`],
    ['hub/x.ts', `import { x } from '../connector/x.ts';`],
    // The leaks of the former deny-list (issue 23): tooling reached from product code, Node-only packages in pure layers.
    ['main/node/x.ts', `import { startDemoRegion } from '../../demo/demo-region.ts';`],
    ['hub/x.ts', `import { startRegionHarness } from '../integration/testing/region-harness.ts';`],
    ['shared/x.ts', `import pg from 'pg';`],
    ['shared/x.ts', `import Conf from 'conf';`],
    ['shared/x.ts', `import { PGlite } from '@electric-sql/pglite';`],
    ['preload/x.ts', `import pg from 'pg';`],
    ['preload/x.ts', `import Conf from 'conf';`],
    ['preload/x.ts', `import { PGlite } from '@electric-sql/pglite';`],
    // Every way of naming a module is judged, types included.
    ['hub/x.ts', `export { x } from '../demo/x.ts';`],
    ['hub/x.ts', `export * from '../bench/x.ts';`],
    ['main/node/x.ts', `export const m = await import('../../faults/x.ts');`],
    ['shared/x.ts', `import type { HubConfig } from '../hub/hub-config.ts';`],
    ['shared/x.ts', `import type { Pool } from 'pg';`],
    ['shared/x.ts', `export type P = import('pg').Pool;`],
    ['main/electron/x.ts', `import { x } from '../../transport/x.ts';`],
    // Packages by class: DOM-only outside the renderer, Node-only in it, test tools in shipped code, unclassified anywhere.
    ['main/node/x.ts', `import { useState } from 'react';`],
    ['hub/x.ts', `import uPlot from 'uplot';`],
    ['shared/x.ts', `import { useVirtualizer } from '@tanstack/react-virtual';`],
    ['preload/x.ts', `import { createRoot } from 'react-dom/client';`],
    ['cli/x.ts', `import { createRoot } from 'react-dom/client';`],
    ['renderer/x.tsx', `import pg from 'pg';`],
    ['renderer/x.tsx', `import Database from 'better-sqlite3-multiple-ciphers';`],
    ['main/node/x.ts', `import { vi } from 'vitest';`],
    ['main/node/x.ts', `import leftPad from 'left-pad';`],
    ['bench/x.ts', `import leftPad from 'left-pad';`],
    ['demo/x.ts', `import { app } from 'electron';`],
    // A package's folder classed apart: pdf.js's Node build is a test tool, its page build DOM-only.
    ['renderer/x.tsx', `import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';`],
    ['e2e/x.ts', `import { getDocument } from 'pdfjs-dist/build/pdf.mjs';`],
    // The test kit imports only what it needs to build a region; nothing reaches outside the layers.
    ['testkit/x.ts', `import { x } from '../renderer/x.ts';`],
    ['hub/x.ts', `import config from '../vite.config.ts';`],
    ['tools/x.ts', `export const x = 1;`],
    // Another layer is reached through its entry points only (ENTRIES), never a file inside it.
    ['main/node/x.ts', `import { ok } from '../../shared/api/result.ts';`],
    ['renderer/x.ts', `import type { RtsApi } from '../preload/rts-api.ts';`],
    ['connector/x.ts', `import { x } from '../main/node/consult/consult-service.ts';`],
    ['hub/x.ts', `import { x } from '../transport/outbox-sender.ts';`],
    ['cli/x.ts', `export { y } from '../hub/hub-config.ts';`],
    ['demo/x.ts', `import { createTestRegion } from '../testkit/test-region.ts';`],
    ['hub/x.test.ts', `import { startTestBroker } from '../scripts/test-env/broker-env.ts';`],
  ])('refuses in %s: %s', async (file, code) => {
    expect(await layerErrors(file, code)).not.toEqual([]);
  });

  it.each([
    ['shared/x.ts', `import { z } from 'zod';`],
    ['shared/x.ts', `export const k = crypto.subtle; export const t = new TextEncoder();`],
    ['main/node/x.ts', `import { readFileSync } from 'node:fs'; import { ok } from '../../shared/api/index.ts';`],
    ['main/electron/x.ts', `import { app } from 'electron'; import { x } from '../node/index.ts';`],
    ['preload/x.ts', `import { contextBridge } from 'electron'; import { COMMANDS } from '../shared/api/index.ts';`],
    ['renderer/x.ts', `import type { RtsApi } from '../preload/index.ts'; import { useState } from 'react';`],
    ['shared/cms/x.test.ts', `import { spawnSync } from 'node:child_process'; import { seal } from './x.ts';`],
    [
      'cli/x.ts',
      `import { readFileSync } from 'node:fs'; import { x } from '../main/node/index.ts'; import { y } from '../hub/index.ts';`,
    ],
    [
      'shared-node/x.ts',
      `import { X509Certificate } from 'node:crypto'; import { OID } from '../shared/cms/index.ts';`,
    ],
    ['hub/x.ts', `import { x } from '../shared-node/index.ts';`],
    ['main/node/x.ts', `import { x } from '../../shared-node/index.ts';`],
    ['connector/x.ts', `import { x } from '../main/node/index.ts'; import { y } from '../transport/index.ts';`],
    ['connector/x.test.ts', `import { createTestRegion } from '../testkit/index.ts';`],
    [
      'hub/x.test.ts',
      `import { createTestRegion } from '../testkit/index.ts'; import { startTestBroker } from '../scripts/test-env/index.ts'; import { it } from 'vitest';`,
    ],
    ['main/node/x.test.ts', `import fc from 'fast-check'; import Database from 'better-sqlite3-multiple-ciphers';`],
    ['shared/x.test.ts', `import rhea from 'rhea'; import { toRheaMessage } from '../transport/index.ts';`],
    ['demo/x.ts', `import { createTestRegion } from '../testkit/index.ts'; import { x } from '../cli/x.ts';`],
    [
      'integration/x.ts',
      `import { createTestRegion } from '../testkit/index.ts'; import { x } from '../connector/index.ts';`,
    ],
    ['faults/x.ts', `import { createTestRegion } from '../testkit/index.ts';`],
    [
      'badinput/x.ts',
      `import { createTestRegion } from '../testkit/index.ts'; import { y } from '../integration/testing/y.ts';`,
    ],
    [
      'bench/x.ts',
      `import { createTestRegion } from '../testkit/index.ts'; import { chromium } from '@playwright/test';`,
    ],
    ['scripts/x.ts', `import { createTestRegion } from '../testkit/index.ts'; import { build } from 'esbuild';`],
    [
      'e2e/x.spec.ts',
      `import { x } from '../preload/index.ts'; import { y } from '../integration/testing/region-harness.ts';`,
    ],
    ['testkit/x.ts', `import type { HubConfig } from '../hub/index.ts'; import rhea from 'rhea';`],
    ['hub/x.ts', `import pg from 'pg'; import { PGlite } from '@electric-sql/pglite'; export type { Pool } from 'pg';`],
    ['main/node/x.ts', `import Conf from 'conf'; import { Entry } from '@napi-rs/keyring';`],
    [
      'renderer/x.tsx',
      `import uPlot from 'uplot'; import { useVirtualizer } from '@tanstack/react-virtual'; import { createRoot } from 'react-dom/client';`,
    ],
    [
      'renderer/x.tsx',
      `import { getDocument } from 'pdfjs-dist'; import worker from 'pdfjs-dist/build/pdf.worker.min.mjs?url';`,
    ],
    ['e2e/x.ts', `import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';`],
  ])('allows in %s: %s', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });

  it.each(PRODUCT_FILES)('refuses the test kit in product code (%s)', async (file, root) => {
    expect(await layerErrors(file, `import { createTestRegion } from '${root}testkit/test-region.ts';`)).not.toEqual(
      [],
    );
  });

  it('classifies every runtime dependency in package.json', async () => {
    const { dependencies } = JSON.parse(readFileSync(new URL('package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const code = Object.keys(dependencies)
      .map((name) => `import '${name}';`)
      .join('\n');
    const unclassified = (await layerMessages('scripts/x.ts', code)).filter((m) => m.messageId === 'unclassified');
    expect(unclassified.map((m) => m.message)).toEqual([]);
    expect(Object.keys(dependencies).length).toBeGreaterThan(10);
  });

  it('names the layer reached and what the importer may import', async () => {
    expect(await layerErrors('hub/x.ts', `import { x } from '../integration/x.ts';`)).toEqual([
      'hub/ may not import integration/ (allowed: shared/, transport/, shared-node/).',
    ]);
    expect(await layerErrors('shared/x.ts', `import pg from 'pg';`)).toEqual([
      "'pg' is Node-only; shared/ may use pure packages only.",
    ]);
    expect(await layerErrors('hub/x.ts', `import { x } from '../transport/outbox-sender.ts';`)).toEqual([
      "'../transport/outbox-sender.ts' reaches into transport/: import it from transport/index.ts (add it there if it is missing).",
    ]);
  });

  it('keeps files under main/node/, hub/ and transport/ to 400 lines, and only there', async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const a${i} = ${i};`).join('\n') + '\n';
    const maxLines = async (file: string, code: string) =>
      ((await eslint.lintText(code, { filePath: file }))[0]?.messages ?? []).filter((m) => m.ruleId === 'max-lines');
    expect(await maxLines('hub/x.ts', lines(401))).toHaveLength(1);
    expect(await maxLines('main/node/x.ts', lines(401))).toHaveLength(1);
    expect(await maxLines('transport/x.ts', lines(400))).toHaveLength(0);
    expect(await maxLines('connector/x.ts', lines(401))).toHaveLength(0);
  });

  it('lets a layer reach its own files deeply, and tooling reach tooling deeply', async () => {
    expect(await layerErrors('main/node/x.ts', `import { x } from './consult/consult-service.ts';`)).toEqual([]);
    expect(await layerErrors('bench/x.ts', `import { y } from '../integration/testing/region-harness.ts';`)).toEqual(
      [],
    );
  });
});
