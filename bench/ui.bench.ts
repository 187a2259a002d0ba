/**
 * Renderer benchmark: the built renderer (vite production build) in Debian's Chromium, wired to a real workstation core
 * in this process exactly as the browser tests wire it (e2e/harness), over a store seeded with a large region.
 *
 *   npm run bench:ui [-- --runs N --experts N --cases N --inbox-runs N]
 *
 * Before the core starts, its encrypted store is filled directly: a directory snapshot of N experts (100 batches of
 * 1,000 roles) and N cases. The core gets a connection profile to 127.0.0.1:1 (it stays offline, which no screen here
 * needs) and a throw-away practitioner identity, so that the page opens on the workspace.
 *
 * ui-search      On the Directory screen, words are typed one character at a time. Each keystroke is timed in the page
 *                from its keydown (a Chinese or Bengali character, which no US key types, from its text input) until
 *                the frame after the expert list shows the rows of that query: the list's
 *                `data-query` attribute (set in the same commit as its rows) is watched by a MutationObserver, then
 *                one requestAnimationFrame and a message after it (so the frame's style, layout and paint are in).
 * ui-inbox-open  From the Outbox screen the Inbox button is clicked (in the page) and timed until the frame after the
 *                first case row of the N-case inbox exists, measured the same way.
 * Baselines in the same run, in the page: a getAppInfo round trip (what the bridge itself costs), and the bare
 * searchDirectory and listCases round trips (core + bridge, no rendering).
 *
 * ui-case-search In the inbox, words are typed into the case search (patient, reason, diagnosis, colleague over every
 *                tab), timed as ui-search is.
 * Then the same case searches without UI, as pages of 20 and of 50 (round trip and the core's share: the rest is the
 * bridge, which grows with the rows it carries), and the bridge's own round trip again.
 * The output ends with `ui-search: p95_ms=X` (over every keystroke of every run), `ui-inbox-open: ms=X` (median),
 * `ui-case-search: p95_ms=X`, and the baseline `ui-bridge-noop: p95_ms=X` (getAppInfo's round trip in the page, the
 * same run: what the bench's bridge costs a command before any payload).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { build } from 'esbuild';
import { COMMANDS, type CommandChannel } from '../shared/api/index.ts';
import { createWorkstationCore, createMemoryVault, type WorkstationCore } from '../main/node/index.ts';
import { startRendererServer } from '../e2e/harness/renderer-server.ts';
import { HOSPITALS, seedStore, setUpIdentity } from './seeded-store.ts';

// --- options -----------------------------------------------------------------------------------------------------------

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    experts: { type: 'string', default: '100000' },
    cases: { type: 'string', default: '10000' },
    'inbox-runs': { type: 'string', default: '5' },
  },
});
const positive = (name: string, value: string | undefined): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a positive integer, not ${value}`);
  return n;
};
const RUNS = positive('runs', opts.runs);
const EXPERTS = positive('experts', opts.experts);
const CASES = positive('cases', opts.cases);
const INBOX_RUNS = positive('inbox-runs', opts['inbox-runs']);

const ROOT = join(import.meta.dirname, '..');
const RENDERER_DIR = join(ROOT, 'dist', 'renderer');
/**
 * What is typed: single words and two-word queries, as a user narrows a search, in the directory's scripts (issue 22):
 * a Chinese hospital and given name by a part from their middle (人民医院 of 郑州市第一人民医院, 伟明 of 张伟明), a
 * Bengali hospital and name by their first letters (60 keystrokes per run).
 */
const WORDS = [
  'car',
  'ped',
  'oslo',
  'nor',
  'berg',
  'neuro',
  'card bergen',
  'derm en',
  '人民医院',
  '伟明',
  'ঢাকা মেডি',
  'রহমান',
];
/** What is typed into the inbox's case search: patients, reasons, colleagues, hospitals (46 timed keystrokes per run: a space alone asks nothing new). */
const CASE_WORDS = ['kari', 'chest', 'syncope', 'berg', 'oslo heart', 'ahmed st', '伟明', '人民医院', 'রহমা'];
/** The same flags as playwright.config.ts: a headless Chromium that reaches for nothing on the network. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

// --- in the page -------------------------------------------------------------------------------------------------------

/**
 * Installed before the app loads. `afterFrame` resolves after the next frame has run (rAF, then a message, which is
 * handled once that frame's rendering is done).
 */
