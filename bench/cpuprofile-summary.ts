/**
 * Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by file/package, optionally limited to a
 * time window (process.hrtime microseconds, the clock V8's profile timestamps use on Linux).
 *
 *   node bench/cpuprofile-summary.ts FILE.cpuprofile [--window window.json | --from-us N --to-us N] [--top N] [--callers-of FUNCTION]
 *
 * bench/hub.bench.ts --hub-cpu-prof DIR writes DIR/window.json with the measured phase's window.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'callers-of': { type: 'string' },
    window: { type: 'string' },
    'from-us': { type: 'string' },
    'to-us': { type: 'string' },
    top: { type: 'string', default: '30' },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: node bench/cpuprofile-summary.ts FILE.cpuprofile [--window window.json] [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
let from = values['from-us'] ? Number(values['from-us']) : -Infinity;
let to = values['to-us'] ? Number(values['to-us']) : Infinity;
if (values.window) {
  const w = JSON.parse(readFileSync(values.window, 'utf8')) as { fromUs: number; toUs: number };
  from = w.fromUs;
  to = w.toUs;
}
const top = Number(values.top);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url: string) => {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const main = url.indexOf('/work/main/');
  if (main >= 0) return url.slice(main + '/work/main/'.length);
  return url.replace(/^file:\/\//, '');
};
const packageOf = (url: string) => {
  if (!url) return '(native/vm)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  return shortUrl(url).split('/').slice(0, 2).join('/');
};

const self = new Map<string, number>();
const byPackage = new Map<string, number>();
const total = new Map<string, number>();
let t = profile.startTime;
let inWindow = 0;
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!;
  const delta = profile.timeDeltas[i + 1] ?? 0;
  all += delta;
  if (t < from || t > to) continue;
  inWindow += delta;
  const node = byId.get(profile.samples[i]!)!;
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  self.set(key, (self.get(key) ?? 0) + delta);
  const pkg = f.url ? packageOf(f.url) : f.functionName.startsWith('(') ? f.functionName : '(native/vm)';
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + delta);
  // Inclusive time per frame (each frame counted once per sample).
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id)!.callFrame;
    const k = `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + delta);
  }
}

const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const pct = (us: number) => `${((100 * us) / inWindow).toFixed(1).padStart(5)}%`;
const idle = self.get('(idle)  ') ?? 0;
console.log(
  `profile ${file}: ${(all / 1e6).toFixed(1)} s sampled; window ${(inWindow / 1e6).toFixed(1)} s; idle ${(idle / 1e6).toFixed(1)} s (${pct(idle)}), busy ${((inWindow - idle) / 1e6).toFixed(1)} s`,
);
console.log(`\nself time by package/file (top ${top}):`);
for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
console.log(`\nself time by function (top ${top}):`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
console.log(`\ninclusive time of project functions (hub/, main/, shared/, transport/; top ${top}):`);
for (const [k, v] of [...total]
  .filter(([k]) => /\s(hub|main|shared|transport)\//.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`  ${ms(v)} ${pct(v)}  ${k}`);

// --callers-of NAME: for samples whose stack contains a function NAME (self or below), the nearest project frame above it.
if (values['callers-of']) {
  const name = values['callers-of'];
  const tally = new Map<string, number>();
  let tt = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    tt += profile.timeDeltas[i]!;
    const delta = profile.timeDeltas[i + 1] ?? 0;
    if (tt < from || tt > to) continue;
    let hit = false;
    let caller = '(none)';
    const chain: string[] = [];
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id)!.callFrame;
      chain.push(`${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`);
      if (!hit && cf.functionName === name) hit = true;
      else if (hit && /^(hub|main|shared|transport)\//.test(shortUrl(cf.url))) {
        caller = `${cf.functionName || '(anonymous)'}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
        break;
      }
    }
    if (!hit) continue;
    if (caller === '(none)') caller = `(no project frame) ${chain.slice(-6).reverse().join(' > ')}`;
    tally.set(caller, (tally.get(caller) ?? 0) + delta);
  }
  console.log(`\nsamples under ${name}, by nearest project caller:`);
  for (const [k, v] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${ms(v)} ${pct(v)}  ${k}`);
}
