/**
 * A workstation core in a process of its own, as each workstation of a region is (P2 with `--expert process`): started
 * on a store the benchmark has set up, it prints `ready` once registered with the directory mirrored, then
 * `arrived CASE_ID NS` for each new case (NS: process.hrtime, the machine's monotonic clock, which every process shares).
 * SIGTERM stops the core and exits.
 *
 *   node bench/p2-core-process.ts DATA_DIR KEYCHAIN_SERVICE
 */
import { COMMANDS, EVENTS, type DirectoryState } from '../shared/api/index.ts';
import { createKeychainVault, createWorkstationCore } from '../main/node/index.ts';

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
const deadline = Date.now() + 120_000;
for (;;) {
  const setup = await core.dispatch(COMMANDS.getSetupState, undefined);
  const directory = await core.dispatch(COMMANDS.getDirectoryState, undefined);
  if (
    setup.ok &&
    directory.ok &&
    (setup.value as { registration: { state: string } }).registration.state === 'accepted' &&
    (directory.value as DirectoryState).experts === 2
  )
    break;
  if (Date.now() > deadline) throw new Error('not registered with the directory mirrored after 120 s');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
process.stdout.write('ready\n');