const PROBE = `(() => {
  const afterFrame = (done) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => done(performance.now());
    channel.port2.postMessage(0);
  });
  // When the answer to a watched call reached the page: what follows is the renderer's share.
  let watch;
  const invoke = window.__rtsHarnessInvoke;
  window.__rtsHarnessInvoke = (channel, input) => invoke(channel, input).then((result) => {
    if (watch && watch.matches(channel, input)) watch.answeredAt = performance.now();
    return result;
  });
  let armed;
  const pressed = () => { if (armed && armed.keydownAt === undefined) armed.keydownAt = performance.now(); };
  addEventListener('keydown', pressed, true);
  // A character no US key types (Chinese, Bengali) comes as text input alone, as an input method commits it.
  addEventListener('beforeinput', pressed, true);
  window.__rtsBench = {
    arm(query) {
      const list = document.querySelector('[role="listbox"][aria-label="Experts"]');
      const state = { keydownAt: undefined };
      watch = { matches: (channel, input) => channel === 'directory:search' && input.text === query };
      state.done = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (list.getAttribute('data-query') !== query) return;
          observer.disconnect();
          afterFrame((at) => resolve({ total: at - state.keydownAt, renderer: at - watch.answeredAt }));
        });
        observer.observe(list, { attributes: true, attributeFilter: ['data-query'] });
      });
      armed = state;
    },
    armCases(query) {
      const panel = document.querySelector('[data-testid="inbox-cases"]');
      const state = { keydownAt: undefined };
      watch = { matches: (channel, input) => channel === 'cases:list' && (input.query ?? '') === query.trim() };
      state.done = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if ((panel.getAttribute('data-query') ?? '') !== query.trim()) return;
          observer.disconnect();
          afterFrame((at) => resolve({ total: at - state.keydownAt, renderer: at - watch.answeredAt }));
        });
        observer.observe(panel, { attributes: true, attributeFilter: ['data-query'] });
      });
      armed = state;
    },
    result: () => armed.done,
    openInbox: () => new Promise((resolve) => {
      const button = [...document.querySelectorAll('nav[aria-label="Main"] button')].find((b) => b.textContent.trim().startsWith('Inbox'));
      watch = { matches: (channel) => channel === 'cases:list' };
      const observer = new MutationObserver(() => {
        if (!document.querySelector('[data-testid="inbox-row"]')) return;
        observer.disconnect();
        afterFrame((at) => resolve({ total: at - started, renderer: at - watch.answeredAt }));
      });
      observer.observe(document.body, { childList: true, subtree: true });
      const started = performance.now();
      button.click();
    }),
    async roundTrips(channel, inputs) {
      const times = [];
      for (const input of inputs) {
        const started = performance.now();
        const result = await window.rts.invoke(channel, input);
        if (!result.ok) throw new Error(channel + ': ' + result.error.message);
        times.push(performance.now() - started);
      }
      return times;
    },
  };
})();`;

/** From the user's action until the frame; and from the core's answer reaching the page until that frame. */
interface Timing {
  readonly total: number;
  readonly renderer: number;
}

interface BenchWindow {
  __rtsBench: {
    arm(query: string): void;
    armCases(query: string): void;
    result(): Promise<Timing>;
    openInbox(): Promise<Timing>;
    roundTrips(channel: string, inputs: readonly unknown[]): Promise<number[]>;
  };
}

