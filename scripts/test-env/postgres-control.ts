/**
 * A private PostgreSQL for the hub's integration tests: a fresh cluster (initdb) in a folder of its own, listening on a
 * free port on 127.0.0.1 only, SCRAM password logins for the superuser `rts`, and an empty database `rts_hub`.
 * It is stopped by pid and its folder removed. The command line is postgres.ts; tests find it with postgres-env.ts.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { freeLoopbackPort } from './free-port.ts';
import { isAlive, waitForExit } from './process-liveness.ts';
import type { PostgresState } from './postgres-env.ts';

export type { PostgresState } from './postgres-env.ts';

const SUPERUSER = 'rts';
const DATABASE = 'rts_hub';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
/** Another process may take the free port between our probe and the server's bind; then the server tries another. */
const BIND_ATTEMPTS = 3;
/** sun_path is 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 103;
const LOG_FILE = 'server.log';

const isRoot = process.getuid?.() === 0;

interface Ids {
  uid: number;
  gid: number;
}

export interface StartPostgresOptions {
  /** The cluster's folder: created if absent, and must be empty. As root it is handed to the `postgres` user. */
  dir: string;
  /** Called as soon as the postmaster runs, before it serves: record the state then, so it can be stopped whatever happens. */
  onSpawn?: (state: PostgresState) => void;
  /** Aborting stops whatever was started, removes the folder, and rejects. */
  signal?: AbortSignal;
}

/** The server binaries: pg_config's bindir, else the newest Debian /usr/lib/postgresql/N/bin, else initdb on PATH. */
export function postgresBinDir(): string {
  const candidates: string[] = [];
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0 && pgConfig.stdout.trim()) candidates.push(pgConfig.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!found)
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) not found: install the Debian package postgresql (scripts/setup.sh)',
    );
  return found;
}

/** As root, the server must run as `postgres` (it refuses root); otherwise as the current user. */
function postgresIds(): Ids | undefined {
  if (!isRoot) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0)
    throw new Error('user postgres missing: install the Debian package postgresql (scripts/setup.sh)');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Switching user in the child before exec (what `setpriv` does), so the pid we get is the program's own and not a
 * wrapper's, as `runuser` would give.
 */
function asPostgresUser(ids: Ids | undefined): { uid?: number; gid?: number; cwd: string } {
  return ids ? { uid: ids.uid, gid: ids.gid, cwd: '/' } : { cwd: '/' };
}

/** Nothing from the caller's PG* variables (PGHOST, PGSSLMODE, …) reaches the tools. */
function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, LANG: 'C', ...extra };
}

interface RunResult {
  ok: boolean;
  output: string;
}

function run(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; ids?: Ids; signal?: AbortSignal; timeoutMs: number },
): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      {
        env: options.env,
        ...asPostgresUser(options.ids),
        timeout: options.timeoutMs,
        encoding: 'utf8',
        ...(options.signal && { signal: options.signal }),
      },
      (error, stdout, stderr) =>
        done({ ok: !error, output: `${stderr}${stdout}`.trim() || (error ? error.message : '') }),
    );
  });
}

/** Only a live postmaster of this data folder is ever signalled, never a process that reused a stale pid. */
function isPostmasterOf(pid: number, dataDir: string): boolean {
  if (!(pid > 0) || !isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
  } catch {
    return true; // no /proc (macOS): trust the pid
  }
}

