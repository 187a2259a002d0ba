import { describe, expect, it } from 'vitest';
import {
  appDependencyProblems,
  packageOf,
  packagesReached,
  readAppPackage,
  readBuilderConfig,
  readRootPackage,
  runtimeSpecifiers,
  type AppPackage,
} from './app-dependencies.ts';

/** The packaged app's own dependency list (issue 23 item 6): the packager cannot run here, so this is its check. */
let project: Parameters<typeof appDependencyProblems>[0] | undefined;
const actual = () =>
  (project ??= {
    reached: packagesReached(),
    app: readAppPackage(),
    root: readRootPackage(),
    builder: readBuilderConfig(),
  });

describe('the packaged app', () => {
  it('lists every package its code imports, nothing else, and electron-builder.yml packages that list', () => {
    expect(appDependencyProblems(actual())).toEqual([]);
  });

  it('ships neither PGlite nor pg nor a package only the CLI, hub, connector or tooling use', () => {
    const { app } = actual();
    const listed = [...Object.keys(app.dependencies ?? {}), ...Object.keys(app.devDependencies ?? {})];
    for (const name of [
      '@electric-sql/pglite',
      'pg',
      'commander',
      'csv-parse',
      'yaml',
      'ajv',
      'vitest',
      'typescript',
      'esbuild',
    ])
      expect(listed).not.toContain(name);
    // The native modules the main process loads at run time are shipped as packages, not bundled.
    expect(Object.keys(app.dependencies ?? {})).toEqual(
      expect.arrayContaining(['better-sqlite3-multiple-ciphers', '@napi-rs/keyring']),
    );
  });
});

describe('appDependencyProblems', () => {
  const reached = new Map([
    ['zod', 'shared/a.ts'],
    ['keytar', 'main/node/b.ts'],
    ['electron', 'main/electron/main.ts'],
  ]);
  const root: AppPackage = {
    name: 'app',
    version: '1.0.0',
    main: 'dist/main/main.cjs',
    dependencies: { zod: '^4', keytar: '^7', pg: '^8' },
  };
  const app: AppPackage = {
    name: 'app',
    version: '1.0.0',
    main: 'dist/main/main.cjs',
    dependencies: { keytar: '^7' },
    devDependencies: { zod: '^4' },
  };
  const builder = {
    directories: { app: 'packaging/app' },
    files: ['package.json', { from: '../../dist', to: 'dist' }],
  };

  it('finds nothing wrong with a list that matches', () => {
    expect(appDependencyProblems({ reached, app, root, builder })).toEqual([]);
  });

  it('names a package the app imports that the list lacks', () => {
    expect(
      appDependencyProblems({ reached: new Map([...reached, ['rhea', 'transport/c.ts']]), app, root, builder }),
    ).toEqual(['rhea (imported by transport/c.ts) is missing from packaging/app/package.json']);
  });

  it('refuses the hub database packages and any package the app does not import', () => {
    const problems = appDependencyProblems({
      reached,
      app: { ...app, dependencies: { keytar: '^7', pg: '^8' }, devDependencies: { zod: '^4', commander: '^15' } },
      root,
      builder,
    });
    expect(problems).toContain("pg is the hub's and must not be in packaging/app/package.json");
    expect(problems).toContain(
      'commander is in packaging/app/package.json, but the app does not import it (a package of the CLI, hub, connector or tooling?)',
    );
    expect(
      appDependencyProblems({
        reached,
        app: { ...app, dependencies: { keytar: '^7', electron: '^45' } },
        root,
        builder,
      }),
    ).toContain('electron is the runtime the packager supplies, not a dependency of the app');
  });

  it('refuses a version or an entry point that differs from the project', () => {
    expect(appDependencyProblems({ reached, app: { ...app, devDependencies: { zod: '^3' } }, root, builder })).toEqual([
      'zod: packaging/app/package.json asks for ^3, the project for ^4',
    ]);
    expect(appDependencyProblems({ reached, app: { ...app, main: 'main.js' }, root, builder })).toEqual([
      'packaging/app/package.json "main" is main.js, the project\'s dist/main/main.cjs',
    ]);
  });

  it('refuses an electron-builder.yml that does not package the list and the builds', () => {
    expect(appDependencyProblems({ reached, app, root, builder: { files: ['dist/**', 'package.json'] } })).toEqual([
      'electron-builder.yml: directories.app must be packaging/app (is undefined)',
      'electron-builder.yml: files must copy ../../dist to dist (the builds)',
    ]);
  });
});

describe('the import walk', () => {
  it('counts run-time imports, re-exports and dynamic imports, not type-only ones', () => {
    const text = [
      "import { z } from 'zod';",
      "import type { Bundle } from '@medplum/fhirtypes';",
      "export { x } from './x.ts';",
      "export type { Y } from '@types/y';",
      "const m = await import('keytar');",
      "import 'uplot/dist/uPlot.min.css';",
    ].join('\n');
    expect(runtimeSpecifiers('a.ts', text)).toEqual(['zod', './x.ts', 'keytar', 'uplot/dist/uPlot.min.css']);
    expect([
      packageOf('@medplum/core/sub'),
      packageOf('uplot/dist/x.css'),
      packageOf('node:fs'),
      packageOf('fs'),
      packageOf('./a.ts'),
    ]).toEqual(['@medplum/core', 'uplot', undefined, undefined, undefined]);
  });

  it('follows the app from its entries into main/node, transport and shared, and never into the hub', () => {
    const reached = packagesReached();
    expect(reached.get('better-sqlite3-multiple-ciphers')).toBe('transport/sqlite-database.ts');
    expect(reached.has('react')).toBe(true);
    expect(reached.has('@electric-sql/pglite')).toBe(false);
  });
});
