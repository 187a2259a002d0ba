/**
 * A diagnostic preload for a benchmark's processes (`NODE_OPTIONS="--import ./bench/gc-trace.ts"`, which the children
 * the benchmarks start inherit): what garbage collection cost each process, by kind (minor, major, incremental marking,
 * weak callbacks) and by what V8 said of it (e.g. `ALL_EXTERNAL_MEMORY`: forced by the memory outside the heap, such as
 * the buffers of megabyte messages), written as JSON to $RTS_BENCH_GC_TRACE when the process exits (`%p` in the name
 * becomes the process id; by default /tmp/rts-gc-%p.json). `node --trace-gc` is not allowed in NODE_OPTIONS, and a CPU
 * profile gives garbage collection as one figure.
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weak callbacks'],
]);
const FLAGS = Object.entries(constants).flatMap(([name, value]) =>
  name.startsWith('NODE_PERFORMANCE_GC_FLAGS_') && value !== 0
    ? [[name.slice('NODE_PERFORMANCE_GC_FLAGS_'.length), value] as const]
    : [],
);

interface Tally {
  count: number;
  ms: number;
  maxMs: number;
}
const tallies = new Map<string, Tally>();
const started = performance.now();

function record(entry: PerformanceEntry): void {
  const { kind, flags } = (entry as PerformanceEntry & { detail: { kind: number; flags: number } }).detail;
  const said = FLAGS.filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
  const key = [KINDS.get(kind) ?? `kind ${kind}`, ...said].join(' ');
  let tally = tallies.get(key);
  if (!tally) tallies.set(key, (tally = { count: 0, ms: 0, maxMs: 0 }));
  tally.count += 1;
  tally.ms += entry.duration;
  tally.maxMs = Math.max(tally.maxMs, entry.duration);
}

const observer = new PerformanceObserver((list) => list.getEntries().forEach(record));
observer.observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  observer.takeRecords().forEach(record); // those not yet delivered
  const file = (process.env.RTS_BENCH_GC_TRACE ?? '/tmp/rts-gc-%p.json').replaceAll('%p', String(process.pid));
  const rows = [...tallies].sort(([, a], [, b]) => b.ms - a.ms);
  const total = rows.reduce((sum, [, t]) => sum + t.ms, 0);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        process: process.argv.slice(1, 3),
        seconds: (performance.now() - started) / 1000,
        gcMs: total,
        byKind: Object.fromEntries(rows),
      },
      null,
      1,
    )}\n`,
  );
});
