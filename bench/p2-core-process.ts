/**
 * A workstation core in a process of its own, as each workstation of a region is (P2 with `--expert process`): started
 * on a store the benchmark has set up, it prints `ready` once registered with the directory mirrored, then
 * `arrived CASE_ID NS` for each new case (NS: process.hrtime, the machine's monotonic clock, which every process shares).
 * SIGTERM stops the core and exits.
 *
 *   node bench/p2-core-process.ts DATA_DIR KEYCHAIN_SERVICE
 */
import { EVENTS } from '../shared/api/index.ts';
import { createKeychainVault, createWorkstationCore } from '../main/node/index.ts';
import { untilRegistered } from './core-ready.ts';

const [dataDir, service] = process.argv.slice(2);
if (!dataDir || !service) throw new Error('usage: node bench/p2-core-process.ts DATA_DIR KEYCHAIN_SERVICE');

const core = createWorkstationCore({
  productName: 'RTS Workstation',
  version: 'test',
  vault: createKeychainVault(service, { keytarItems: 'none' }),
  dataDir,
  reconnectDelayMs: { initial: 200, max: 1_000 },
});
core.onEvent((event, payload) => {
  const p = payload as { isNew?: boolean; summary?: { caseId: string } };
  if (event === EVENTS.caseChanged && p.isNew && p.summary)
    process.stdout.write(`arrived ${p.summary.caseId} ${process.hrtime.bigint()}\n`);
});
process.once('SIGTERM', () => {
  void core.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

await core.start();
await untilRegistered(core, 'the expert core', 2);
process.stdout.write('ready\n');
