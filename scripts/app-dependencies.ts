/**
 * The packaged app's own dependency list (packaging/app/package.json, electron-builder's two-package.json layout) and
 * the check that keeps it true, since the packager cannot run on our build machines: every npm package the app's code
 * reaches from its entry points is listed, nothing else is, and electron-builder.yml packages that directory. The
 * list's `dependencies` are the packages the installer ships in node_modules (native modules, and packages that read
 * files beside their code): the only ones the main-process bundle leaves external (scripts/build-electron.ts). Its
 * `devDependencies` are bundled into dist/ by esbuild and Vite and ship as part of the bundles, not as packages.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '..');
/** Where the app's package.json lives; electron-builder.yml's `directories.app`. */
export const APP_DIR = 'packaging/app';
/** The app's three processes: the Electron main process, the preload bridge and the page. */
export const APP_ENTRIES = ['main/electron/main.ts', 'preload/preload.ts', 'renderer/main.tsx'];
/** The Electron runtime itself: the packager supplies it, and it must not be a dependency of the app. */
const RUNTIME = 'electron';
/** Packages of the hub (its database) that must never reach a workstation, whatever imports them. */
export const NEVER_SHIPPED = ['@electric-sql/pglite', 'pg', '@types/pg'];

export interface AppPackage {
  readonly name?: string;
  readonly version?: string;
  readonly main?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
export const readAppPackage = (root = ROOT): AppPackage => readJson(join(root, APP_DIR, 'package.json'));
export const readRootPackage = (root = ROOT): AppPackage => readJson(join(root, 'package.json'));
export const readBuilderConfig = (root = ROOT): unknown =>
  parseYaml(readFileSync(join(root, 'electron-builder.yml'), 'utf8'));

/** The npm package a module specifier names, or undefined for a relative path or a Node built-in. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  if (builtinModules.includes(parts[0]!)) return undefined;
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The module specifiers a file loads at run time: imports and re-exports that are not type-only, and dynamic imports. */
export function runtimeSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    false,
    fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier))
      found.push(node.moduleSpecifier.text);
    else if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      found.push(node.moduleSpecifier.text);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      found.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Every npm package the app's code reaches from its entries, following relative imports of TypeScript files (a
 * stylesheet or asset is the bundler's, not a package), each with the first file that imports it.
 */
export function packagesReached(root = ROOT, entries = APP_ENTRIES): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = entries.map((entry) => join(root, entry));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of runtimeSpecifiers(file, readFileSync(file, 'utf8'))) {
      const name = packageOf(specifier.split('?')[0]!);
      if (name !== undefined) {
        if (!packages.has(name)) packages.set(name, relative(root, file));
      } else if (specifier.startsWith('.') && /\.tsx?$/.test(specifier)) {
        const target = resolve(dirname(file), specifier);
        if (!existsSync(target)) throw new Error(`${relative(root, file)}: imports ${specifier}, which does not exist`);
        pending.push(target);
      }
    }
  }
  return packages;
}

/** What is wrong with the app's dependency list, electron-builder.yml and the bundling, in words; empty when nothing. */
export function appDependencyProblems(input: {
  readonly reached: ReadonlyMap<string, string>;
  readonly app: AppPackage;
  readonly root: AppPackage;
  readonly builder: unknown;
}): string[] {
  const problems: string[] = [];
  const shipped = Object.keys(input.app.dependencies ?? {});
  const bundled = Object.keys(input.app.devDependencies ?? {});
  const listed = new Map([
    ...shipped.map((n) => [n, input.app.dependencies![n]!] as const),
    ...bundled.map((n) => [n, input.app.devDependencies![n]!] as const),
  ]);
  for (const [name, file] of input.reached) {
    if (name !== RUNTIME && !listed.has(name))
      problems.push(`${name} (imported by ${file}) is missing from ${APP_DIR}/package.json`);
  }
  for (const name of listed.keys()) {
    if (NEVER_SHIPPED.includes(name)) problems.push(`${name} is the hub's and must not be in ${APP_DIR}/package.json`);
    else if (name === RUNTIME)
      problems.push(`${RUNTIME} is the runtime the packager supplies, not a dependency of the app`);
    else if (!input.reached.has(name))
      problems.push(
        `${name} is in ${APP_DIR}/package.json, but the app does not import it (a package of the CLI, hub, connector or tooling?)`,
      );
    const rootRange = input.root.dependencies?.[name] ?? input.root.devDependencies?.[name];
    if (rootRange !== undefined && rootRange !== listed.get(name))
      problems.push(`${name}: ${APP_DIR}/package.json asks for ${listed.get(name)}, the project for ${rootRange}`);
  }
  for (const name of shipped.filter((n) => bundled.includes(n))) problems.push(`${name} is both shipped and bundled`);
  for (const field of ['name', 'version', 'main'] as const) {
    if (input.app[field] !== input.root[field])
      problems.push(
        `${APP_DIR}/package.json "${field}" is ${String(input.app[field])}, the project's ${String(input.root[field])}`,
      );
  }
  const builder = (input.builder ?? {}) as { directories?: { app?: unknown }; files?: unknown };
  if (builder.directories?.app !== APP_DIR)
    problems.push(`electron-builder.yml: directories.app must be ${APP_DIR} (is ${String(builder.directories?.app)})`);
  const files = Array.isArray(builder.files) ? (builder.files as unknown[]) : [];
  const dist = files.find(
    (f): f is { from?: unknown; to?: unknown } =>
      typeof f === 'object' && f !== null && (f as { to?: unknown }).to === 'dist',
  );
  if (!dist || dist.from !== relative(APP_DIR, 'dist'))
    problems.push(`electron-builder.yml: files must copy ${relative(APP_DIR, 'dist')} to dist (the builds)`);
  if (!files.includes('package.json'))
    problems.push(`electron-builder.yml: files must include package.json (${APP_DIR}/package.json)`);
  return problems;
}
