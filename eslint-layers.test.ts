import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Lint virtual files with the project's config; type-aware rules are off because the files do not exist on disk.
const eslint = new ESLint({
  overrideConfig: [tseslint.configs.disableTypeChecked, { languageOptions: { parserOptions: { projectService: false } } }],
});

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.fatal || m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

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
  ])('refuses in %s: %s', async (file, code) => {
    expect(await layerErrors(file, code)).not.toEqual([]);
  });

  it.each([
    ['shared/x.ts', `import { z } from 'zod';`],
    ['shared/x.ts', `export const k = crypto.subtle; export const t = new TextEncoder();`],
    ['main/node/x.ts', `import { readFileSync } from 'node:fs'; import { ok } from '../../shared/api/result.ts';`],
    ['main/electron/x.ts', `import { app } from 'electron'; import { x } from '../node/workstation-core.ts';`],
    ['preload/x.ts', `import { contextBridge } from 'electron'; import { COMMANDS } from '../shared/api/channels.ts';`],
    ['renderer/x.ts', `import type { RtsApi } from '../preload/rts-api.ts'; import { useState } from 'react';`],
    ['shared/cms/x.test.ts', `import { spawnSync } from 'node:child_process'; import { seal } from './x.ts';`],
    ['cli/x.ts', `import { readFileSync } from 'node:fs'; import { x } from '../main/node/x.ts'; import { y } from '../hub/y.ts';`],
    ['shared-node/x.ts', `import { X509Certificate } from 'node:crypto'; import { OID } from '../shared/cms/oids.ts';`],
    ['hub/x.ts', `import { x } from '../shared-node/x.ts';`],
    ['main/node/x.ts', `import { x } from '../../shared-node/x.ts';`],
    ['connector/x.ts', `import { x } from '../main/node/consult/consult-service.ts'; import { y } from '../transport/y.ts';`],
    ['connector/x.test.ts', `import { createTestRegion } from '../hub/testing/test-region.ts';`],
  ])('allows in %s: %s', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
