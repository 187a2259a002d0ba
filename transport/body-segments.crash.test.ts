import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openBodySegments, segmentKeyFrom, type BodyRef, type BodySegments } from './body-segments.ts';
import { crashBody } from './testing/segment-writer.ts';

const WRITER = join(import.meta.dirname, 'testing', 'segment-writer.ts');
const KEY = segmentKeyFrom('crash-test-store-key-'.repeat(2));
/** Kills at least; more, up to MAX_ROUNDS, until one landed inside a write (about half do here). */
const ROUNDS = 8;
const MAX_ROUNDS = 24;

interface Acknowledged {
  readonly index: number;
  readonly ref: BodyRef;
}

/**
 * Starts the writer, kills it with SIGKILL at a random moment once it acknowledged its first group, and returns every
 * acknowledgement it printed whole (a line cut by the kill is not one).
 */
function writeAndKill(dir: string, first: number, mode: 'append' | 'durably'): Promise<Acknowledged[]> {
  const child = spawn(process.execPath, [WRITER, dir, Buffer.from(KEY).toString('hex'), String(first), mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let killAt: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    killAt ??= setTimeout(() => child.kill('SIGKILL'), Math.random() * 300);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killAt);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (${code}): ${stderr}`));
      else
        resolve(
          stdout
            .split('\n')
            .slice(0, -1)
            .map((line) => JSON.parse(line) as Acknowledged),
        );
    });
  });
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('keeps every acknowledged body through SIGKILLs at random moments of appending, and appends on after each', async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-segments-crash-'));
  const acknowledged: Acknowledged[] = [];
  let tornKills = 0;
  const readsBack = (segments: BodySegments, { index, ref }: Acknowledged) =>
    expect(Buffer.from(segments.read(ref)).equals(crashBody(index)), `body ${index}`).toBe(true);

  let round = 0;
  for (; round < ROUNDS || (tornKills === 0 && round < MAX_ROUNDS); round += 1) {
    // Every other round appends durably (on the thread pool, groups sharing a write).
    const acks = await writeAndKill(dir, round * 1_000_000, round % 2 === 0 ? 'append' : 'durably');
    expect(acks.length).toBeGreaterThan(0);
    acknowledged.push(...acks);

    const segments = openBodySegments({ dir, key: KEY });
    if ((segments.recovered?.tornBytes ?? 0) > 0) tornKills += 1;
    for (const ack of acks) readsBack(segments, ack);
    const [ref] = segments.append([crashBody(round)]);
    const appended = { index: round, ref: ref! };
    readsBack(segments, appended);
    acknowledged.push(appended);
    segments.close();
  }

  const segments = openBodySegments({ dir, key: KEY });
  for (const ack of acknowledged) readsBack(segments, ack);
  segments.close();
  console.info(
    `body segments crash: ${tornKills} of ${round} kills left a torn tail, ${acknowledged.length} acknowledged`,
  );
  // Which kill lands inside a write is chance; body-segments.test.ts tears each shape of record on purpose.
  expect(tornKills).toBeGreaterThan(0);
  // About 4 s; up to MAX_ROUNDS on a busy machine takes longer than the unit project's 20 s.
}, 60_000);