/** First line of postmaster.pid: the pid of the postmaster that owns the folder, while it runs. */
function pidFileOwner(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function logTail(dataDir: string, lines = 30): string {
  try {
    const tail = readFileSync(join(dataDir, LOG_FILE), 'utf8').trimEnd().split('\n').slice(-lines);
    return `\n--- ${join(dataDir, LOG_FILE)} (last ${tail.length} lines)\n${tail.join('\n')}`;
  } catch {
    return '';
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('PostgreSQL start interrupted');
}

function serverSettings(dataDir: string, port: number): string {
  return [
    '',
    '# Private test server (scripts/test-env/postgres-control.ts)',
    `listen_addresses = '127.0.0.1'`,
    `port = ${port}`,
    `unix_socket_directories = '${dataDir.replaceAll("'", "''")}'`,
    `max_connections = 50`,
    `shared_buffers = 64MB`,
    `password_encryption = 'scram-sha-256'`,
    `timezone = 'UTC'`,
    `log_timezone = 'UTC'`,
    '',
  ].join('\n');
}

async function initCluster(
  bin: string,
  dataDir: string,
  password: string,
  ids: Ids | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  // The password reaches initdb in a file only its user can read, in a folder of its own outside the (still empty) cluster.
  const pwDir = mkdtempSync(join(tmpdir(), 'rts-postgres-pw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (ids) {
      chownSync(pwDir, ids.uid, ids.gid);
      chownSync(pwFile, ids.uid, ids.gid);
    }
    const args = [
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      `--pwfile=${pwFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ];
    // Not cut short by the signal: a killed initdb leaves its bootstrap backend writing into the folder we then remove.
    const result = await run(join(bin, 'initdb'), args, { env: toolEnv(), ...(ids && { ids }), timeoutMs: 120_000 });
    throwIfAborted(signal);
    if (!result.ok) throw new Error(`initdb failed: ${result.output}`);
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

function spawnPostmaster(bin: string, dataDir: string, ids: Ids | undefined): number {
  const logPath = join(dataDir, LOG_FILE);
  const log = openSync(logPath, 'a', 0o600);
  if (ids) chownSync(logPath, ids.uid, ids.gid);
  try {
    // Detached: its own process group, so a Ctrl-C at the terminal reaches it only through stopPostgres.
    const child = spawn(join(bin, 'postgres'), ['-D', dataDir], {
      env: toolEnv(),
      ...asPostgresUser(ids),
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${join(bin, 'postgres')}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** 'ready' once it accepts connections; 'exited' if the postmaster died first. */
async function waitUntilReady(
  bin: string,
  state: PostgresState,
  signal: AbortSignal | undefined,
): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const args = ['-q', '-h', '127.0.0.1', '-p', String(state.port), '-U', SUPERUSER, '-d', 'postgres', '-t', '2'];
  for (;;) {
    throwIfAborted(signal);
    if (!isAlive(state.pid)) return 'exited';
    const probe = await run(join(bin, 'pg_isready'), args, {
      env: toolEnv(),
      ...(signal && { signal }),
      timeoutMs: 5_000,
    });
    if (probe.ok) return 'ready';
    if (Date.now() >= deadline) {
      throw new Error(
        `PostgreSQL (pid ${state.pid}) did not accept connections on 127.0.0.1:${state.port} within ${READY_TIMEOUT_MS / 1000} s${logTail(state.dataDir)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPostgres(options: StartPostgresOptions): Promise<PostgresState> {
  const { signal } = options;
  const bin = postgresBinDir();
  const ids = postgresIds();
  const dataDir = resolve(options.dir);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(
      `${dataDir} is not empty: stop the PostgreSQL there first (postgres.ts stop), or pick another folder`,
    );
  }
  if (join(dataDir, '.s.PGSQL.65535.lock').length > MAX_SOCKET_PATH) {
    throw new Error(`${dataDir} is too long a path for the server's unix socket inside it; pick a shorter folder`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  const state: PostgresState = { pid: 0, port: 0, dataDir, url: '' };
  try {
    if (ids) {
      chownSync(dataDir, ids.uid, ids.gid);
      if (spawnSync('test', ['-w', dataDir], asPostgresUser(ids)).status !== 0) {
        throw new Error(
          `the postgres user cannot reach ${dataDir} (a folder above it is closed to other users); pick a folder under /tmp`,
        );
      }
    }
    await initCluster(bin, dataDir, password, ids, signal);

    const configFile = join(dataDir, 'postgresql.conf');
    const initdbConfig = readFileSync(configFile, 'utf8');
    for (let attempt = 1; ; attempt++) {
      state.port = await freeLoopbackPort();
      state.url = `postgres://${SUPERUSER}:${password}@127.0.0.1:${state.port}/${DATABASE}`;
      // Rewriting in place keeps the file's owner (postgres, as root).
      writeFileSync(configFile, initdbConfig + serverSettings(dataDir, state.port));
      throwIfAborted(signal);
      state.pid = spawnPostmaster(bin, dataDir, ids);
      options.onSpawn?.({ ...state });
      if ((await waitUntilReady(bin, state, signal)) === 'ready') break;
      const tail = logTail(dataDir);
      if (attempt < BIND_ATTEMPTS && /could not (bind|create any TCP\/IP sockets)/.test(tail)) continue;
      throw new Error(`PostgreSQL (pid ${state.pid}) exited before accepting connections${tail}`);
    }

    const created = await run(
      join(bin, 'createdb'),
      ['-h', '127.0.0.1', '-p', String(state.port), '-U', SUPERUSER, '-O', SUPERUSER, DATABASE],
      { env: toolEnv({ PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }), ...(signal && { signal }), timeoutMs: 30_000 },
    );
    throwIfAborted(signal);
    if (!created.ok) throw new Error(`createdb ${DATABASE} failed: ${created.output}${logTail(dataDir)}`);

    const owner = pidFileOwner(dataDir);
    if (owner !== state.pid)
      throw new Error(`postmaster.pid names pid ${owner}, but the server started as pid ${state.pid}`);
    return state;
  } catch (error) {
    await stopPostgres(state);
    throw error;
  }
}

/**
 * Fast shutdown (SIGINT: sessions are ended, nothing is waited for), SIGKILL to its whole process group if it is still
 * there after 10 s, then the data folder is removed. Safe to call twice, and on a server that already died.
 */
export async function stopPostgres(state: PostgresState): Promise<void> {
  const dataDir = resolve(state.dataDir);
  const pids = [...new Set([state.pid, pidFileOwner(dataDir) ?? 0])].filter((pid) => isPostmasterOf(pid, dataDir));
  for (const pid of pids) process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pids, STOP_TIMEOUT_MS))) {
    for (const pid of pids.filter(isAlive)) {
      console.error(`postgres: pid ${pid} still running ${STOP_TIMEOUT_MS / 1000} s after SIGINT, sending SIGKILL`);
      // The postmaster leads its process group (it was started detached), so its backends go with it.
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (!(await waitForExit(pids, 5_000)))
      throw new Error(`PostgreSQL pid(s) ${pids.filter(isAlive).join(', ')} survived SIGKILL`);
  }
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
