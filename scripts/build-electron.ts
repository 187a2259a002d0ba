/** Bundles the Electron main process, its base FHIR validation worker and the preload (scripts/electron-bundles.ts). */
import { build } from 'esbuild';
import { electronBundles } from './electron-bundles.ts';

const bundles = electronBundles('dist');
await Promise.all(Object.values(bundles).map((options) => build(options)));
console.log(
  `built ${Object.values(bundles)
    .map((b) => b.outfile)
    .join(', ')}`,
);
