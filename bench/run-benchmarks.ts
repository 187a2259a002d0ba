/**
 * Runs P1, P2 and P6 one after another (each its own process, output passed through) and ends with their result
 * lines. Under scripts/with-test-env.sh (npm run bench), which gives them a private broker and keychain.
 *
 *   npm run bench [-- --runs N --experts N --cases N --consults N --database embedded|postgres --only p1,p2,p6 --quick]
 *
 * --runs, --experts (P1 and P6), --cases (P6), --consults (P2) and --database (the hub's, P1 and P2) are passed on; --quick is a small run to check the
 * set-up (1 run, 2,000 experts for P1, 10,000 experts and 1,000 cases for P6, 10 consults for P2), not a result.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string' },
    experts: { type: 'string' },
    cases: { type: 'string' },
    consults: { type: 'string' },
    database: { type: 'string' },
    only: { type: 'string', default: 'p1,p2,p6' },
    quick: { type: 'boolean', default: false },
  },
});

const flag = (name: string, value: string | undefined, quick: string): string[] => {
  const chosen = value ?? (opts.quick ? quick : undefined);
  return chosen === undefined ? [] : [`--${name}`, chosen];
};
const runs = flag('runs', opts.runs, '1');
const database = opts.database === undefined ? [] : ['--database', opts.database];
/** `result`: the line `npm run bench` ends with; `extra`: lines printed after the three (issue 20's two-hop ratios and floors). */
const BENCHMARKS: { id: string; file: string; args: string[]; result: RegExp; extra?: RegExp }[] = [
  {
    id: 'p1',
    file: 'p1-directory-sync.bench.ts',
    args: [...runs, ...database, ...flag('experts', opts.experts, '2000')],
    result: /^P1: ratio=/,
    extra: /^P1: (floor_)?two_hop_ratio=/,
  },
  {
    id: 'p2',
    file: 'p2-consult-path.bench.ts',
    args: [
      ...runs,
      ...database,
      ...flag('consults', opts.consults, '10'),
      ...(opts.quick ? ['--latency-samples', '10'] : []),
    ],
    result: /^P2: throughput_ratio=/,
    extra: /^P2: (floor_)?two_hop_throughput_ratio=/,
  },
  {
    id: 'p6',
    file: 'p6-core-memory.bench.ts',
    args: [...runs, ...flag('experts', opts.experts, '10000'), ...flag('cases', opts.cases, '1000')],
    result: /^P6: rss_mb=/,
  },
];
const only = new Set(opts.only.split(','));
for (const id of only) if (!BENCHMARKS.some((b) => b.id === id)) throw new Error(`--only: p1, p2 or p6, not ${id}`);

/**
 * Runs one benchmark, passing its output through; resolves with its result line (or a line saying it failed) and the
 * extra lines it printed.
 */
function run(benchmark: (typeof BENCHMARKS)[number]): Promise<{ result: string; extra: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, benchmark.file), ...benchmark.args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: string | undefined;
    const extra: string[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (benchmark.result.test(line)) result = line;
        if (benchmark.extra?.test(line)) extra.push(line);
      }
    });
    child.on('close', (code) =>
      resolve({ result: result ?? `${benchmark.id.toUpperCase()}: failed (exit ${code})`, extra }),
    );
  });
}

const lines: string[] = [];
const extras: string[] = [];
for (const benchmark of BENCHMARKS) {
  if (!only.has(benchmark.id)) continue;
  console.log(`\n=== ${benchmark.id}: node bench/${benchmark.file} ${benchmark.args.join(' ')}`);
  const { result, extra } = await run(benchmark);
  lines.push(result);
  extras.push(...extra);
}
console.log('');
for (const line of [...lines, ...extras]) console.log(line);
process.exit(lines.some((l) => l.includes(': failed')) ? 1 : 0);
