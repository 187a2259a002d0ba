/**
 * The process P6 measures (bench/p6-core-memory.bench.ts): only a workstation core, started on an existing store and
 * used as a user would; prints one JSON line with its resident memory.
 *
 *   node bench/p6-core-process.ts DATA_DIR KEYCHAIN_SERVICE
 */
import { readFileSync } from 'node:fs';
import { memoryUsage, resourceUsage } from 'node:process';
import { COMMANDS, type CommandChannel } from '../shared/api/index.ts';
import { createKeychainVault, createWorkstationCore } from '../main/node/index.ts';

export interface CoreMemory {
  readonly afterStartMb: number;
  readonly afterUseMb: number;
  /** The process's maximum resident set so far (getrusage). */
  readonly peakMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
  readonly startMs: number;
  readonly useMs: number;
  /** What the typical use did. */
  readonly use: string;
}

const MB = 2 ** 20;

/**
 * The most this process has had resident. Not getrusage's maxRSS on Linux: the kernel carries the forking parent's
 * high-water mark across exec, so every run reported the benchmark process's 455.8 MB. VmHWM is this image's own.
 */
function peakResidentMb(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : resourceUsage().maxRSS / 1024;
}
/** Lets timers and finished work settle, so that RSS is not read in the middle of a burst. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 1_000));

async function main(): Promise<void> {
  const [dataDir, service] = process.argv.slice(2);
  if (!dataDir || !service) throw new Error('usage: node bench/p6-core-process.ts DATA_DIR KEYCHAIN_SERVICE');
  const core = createWorkstationCore({
    productName: 'RTS Workstation',
    version: 'bench',
    vault: createKeychainVault(service, { keytarItems: 'none' }),
    dataDir,
  });
  const call = async <T>(command: CommandChannel, input?: unknown): Promise<T> => {
    const result = await core.dispatch(command, input);
    if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
    return result.value as T;
  };

  let started = performance.now();
  await core.start();
  await call(COMMANDS.getSetupState);
  await call(COMMANDS.getDirectoryState);
  const startMs = performance.now() - started;
  await settle();
  const afterStartMb = memoryUsage.rss() / MB;

  started = performance.now();
  // As the directory screen asks while a user types (pages of 100). Not an expert's details: the seeded store's
  // certificates are placeholders (bench/seeded-store.ts), which the details view would parse.
  const typed = [
    'c',
    'ca',
    'car',
    'card',
    'card b',
    'card be',
    'card bergen',
    'n',
    'ne',
    'neu',
    'neuro',
    'o',
    'os',
    'osl',
    'oslo',
  ];
  for (const text of typed) await call(COMMANDS.searchDirectory, { text, limit: 100 });
  await call(COMMANDS.searchDirectory, { text: '', limit: 100 });
  // As the inbox asks: the tab counts, then the first page of each tab; a case opened from the first.
  await call(COMMANDS.countCases);
  let opened = 0;
  for (const bucket of ['new', 'progress', 'waiting', 'done'] as const) {
    const page = await call<{ caseId: string }[]>(COMMANDS.listCases, { bucket, limit: 100 });
    if (page[0] && opened < 2) {
      await call(COMMANDS.openCase, { caseId: page[0].caseId });
      opened += 1;
    }
  }
  const useMs = performance.now() - started;
  await settle();
  const memory = memoryUsage();
  const result: CoreMemory = {
    afterStartMb,
    afterUseMb: memory.rss / MB,
    peakMb: peakResidentMb(),
    heapUsedMb: memory.heapUsed / MB,
    externalMb: memory.external / MB,
    startMs,
    useMs,
    use: `${typed.length + 1} searches, tab counts, 4 inbox pages, ${opened} cases opened`,
  };
  await core.stop();
  console.log(JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`p6 core process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
