import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openBodySegments } from '../body-segments.ts';

/*
 * The writer that body-segments.crash.test.ts kills with SIGKILL:
 *   node transport/testing/segment-writer.ts <dir> <key hex> <first index> [durably]
 * appends bodies in groups of 1 to 4 until killed, and after each append() returned prints one JSON line per body,
 * {"index":…,"ref":{…}}: acknowledged, so it must read back after any crash. With `durably`, three groups at a time
 * go to appendDurably (the later two wait for the first's write, then share one), each acknowledged when it resolves.
 */

const SIZES = [0, 1024, 37, 64 * 1024, 1024 * 1024, 8 * 1024 * 1024, 300 * 1024, 3 * 1024 * 1024];

/** Body number `index`, the same in the writer and the test: mixed sizes up to 8 MiB, content unique to the index. */
export function crashBody(index: number): Buffer {
  const body = Buffer.alloc(SIZES[index % SIZES.length]!);
  return body.fill(createHash('sha256').update(String(index)).digest());
}

function writeUntilKilled(dir: string, key: Uint8Array, first: number): never {
  const segments = openBodySegments({ dir, key });
  for (let index = first; ;) {
    const indexes = Array.from({ length: 1 + (index % 4) }, (_, i) => index + i);
    const refs = segments.append(indexes.map(crashBody));
    writeSync(1, indexes.map((i, n) => `${JSON.stringify({ index: i, ref: refs[n] })}\n`).join(''));
    index += indexes.length;
  }
}

async function writeDurablyUntilKilled(dir: string, key: Uint8Array, first: number): Promise<never> {
  const segments = openBodySegments({ dir, key });
  for (let index = first; ;) {
    const groups = [0, 1, 2].map(() => {
      const indexes = Array.from({ length: 1 + (index % 4) }, (_, i) => index + i);
      index += indexes.length;
      return indexes;
    });
    await Promise.all(
      groups.map(async (indexes) => {
        const refs = await segments.appendDurably(indexes.map(crashBody));
        writeSync(1, indexes.map((i, n) => `${JSON.stringify({ index: i, ref: refs[n] })}\n`).join(''));
      }),
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, keyHex, first, mode] = process.argv.slice(2);
  if (!dir || !keyHex || !first) throw new Error('usage: segment-writer.ts <dir> <key hex> <first index> [durably]');
  if (mode === 'durably') await writeDurablyUntilKilled(dir, Buffer.from(keyHex, 'hex'), Number(first));
  else writeUntilKilled(dir, Buffer.from(keyHex, 'hex'), Number(first));
}
