/**
 * P6: resident memory of a process running only the workstation core, over a store of N experts (default 100,000)
 * and N cases (default 10,000).
 *
 *   npm run bench:p6 [-- --runs N --experts N --cases N]
 *
 * This process fills the store directly (bench/seeded-store.ts, as bench:ui does), imports a practitioner identity
 * through a core as a user would (the store key and private keys in the test keychain), and stops that core. Each run
 * then starts a fresh child process (bench/p6-core-process.ts) that starts a core on that store and reports its RSS
 * after start, and after a typical use: directory searches as a user types, the inbox's counts and first pages, a case
 * opened, an expert's details. The core stays offline (its profile names 127.0.0.1:1): the broker is not part of it.
 *
 * Ends with `P6: rss_mb=X` (median over the runs of the RSS after the typical use; target < 300).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKeychainVault, createWorkstationCore } from '../main/node/index.ts';
import { fixed, median, positive, printHeader, printLoad, spread } from './bench-support.ts';
import { HOSPITALS, seedStore, setUpIdentity } from './seeded-store.ts';
import type { CoreMemory } from './p6-core-process.ts';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    experts: { type: 'string', default: '100000' },
    cases: { type: 'string', default: '10000' },
  },
});
const RUNS = positive('runs', opts.runs);
const EXPERTS = positive('experts', opts.experts);
const CASES = positive('cases', opts.cases);

async function main(): Promise<void> {
  await printHeader(
    'P6: resident memory of a process running only the workstation core',
    `runs=${RUNS} experts=${EXPERTS} cases=${CASES}; one seeded store, a fresh core process per run`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'rts-bench-p6-'));
  const dataDir = join(dir, 'workstation');
  const service = `rts-bench-p6-${randomUUID()}`;
  const vault = createKeychainVault(service, { keytarItems: 'none' });
  try {
    const seeded = await seedStore(dataDir, vault, { experts: EXPERTS, cases: CASES });
    const setup = createWorkstationCore({ productName: 'RTS Workstation', version: 'bench', vault, dataDir });
    await setup.start();
    await setUpIdentity(setup, dir);
    await setup.stop();
    console.log(
      `store: ${EXPERTS.toLocaleString('en')} experts in ${HOSPITALS} hospitals (${fixed(seeded.expertsSeconds, 1)} s), ${CASES.toLocaleString('en')} cases (${fixed(seeded.casesSeconds, 1)} s); identity imported`,
    );

    const results: CoreMemory[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const output = execFileSync(
        process.execPath,
        [join(import.meta.dirname, 'p6-core-process.ts'), dataDir, service],
        { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 },
      );
      const result = JSON.parse(output.trim().split('\n').pop()!) as CoreMemory;
      results.push(result);
      console.log(
        `  run ${run}: RSS after start ${fixed(result.afterStartMb, 1)} MB, after use ${fixed(result.afterUseMb, 1)} MB, peak ${fixed(result.peakMb, 1)} MB ` +
          `(V8 heap used ${fixed(result.heapUsedMb, 1)} MB, external ${fixed(result.externalMb, 1)} MB); start ${fixed(result.startMs, 0)} ms, use ${fixed(result.useMs, 0)} ms (${result.use})`,
      );
    }
    const mb = (v: number) => fixed(v, 1);
    console.log('');
    console.log(`P6 over ${RUNS} run(s), MB min / median / max:`);
    console.log(
      `  RSS after start  ${spread(
        results.map((r) => r.afterStartMb),
        mb,
      )}`,
    );
    console.log(
      `  RSS after use    ${spread(
        results.map((r) => r.afterUseMb),
        mb,
      )}`,
    );
    console.log(
      `  peak RSS         ${spread(
        results.map((r) => r.peakMb),
        mb,
      )}`,
    );
    printLoad();
    console.log(`P6: rss_mb=${mb(median(results.map((r) => r.afterUseMb)))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`P6 failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
