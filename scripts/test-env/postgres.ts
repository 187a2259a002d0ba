/**
 * The private test PostgreSQL from the command line (see postgres-control.ts):
 *   node scripts/test-env/postgres.ts start --state FILE [--dir DIR]   (DIR: the cluster's folder; default a new one under /tmp)
 *   node scripts/test-env/postgres.ts stop --state FILE
 * The state file (postgres-env.ts) is written as soon as the server process exists, so `stop` can always stop it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PostgresState } from './postgres-env.ts';
import { startPostgres, stopPostgres } from './postgres-control.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { state: { type: 'string' }, dir: { type: 'string' } },
});
const stateFile = values.state;
const command = positionals[0] ?? '';
if (!stateFile || !['start', 'stop'].includes(command)) {
  console.error('usage: postgres.ts start|stop --state FILE [--dir DIR]');
  process.exit(2);
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const started = Date.now();

if (command === 'start') {
  if (existsSync(stateFile)) throw new Error(`${stateFile} exists: stop that PostgreSQL first`);
  const save = (state: PostgresState) => writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  // A Ctrl-C or kill while starting stops what was started instead of leaving a server behind.
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const state = await startPostgres({
      dir: values.dir ?? mkdtempSync(join(tmpdir(), 'rts-postgres-')),
      onSpawn: save,
      signal: abort.signal,
    });
    save(state);
    console.log(`postgres: up in ${seconds(started)}s on 127.0.0.1:${state.port}, pid ${state.pid}`);
  } catch (error) {
    rmSync(stateFile, { force: true });
    console.error(`postgres: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = abort.signal.aborted ? 130 : 1;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
} else if (existsSync(stateFile)) {
  await stopPostgres(JSON.parse(readFileSync(stateFile, 'utf8')) as PostgresState);
  rmSync(stateFile, { force: true });
  console.log(`postgres: stopped in ${seconds(started)}s`);
}
