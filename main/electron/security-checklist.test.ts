import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandContract } from '../../shared/api/index.ts';
import { CONTENT_SECURITY_POLICY, FRAME_ANCESTORS_DIRECTIVE } from '../../shared/security/index.ts';

/**
 * Electron's security checklist, verified on the shell's own sources (parsed with the TypeScript compiler, so it runs
 * in plain Node without the Electron binary). Each rule is also run on a small source that breaks it, so that a rule
 * which stopped finding anything would fail here rather than pass silently.
 */
interface Source {
  readonly path: string;
  readonly file: ts.SourceFile;
}
type Rule = (sources: readonly Source[]) => string[];

const parse = (path: string, text: string): Source => ({
  path,
  file: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS),
});

/** A node and everything under it, in source order. */
function descendants(root: ts.Node): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (node: ts.Node) => {
    out.push(node);
    node.forEachChild(visit);
  };
  visit(root);
  return out;
}

const nodesOf = (sources: readonly Source[]) =>
  sources.flatMap((source) => descendants(source.file).map((node) => ({ source, node })));

const at = (source: Source, node: ts.Node) =>
  `${source.path}:${source.file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

function unwrap(expression: ts.Expression): ts.Expression {
  let e = expression;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

/** A function of the shell's sources by name: `function f() {}` or `const f = () => …`. */
function functionNamed(sources: readonly Source[], name: string): ts.FunctionLikeDeclaration | undefined {
  for (const { node } of nodesOf(sources)) {
    if (ts.isFunctionDeclaration(node) && node.name?.text === name) return node;
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name && node.initializer) {
      const init = unwrap(node.initializer);
      if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return init;
    }
  }
  return undefined;
}

/** The function an argument names: inline, or declared by name in the sources. */
function functionOf(
  sources: readonly Source[],
  expression: ts.Expression | undefined,
): ts.FunctionLikeDeclaration | undefined {
  if (!expression) return undefined;
  const e = unwrap(expression);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return e;
  return ts.isIdentifier(e) ? functionNamed(sources, e.text) : undefined;
}

/** Every value a function gives back: a concise arrow body, or each `return`'s expression (undefined for a bare return). */
function returnedValues(fn: ts.FunctionLikeDeclaration): (ts.Expression | undefined)[] {
  if (!fn.body) return [];
  if (!ts.isBlock(fn.body)) return [fn.body];
  const values: (ts.Expression | undefined)[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isReturnStatement(node)) values.push(node.expression);
    // Returns of nested functions are theirs, not this one's.
    if (!ts.isFunctionLike(node)) node.forEachChild(visit);
  };
  fn.body.forEachChild(visit);
  return values;
}

/** An object literal, directly or as what a function of the sources returns. */
function objectOf(sources: readonly Source[], expression: ts.Expression): ts.ObjectLiteralExpression | undefined {
  const e = unwrap(expression);
  if (ts.isObjectLiteralExpression(e)) return e;
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
    const fn = functionNamed(sources, e.expression.text);
    const values = fn ? returnedValues(fn) : [];
    const only = values.length === 1 && values[0] ? unwrap(values[0]) : undefined;
    return only && ts.isObjectLiteralExpression(only) ? only : undefined;
  }
  return undefined;
}

const propertyName = (p: ts.ObjectLiteralElementLike) =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
const literal = (e: ts.Expression) => {
  const u = unwrap(e);
  return u.kind === ts.SyntaxKind.TrueKeyword
    ? true
    : u.kind === ts.SyntaxKind.FalseKeyword
      ? false
      : ts.isStringLiteral(u)
        ? u.text
        : undefined;
};
const isCallTo = (node: ts.Node, method: string): node is ts.CallExpression =>
  ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === method;
/** `x.on('event', handler)` (or once) registrations of one event. */
const listenersOf = (sources: readonly Source[], event: string) =>
  nodesOf(sources).filter(
    ({ node }) =>
      (isCallTo(node, 'on') || isCallTo(node, 'once')) &&
      node.arguments[0] !== undefined &&
      literal(node.arguments[0]) === event,
  ) as { source: Source; node: ts.CallExpression }[];
const mentions = (node: ts.Node, name: string): boolean =>
  (ts.isIdentifier(node) && node.text === name) || node.forEachChild((c) => mentions(c, name) || undefined) === true;
const paramName = (fn: ts.FunctionLikeDeclaration, index: number) => {
  const p = fn.parameters[index];
  return p && ts.isIdentifier(p.name) ? p.name.text : undefined;
};

// ---- the rules -------------------------------------------------------------------------------------------------------

/** What each webPreferences key must be; `required` keys must be written out, the others only may not differ. */
const WEB_PREFERENCES: Record<string, { value: boolean; required: boolean }> = {
  contextIsolation: { value: true, required: true },
  sandbox: { value: true, required: true },
  nodeIntegration: { value: false, required: true },
  nodeIntegrationInWorker: { value: false, required: false },
  nodeIntegrationInSubFrames: { value: false, required: false },
  webSecurity: { value: true, required: false },
  allowRunningInsecureContent: { value: false, required: false },
  experimentalFeatures: { value: false, required: false },
  webviewTag: { value: false, required: false },
};
const FORBIDDEN_PREFERENCES = new Set(['enableBlinkFeatures']);

const webPreferencesRule: Rule = (sources) => {
  const problems: string[] = [];
  const check = (source: Source, where: ts.Node, value: ts.Expression) => {
    const object = objectOf(sources, value);
    if (!object) return problems.push(`${at(source, where)}: webPreferences that cannot be read statically`);
    const seen = new Map<string, boolean | string | undefined>();
    for (const p of object.properties) {
      const name = propertyName(p);
      if (!name || !ts.isPropertyAssignment(p)) {
        if (!ts.isShorthandPropertyAssignment(p) || p.name.text in WEB_PREFERENCES)
          problems.push(`${at(source, p)}: webPreferences entry that cannot be read statically`);
        continue;
      }
      seen.set(name, literal(p.initializer));
      if (FORBIDDEN_PREFERENCES.has(name)) problems.push(`${at(source, p)}: ${name} is set`);
    }
    for (const [name, rule] of Object.entries(WEB_PREFERENCES)) {
      if (!seen.has(name)) {
        if (rule.required) problems.push(`${at(source, object)}: ${name} is not set to ${rule.value}`);
      } else if (seen.get(name) !== rule.value) {
        problems.push(`${at(source, object)}: ${name} must be ${rule.value}`);
      }
    }
    return undefined;
  };
  for (const { source, node } of nodesOf(sources)) {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      ['BrowserWindow', 'BrowserView', 'WebContentsView'].includes(node.expression.text)
    ) {
      const options = node.arguments?.[0] && objectOf(sources, node.arguments[0]);
      if (!options?.properties.some((p) => propertyName(p) === 'webPreferences'))
        problems.push(`${at(source, node)}: new ${node.expression.text} without webPreferences`);
    }
    if (ts.isPropertyAssignment(node) && propertyName(node) === 'webPreferences') check(source, node, node.initializer);
  }
  return problems;
};

/** The policy itself: scripts only from the app, nothing inline or evaluated, no plugins, no base or form tricks. */
function cspProblems(policy: string): string[] {
  const directives = new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
  const problems: string[] = [];
  if (!directives.has('default-src')) problems.push('no default-src');
  const scripts = directives.get('script-src') ?? directives.get('default-src') ?? [];
  for (const value of scripts) {
    if (
      [
        "'unsafe-inline'",
        "'unsafe-eval'",
        "'unsafe-hashes'",
        "'wasm-unsafe-eval'",
        '*',
        'data:',
        'blob:',
        'http:',
        'https:',
      ].includes(value) ||
      /^https?:\/\//.test(value)
    ) {
      problems.push(`script-src allows ${value}`);
    }
  }
  for (const name of ['object-src', 'base-uri']) {
    const values = directives.get(name) ?? (name === 'object-src' ? directives.get('default-src') : undefined);
    if (values?.join(' ') !== "'none'") problems.push(`${name} is not 'none'`);
  }
  return problems;
}

/** The policy is sent as a header by the app:// protocol handler, built from the shared constant. */
const cspAppliedRule: Rule = (sources) => {
  const sets = nodesOf(sources)
    .filter(
      ({ node }) =>
        isCallTo(node, 'handle') &&
        ts.isPropertyAccessExpression(node.expression) &&
        mentions(node.expression.expression, 'protocol'),
    )
    .flatMap(({ node }) => descendants(node))
    .filter(
      (node): node is ts.CallExpression =>
        isCallTo(node, 'set') &&
        node.arguments.length === 2 &&
        String(literal(node.arguments[0]!)).toLowerCase() === 'content-security-policy',
    );
  if (sets.length === 0) return ['no protocol handler sets a Content-Security-Policy header'];
  return sets.flatMap((node) =>
    mentions(node.arguments[1]!, 'CONTENT_SECURITY_POLICY')
      ? []
      : ['the CSP header is not the shared CONTENT_SECURITY_POLICY'],
  );
};

/** Calls `param.preventDefault()` as a statement of its own body: every time, not under a condition. */
function alwaysPrevents(fn: ts.FunctionLikeDeclaration | undefined): boolean {
  const event = fn && paramName(fn, 0);
  if (!fn?.body || !event) return false;
  const statements = ts.isBlock(fn.body)
    ? fn.body.statements.map((s) => (ts.isExpressionStatement(s) ? s.expression : undefined))
    : [fn.body];
  return statements.some(
    (e) =>
      e !== undefined &&
      isCallTo(unwrap(e), 'preventDefault') &&
      mentions(((unwrap(e) as ts.CallExpression).expression as ts.PropertyAccessExpression).expression, event),
  );
}

/** Navigation, new windows and webviews are refused for every web contents the app creates. */
const navigationRule: Rule = (sources) => {
  const problems: string[] = [];
  const hardeners = new Set<ts.FunctionDeclaration>();
  for (const event of ['will-navigate', 'will-attach-webview']) {
    const listeners = listenersOf(sources, event);
    if (listeners.length === 0) problems.push(`no '${event}' handler`);
    for (const { source, node } of listeners) {
      if (!alwaysPrevents(functionOf(sources, node.arguments[1])))
        problems.push(`${at(source, node)}: '${event}' handler does not always preventDefault()`);
      const owner = ts.findAncestor(node.parent, ts.isFunctionDeclaration);
      if (owner) hardeners.add(owner);
    }
  }
  const openHandlers = nodesOf(sources).filter(({ node }) => isCallTo(node, 'setWindowOpenHandler')) as {
    source: Source;
    node: ts.CallExpression;
  }[];
  if (openHandlers.length === 0) problems.push('no setWindowOpenHandler');
  for (const { source, node } of openHandlers) {
    const fn = functionOf(sources, node.arguments[0]);
    const values = fn ? returnedValues(fn) : [];
    const denies = (v: ts.Expression | undefined) => {
      const object = v && unwrap(v);
      return (
        object !== undefined &&
        ts.isObjectLiteralExpression(object) &&
        object.properties.some(
          (p) => propertyName(p) === 'action' && ts.isPropertyAssignment(p) && literal(p.initializer) === 'deny',
        )
      );
    };
    if (values.length === 0 || !values.every(denies))
      problems.push(`${at(source, node)}: window open handler does not always deny`);
    const owner = ts.findAncestor(node.parent, ts.isFunctionDeclaration);
    if (owner) hardeners.add(owner);
  }
  // The handlers must reach every web contents: installed from app's 'web-contents-created'.
  const names = [...hardeners].map((n) => n.name?.text).filter((n): n is string => n !== undefined);
  const installed = listenersOf(sources, 'web-contents-created').some(({ node }) =>
    names.every((name) => mentions(node.arguments[1]!, name)),
  );
  if (!installed)
    problems.push(
      `the navigation handlers (${names.join(', ') || 'inline'}) are not installed from 'web-contents-created'`,
    );
  return problems;
};

/** Permission requests and checks are refused: the handler never grants, the checker never answers true. */
const permissionsRule: Rule = (sources) => {
  const problems: string[] = [];
  const requests = nodesOf(sources).filter(({ node }) => isCallTo(node, 'setPermissionRequestHandler')) as {
    source: Source;
    node: ts.CallExpression;
  }[];
  const checks = nodesOf(sources).filter(({ node }) => isCallTo(node, 'setPermissionCheckHandler')) as {
    source: Source;
    node: ts.CallExpression;
  }[];
  if (requests.length === 0) problems.push('no setPermissionRequestHandler');
  if (checks.length === 0) problems.push('no setPermissionCheckHandler');
  for (const { source, node } of requests) {
    const fn = functionOf(sources, node.arguments[0]);
    const callback = fn && paramName(fn, 2);
    const calls =
      fn && callback
        ? descendants(fn).filter(
            (n): n is ts.CallExpression =>
              ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === callback,
          )
        : [];
    if (calls.length === 0 || !calls.every((c) => c.arguments[0] !== undefined && literal(c.arguments[0]) === false)) {
      problems.push(`${at(source, node)}: permission request handler may grant`);
    }
  }
  for (const { source, node } of checks) {
    const fn = functionOf(sources, node.arguments[0]);
    const values = fn ? returnedValues(fn) : [];
    if (values.length === 0 || !values.every((v) => v !== undefined && literal(v) === false))
      problems.push(`${at(source, node)}: permission check handler may answer true`);
  }
  // Installed on the session the window uses.
  const owners = [...requests, ...checks].map(({ node }) => ts.findAncestor(node.parent, ts.isFunctionDeclaration));
  for (const owner of owners) {
    const name = owner?.name?.text;
    const applied =
      name &&
      nodesOf(sources).some(
        ({ node }) =>
          ts.isCallExpression(node) &&
          ts.isIdentifier(node.expression) &&
          node.expression.text === name &&
          node.arguments.some((a) => ts.isPropertyAccessExpression(a) && a.name.text === 'defaultSession'),
      );
    if (owner && !applied)
      problems.push(`${name ?? 'the permission handlers'} is never applied to session.defaultSession`);
  }
  return problems;
};

/**
 * Every IPC listener checks the sender frame before anything runs, and hands the renderer's input only to the
 * command dispatcher (which validates it against the contract); its channels come from COMMANDS.
 */
const ipcRule: Rule = (sources) => {
  const problems: string[] = [];
  const senderChecks = new Set(
    nodesOf(sources)
      .map(({ node }) => node)
      .filter(
        (n): n is ts.FunctionDeclaration =>
          ts.isFunctionDeclaration(n) && n.name !== undefined && mentions(n, 'senderFrame'),
      )
      .map((n) => n.name!.text),
  );
  const registrations = nodesOf(sources).filter(
    ({ node }) =>
      ['handle', 'handleOnce', 'on', 'once'].some((m) => isCallTo(node, m)) &&
      mentions(((node as ts.CallExpression).expression as ts.PropertyAccessExpression).expression, 'ipcMain'),
  ) as { source: Source; node: ts.CallExpression }[];
  if (registrations.length === 0) problems.push('no ipcMain handlers found');
  for (const { source, node } of registrations) {
    const where = at(source, node);
    const [channel, handler] = node.arguments;
    const fromCommands =
      channel !== undefined &&
      (mentions(channel, 'COMMANDS') ||
        (ts.isIdentifier(channel) &&
          nodesOf([source]).some(
            ({ node: n }) =>
              ts.isForOfStatement(n) && mentions(n.initializer, channel.text) && mentions(n.expression, 'COMMANDS'),
          )));
    if (!fromCommands) problems.push(`${where}: channel not taken from COMMANDS`);
    const fn = functionOf(sources, handler);
    const input = fn && paramName(fn, 1);
    if (!fn) {
      problems.push(`${where}: handler that cannot be read statically`);
      continue;
    }
    const inner = descendants(fn);
    const dispatches = inner.filter((n): n is ts.CallExpression => isCallTo(n, 'dispatch'));
    if (input) {
      const uses = inner.filter((n) => ts.isIdentifier(n) && n.text === input && n.parent !== fn.parameters[1]);
      if (uses.some((u) => !dispatches.some((d) => d.arguments.includes(u as ts.Expression))))
        problems.push(`${where}: input used other than through the dispatcher`);
    }
    if (dispatches.length === 0) problems.push(`${where}: handler does not go through the dispatcher`);
    const guarded = (call: ts.Node) =>
      ts.findAncestor(call.parent, (a) => {
        if (a === fn) return 'quit';
        const condition = ts.isConditionalExpression(a)
          ? a.whenTrue.pos <= call.pos && call.end <= a.whenTrue.end
            ? a.condition
            : undefined
          : ts.isIfStatement(a)
            ? a.thenStatement.pos <= call.pos && call.end <= a.thenStatement.end
              ? a.expression
              : undefined
            : undefined;
        return (
          condition !== undefined &&
          (mentions(condition, 'senderFrame') || [...senderChecks].some((name) => mentions(condition, name)))
        );
      }) !== undefined;
    if (!dispatches.every(guarded)) problems.push(`${where}: dispatch not guarded by a sender-frame check`);
  }
  return problems;
};

/** The renderer runs sandboxed whatever a window asks for. */
const sandboxAllRule: Rule = (sources) =>
  nodesOf(sources).some(({ node }) => isCallTo(node, 'enableSandbox')) ? [] : ['app.enableSandbox() is never called'];

// ---- the shell's sources ---------------------------------------------------------------------------------------------

const shellDir = import.meta.dirname;
const shell: Source[] = readdirSync(shellDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => parse(`main/electron/${f}`, readFileSync(join(shellDir, f), 'utf8')));

const RULES: Record<string, { rule: Rule; violation: string }> = {
  'webPreferences are isolated, sandboxed, without Node, with web security': {
    rule: webPreferencesRule,
    violation: `import { BrowserWindow } from 'electron';
      function prefs(preload: string) { return { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: false, experimentalFeatures: true }; }
      new BrowserWindow({ webPreferences: prefs('p.js') });
      new BrowserWindow({ webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, allowRunningInsecureContent: true } });
      new BrowserWindow({ width: 10 });`,
  },
  'the CSP header is the shared policy': {
    rule: cspAppliedRule,
    violation: `protocol.handle('app', (request) => { const headers = new Headers(); headers.set('Content-Security-Policy', "default-src *"); return new Response('', { headers }); });`,
  },
  'navigation, new windows and webviews are denied for every web contents': {
    rule: navigationRule,
    violation: `function harden(contents) {
        contents.on('will-navigate', (event, url) => { if (url.startsWith('http')) event.preventDefault(); });
        contents.on('will-attach-webview', (event) => undefined);
        contents.setWindowOpenHandler(({ url }) => (url === 'x' ? { action: 'allow' } : { action: 'deny' }));
      }`,
  },
  'permission requests and checks are denied on the default session': {
    rule: permissionsRule,
    violation: `function hardenSession(session) {
        session.setPermissionRequestHandler((_c, permission, callback) => callback(permission === 'notifications'));
        session.setPermissionCheckHandler(() => true);
      }
      hardenSession(partition);`,
  },
  'IPC handlers check the sender frame and validate input through the dispatcher': {
    rule: ipcRule,
    violation: `function isTrustedSender(event) { return event.senderFrame.parent === null; }
      ipcMain.handle('anything', (event, input) => core.dispatch('x', input));
      ipcMain.handle(COMMANDS.lock, (event, input) => isTrustedSender(event) ? core.run(input) : undefined);
      ipcMain.on(COMMANDS.unlock, (event, input) => { core.dispatch(COMMANDS.unlock, input); });`,
  },
  'the sandbox is enabled for all renderers': { rule: sandboxAllRule, violation: 'app.whenReady();' },
};

describe('Electron security checklist on the shell sources', () => {
  it('reads the shell', () => {
    expect(shell.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        'main/electron/main.ts',
        'main/electron/hardening.ts',
        'main/electron/ipc-bridge.ts',
        'main/electron/app-protocol.ts',
      ]),
    );
  });

  for (const [name, { rule, violation }] of Object.entries(RULES)) {
    it(name, () => {
      expect(rule(shell)).toEqual([]);
      // The same rule on a source that breaks it: it must notice.
      expect(rule([parse('fixture.ts', violation)]).length).toBeGreaterThan(0);
    });
  }

  it('names each violation of a broken fixture', () => {
    const found = webPreferencesRule([
      parse('fixture.ts', RULES['webPreferences are isolated, sandboxed, without Node, with web security']!.violation),
    ]);
    expect(found).toEqual([
      'fixture.ts:2: webSecurity must be true',
      'fixture.ts:2: experimentalFeatures must be false',
      'fixture.ts:4: allowRunningInsecureContent must be false',
      'fixture.ts:5: new BrowserWindow without webPreferences',
    ]);
    expect(
      ipcRule([
        parse(
          'fixture.ts',
          RULES['IPC handlers check the sender frame and validate input through the dispatcher']!.violation,
        ),
      ]),
    ).toEqual([
      'fixture.ts:2: channel not taken from COMMANDS',
      'fixture.ts:2: dispatch not guarded by a sender-frame check',
      'fixture.ts:3: input used other than through the dispatcher',
      'fixture.ts:3: handler does not go through the dispatcher',
      'fixture.ts:4: dispatch not guarded by a sender-frame check',
    ]);
  });

  it('has a policy without inline or evaluated scripts, and refuses one that allows them', () => {
    expect(cspProblems(CONTENT_SECURITY_POLICY)).toEqual([]);
    expect(FRAME_ANCESTORS_DIRECTIVE).toBe("frame-ancestors 'none'");
    expect(
      cspProblems(
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' https://cdn.example; object-src 'none'; base-uri 'none'",
      ),
    ).toEqual([
      "script-src allows 'unsafe-inline'",
      "script-src allows 'unsafe-eval'",
      'script-src allows https://cdn.example',
    ]);
    expect(cspProblems("script-src 'self'")).toEqual([
      'no default-src',
      "object-src is not 'none'",
      "base-uri is not 'none'",
    ]);
  });

  it('carries the same policy in the page, with no inline script', () => {
    const html = readFileSync(join(shellDir, '..', '..', 'renderer', 'index.html'), 'utf8');
    expect(html).toContain('http-equiv="Content-Security-Policy" content="%RTS_CSP%"');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc=/);
      expect(body!.trim()).toBe('');
    }
  });

  it('gives every channel the renderer may call an input schema for the dispatcher to validate', () => {
    for (const channel of Object.values(COMMANDS)) {
      const input = (commandContract as Record<string, { input?: { safeParse?: unknown } }>)[channel]?.input;
      expect(typeof input?.safeParse, channel).toBe('function');
    }
  });
});