function roundTrips(page: Page, channel: CommandChannel, inputs: readonly unknown[]): Promise<number[]> {
  return page.evaluate(([c, i]) => (globalThis as unknown as BenchWindow).__rtsBench.roundTrips(c, i), [
    channel,
    inputs,
  ] as const);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const listQuery = (page: Page) => page.locator('[role="listbox"][aria-label="Experts"]');

/** Empties the search box and waits until the list shows the empty query's rows (not timed). */
async function clearSearch(page: Page): Promise<void> {
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await listQuery(page).and(page.locator('[data-query=""]')).waitFor({ timeout: 30_000 });
}

/** Types `word` one key at a time; each keystroke's time from keydown to the frame after its rows are shown. */
async function typeTimed(
  page: Page,
  word: string,
  list: 'experts' | 'cases' = 'experts',
): Promise<(Timing & { query: string })[]> {
  const samples = [];
  for (let i = 1; i <= word.length; i++) {
    const query = word.slice(0, i);
    // The case search reads words: a space alone asks nothing new, and nothing on screen changes.
    if (list === 'cases' && query.trim() === word.slice(0, i - 1).trim()) {
      await page.keyboard.type(word[i - 1]!);
      continue;
    }
    await page.evaluate(
      ([q, l]) => {
        const bench = (globalThis as unknown as BenchWindow).__rtsBench;
        if (l === 'cases') bench.armCases(q);
        else bench.arm(q);
      },
      [query, list] as const,
    );
    await page.keyboard.type(word[i - 1]!);
    const timing = await withTimeout(
      page.evaluate(() => (globalThis as unknown as BenchWindow).__rtsBench.result()),
      30_000,
      `search "${query}"`,
    );
    samples.push({ query, ...timing });
  }
  return samples;
}

// --- statistics and output ---------------------------------------------------------------------------------------------

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the value at or above which (1 - q) of the samples lie.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const ms = (v: number) => v.toFixed(1);
const summary = (values: readonly number[]) =>
  `n=${values.length} min=${ms(Math.min(...values))} median=${ms(quantile(values, 0.5))} p95=${ms(quantile(values, 0.95))} max=${ms(Math.max(...values))} ms`;

// --- main --------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    console.log('dist/renderer is missing: building it (npm run build:renderer)');
    execFileSync('npm', ['run', 'build:renderer'], { cwd: ROOT, stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'rts-bench-ui-'));
  const dataDir = join(dir, 'workstation');
  const vault = createMemoryVault();
  let core: WorkstationCore | undefined;
  let server: Awaited<ReturnType<typeof startRendererServer>> | undefined;
  const browser = await chromium.launch({
    executablePath: process.env.RTS_CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    console.log(
      `ui benchmark: renderer (vite production build) in Chromium, bridged to a workstation core in this process`,
    );
    console.log(
      `machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}`,
    );
    console.log(`versions: node ${process.version}, chromium ${browser.version()}`);
    console.log(
      `runs: ${RUNS} of ui-search (${WORDS.map((w) => `"${w}"`).join(', ')}: ${WORDS.join('').length} keystrokes each), ${INBOX_RUNS} of ui-inbox-open`,
    );

    const seeded = await seedStore(dataDir, vault, { experts: EXPERTS, cases: CASES });
    console.log(
      `store: ${EXPERTS.toLocaleString('en')} experts in ${HOSPITALS} hospitals (snapshot applied in ${seeded.expertsSeconds.toFixed(1)} s), ${CASES.toLocaleString('en')} cases (${seeded.casesSeconds.toFixed(1)} s)`,
    );

    core = createWorkstationCore({ productName: 'RTS Workstation', version: 'bench', vault, dataDir });
    await core.start();
    await setUpIdentity(core, dir);

    server = await startRendererServer(RENDERER_DIR);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const opened = core;
    // As the browser tests wire it, plus the time each command spends in the core (the rest of a round trip is the bridge).
    const inCore = new Map<string, number[]>();
    await page.exposeBinding('__rtsHarnessInvoke', async (_source, channel: unknown, input: unknown) => {
      const started = performance.now();
      const result = await opened.dispatch(channel, input);
      inCore.set(String(channel), [...(inCore.get(String(channel)) ?? []), performance.now() - started]);
      return result;
    });
    const coreTimes = (channel: CommandChannel, from: number) => (inCore.get(channel) ?? []).slice(from);
    opened.onEvent((event, payload) => {
      void page
        .evaluate(
          ([e, p]) =>
            (globalThis as unknown as { __rtsHarnessDeliver(e: string, p: unknown): void }).__rtsHarnessDeliver(e, p),
          [event, payload] as const,
        )
        .catch(() => undefined);
    });
    const bridge = await build({
      entryPoints: [join(ROOT, 'e2e', 'harness', 'page-bridge.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'chrome140',
    });
    await page.addInitScript({ content: bridge.outputFiles[0]!.text });
    await page.addInitScript({ content: PROBE });
    await page.goto(server.url);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.waitFor({ timeout: 30_000 });

    const appInfo = await roundTrips(
      page,
      COMMANDS.getAppInfo,
      Array.from({ length: 50 }, () => undefined),
    );
    console.log(`bridge baseline: getAppInfo round trip in the page: ${summary(appInfo)}`);

    // --- ui-search
    await nav.getByRole('button', { name: 'Directory' }).click();
    await listQuery(page).and(page.locator('[data-query=""]')).waitFor({ timeout: 30_000 });
    await page.getByRole('searchbox', { name: 'Search experts' }).focus();
    // One word unmeasured: the first query compiles the code paths and warms SQLite's page cache.
    await typeTimed(page, WORDS[0]!);
    const searches: (Timing & { query: string })[] = [];
    const perRun: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const samples = [];
      for (const word of WORDS) {
        await clearSearch(page);
        samples.push(...(await typeTimed(page, word)));
      }
      perRun.push(
        quantile(
          samples.map((s) => s.total),
          0.95,
        ),
      );
      searches.push(...samples);
    }
    await clearSearch(page);
    const queries = WORDS.flatMap((w) =>
      Array.from({ length: w.length }, (_, i) => ({ text: w.slice(0, i + 1), limit: 100 })),
    );
    const searchCoreFrom = inCore.get(COMMANDS.searchDirectory)?.length ?? 0;
    const bare = await roundTrips(page, COMMANDS.searchDirectory, queries);
    console.log(
      `search round trip without UI (searchDirectory, limit 100 as the directory screen asks, each typed prefix once): ${summary(bare)}`,
    );
    const searchCore = coreTimes(COMMANDS.searchDirectory, searchCoreFrom);
    console.log(
      `  of which in the core: ${summary(searchCore)}; slowest: ${queries
        .map((q, i) => ({ q: q.text, t: searchCore[i]! }))
        .sort((a, b) => b.t - a.t)
        .slice(0, 4)
        .map((x) => `"${x.q}" ${ms(x.t)}`)
        .join(', ')}`,
    );
    const searchMs = searches.map((s) => s.total);
    console.log(
      `ui-search (keydown → frame after that query's rows): ${summary(searchMs)}; p95 per run: ${perRun.map(ms).join(', ')}`,
    );
    console.log(`  of which the renderer (answer in the page → frame): ${summary(searches.map((s) => s.renderer))}`);
    const slowest = [...searches].sort((a, b) => b.total - a.total).slice(0, 6);
    console.log(`  slowest keystrokes: ${slowest.map((s) => `"${s.query}" ${ms(s.total)}`).join(', ')}`);

    await page.screenshot({ path: 'test-results/screenshots/directory-100000-experts.png' });

    // --- ui-inbox-open
    const listCoreFrom = inCore.get(COMMANDS.listCases)?.length ?? 0;
    // What the inbox asks when it opens: the tab counts, and the first page of the tab.
    const listed = await roundTrips(
      page,
      COMMANDS.listCases,
      Array.from({ length: INBOX_RUNS }, () => ({ bucket: 'new', limit: 100 })),
    );
    console.log(
      `listCases round trip without UI (first page of 100 of ${CASES.toLocaleString('en')} cases): ${summary(listed)}`,
    );
    console.log(
      `countCases round trip without UI: ${summary(
        await roundTrips(
          page,
          COMMANDS.countCases,
          Array.from({ length: INBOX_RUNS }, () => undefined),
        ),
      )}`,
    );
    console.log(`  of which in the core: ${summary(coreTimes(COMMANDS.listCases, listCoreFrom))}`);
    const opens: Timing[] = [];
    for (let run = 0; run < INBOX_RUNS; run++) {
      await nav.getByRole('button', { name: 'Outbox' }).click();
      await page.getByTestId('outbox-pending').waitFor();
      await page.waitForTimeout(300);
      opens.push(
        await withTimeout(
          page.evaluate(() => (globalThis as unknown as BenchWindow).__rtsBench.openInbox()),
          30_000,
          'inbox',
        ),
      );
    }
    const rows = await page.getByTestId('inbox-row').count();
    await page.screenshot({ path: 'test-results/screenshots/inbox-10000-cases.png' });
    const openMs = opens.map((o) => o.total);
    console.log(
      `ui-inbox-open (click → frame after the first rows; ${rows} rows rendered of the first tab): ${summary(openMs)}; runs: ${openMs.map(ms).join(', ')}`,
    );
    console.log(`  of which the renderer (answer in the page → frame): ${summary(opens.map((o) => o.renderer))}`);

    // --- ui-case-search: the inbox is open; words typed into its case search, one key at a time.
    const caseSearch = page.getByRole('searchbox', { name: 'Search cases' });
    const caseSearches: (Timing & { query: string })[] = [];
    const caseSearchCoreFrom = inCore.get(COMMANDS.listCases)?.length ?? 0;
    for (let run = 0; run < RUNS; run++) {
      for (const word of CASE_WORDS) {
        await caseSearch.focus();
        await page.keyboard.press('Control+A');
        await page.keyboard.press('Backspace');
        await page.locator('[data-testid="inbox-cases"][data-query=""]').waitFor({ timeout: 30_000 });
        caseSearches.push(...(await typeTimed(page, word, 'cases')));
      }
    }
    const caseSearchMs = caseSearches.map((s) => s.total);
    console.log(
      `ui-case-search (keydown → frame after that query's rows, every tab of ${CASES.toLocaleString('en')} cases): ${summary(caseSearchMs)}`,
    );
    console.log(
      `  of which the renderer (answer in the page → frame): ${summary(caseSearches.map((s) => s.renderer))}`,
    );
    console.log(`  of which in the core (listCases): ${summary(coreTimes(COMMANDS.listCases, caseSearchCoreFrom))}`);
    const slowestCases = [...caseSearches].sort((a, b) => b.total - a.total).slice(0, 6);
    console.log(`  slowest keystrokes: ${slowestCases.map((s) => `"${s.query}" ${ms(s.total)}`).join(', ')}`);
    const firstRows = await page.getByTestId('inbox-row').count();
    await page.screenshot({ path: 'test-results/screenshots/inbox-case-search.png' });
    // The same searches without UI, as pages of 20 (about what the screen asks first) and of 50: the bridge's share
    // grows with the rows it carries (round trip − core); and the bridge alone (getAppInfo), measured again here.
    const caseQueries = [...new Set(caseSearches.map((s) => s.query.trim()))];
    await page.waitForTimeout(500); // the screen's reading of the rest of its last first page is over
    for (const limit of [20, 50]) {
      const from = inCore.get(COMMANDS.listCases)?.length ?? 0;
      const trips = await roundTrips(
        page,
        COMMANDS.listCases,
        caseQueries.map((query) => ({ query, offset: 0, limit })),
      );
      console.log(
        `case search round trip without UI (listCases, limit ${limit}, each typed query once): ${summary(trips)}; in the core: ${summary(coreTimes(COMMANDS.listCases, from))}`,
      );
    }
    const noop = [
      ...appInfo,
      ...(await roundTrips(
        page,
        COMMANDS.getAppInfo,
        Array.from({ length: 50 }, () => undefined),
      )),
    ];
    console.log(
      `bridge baseline again after the case search (getAppInfo, both samplings): ${summary(noop)}; rows on screen after a search: ${firstRows}`,
    );

    console.log(`ui-search: p95_ms=${ms(quantile(searchMs, 0.95))}`);
    console.log(`ui-inbox-open: ms=${ms(quantile(openMs, 0.5))}`);
    console.log(`ui-case-search: p95_ms=${ms(quantile(caseSearchMs, 0.95))}`);
    console.log(`ui-bridge-noop: p95_ms=${ms(quantile(noop, 0.95))}`);
  } finally {
    await browser.close();
    await server?.close();
    await core?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
