import { randomBytes, type webcrypto } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  unlinkSync,
  write,
  writev,
  writevSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { NO_LOGGER, type Logger } from '../shared/index.ts';
import {
  checkedRef,
  checkKey,
  cutTornTail,
  DEFAULT_MAX_SEGMENT_BYTES,
  fsyncDirectory,
  HEADER_BYTES,
  MAX_BODY_BYTES,
  NONCE_BYTES,
  openRecord,
  importSegmentKey,
  sealParts,
  sealPartsOffLoop,
  SEGMENT_FILE,
  segmentFile,
  TAG_BYTES,
  writeFully,
} from './segment-records.ts';

export { segmentKeyFrom } from './segment-records.ts';

// Outbox bodies are CMS envelopes already: they need their metadata kept confidential and their integrity checked, not
// a second page cipher in the SQLite B-tree. So each body is written once, AES-256-GCM-sealed, to an append-only
// segment file beside the database; the store's rows hold only state and a BodyRef. A segment goes as a whole once no
// row refers to it any more.

/** Where a body lives: its segment file, the record's offset in it, and the body's (plaintext) length. */
export interface BodyRef {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;
}

export interface BodySegmentsOptions {
  /** Created if missing (mode 0o700). */
  readonly dir: string;
  /** 32 bytes, AES-256-GCM (segmentKeyFrom). */
  readonly key: Uint8Array;
  /** Rotate to a new file past this (default 64 MiB). */
  readonly maxSegmentBytes?: number;
  /** Logs recovery, never bodies. */
  readonly logger?: Logger;
}

/** A record's place, before it is sealed. */
interface Placed {
  readonly segment: number;
  readonly offset: number;
  readonly body: Uint8Array;
  readonly nonce: Buffer;
}

/** appendDurably seals bodies from this size on the thread pool, as the digests of shared-node's accelerator go. */
const SEAL_OFF_LOOP_FROM = 64 * 1024;

export interface SegmentRecovery {
  readonly segment: number;
  readonly validBytes: number;
  readonly tornBytes: number;
}

export interface BodySegments {
  /** Encrypts and appends the bodies to the active segment, then fsyncs once: durable when it returns. */
  append(bodies: readonly Uint8Array[]): BodyRef[];
  /**
   * `append` with the write and the fsync on the thread pool, so that the event loop runs meanwhile: durable when it
   * resolves. Bodies appended while a write is under way go together in the next write and fsync (group commit).
   * A family of segments is written one way: `append` throws while one of these is under way. Rejects once closed.
   */
  appendDurably(bodies: readonly Uint8Array[]): Promise<BodyRef[]>;
  /** The body, decrypted and checked; throws a clear Error if the record is missing, truncated or fails its tag. */
  read(ref: BodyRef): Uint8Array;
  /** Deletes every segment file except the active one and those in `live` (segments still referenced); returns how many. */
  reclaim(live: ReadonlySet<number>): number;
  /** The torn tail found (and cut off) when opening, if any. */
  readonly recovered: SegmentRecovery | undefined;
  close(): void;
}

export function openBodySegments(options: BodySegmentsOptions): BodySegments {
  const { dir, key, maxSegmentBytes = DEFAULT_MAX_SEGMENT_BYTES, logger = NO_LOGGER } = options;
  if (key.byteLength !== 32) throw new Error(`the body segment key must be 32 bytes, not ${key.byteLength}`);
  if (!Number.isSafeInteger(maxSegmentBytes) || maxSegmentBytes <= 0) {
    throw new Error('maxSegmentBytes must be a whole number > 0');
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existing = readdirSync(dir)
    .map((name) => SEGMENT_FILE.exec(name))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]));
  const newest = existing.length > 0 ? Math.max(...existing) : 0;
  checkKey(dir, key, existing.length > 0);
  const recovered = newest > 0 ? cutTornTail(dir, newest, key) : undefined;
  if (recovered) logger.warn('segments.torn-tail', { ...recovered });

  // Appends go to a new file each time the segments are opened, never after a tail that a crash may have left.
  let active = 0;
  let activeFd = -1;
  let activeSize = 0;
  // After a failed write or fsync the file's tail is unknown (and a retried fsync may lie): later appends start anew.
  let activeBroken = false;
  const readers = new Map<number, number>();
  let closed = false;

  const startSegment = (segment: number) => {
    // 'wx+': a segment is never reopened for writing, and another writer's file is never taken over.
    const fd = openSync(join(dir, segmentFile(segment)), 'wx+', 0o600);
    if (activeFd >= 0) closeSync(activeFd);
    activeFd = fd;
    active = segment;
    activeSize = 0;
    // Until its name is durable, the new file is no place for bodies either.
    activeBroken = true;
    fsyncDirectory(dir);
    activeBroken = false;
  };
  startSegment(newest + 1);

  const assertOpen = () => {
    if (closed) throw new Error('the body segments are closed');
  };

  /** Writes one run of records to the active segment in one write and one fsync. */
  const writeRun = (parts: Buffer[]) => {
    if (parts.length === 0) return;
    const bytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
    try {
      // One gathered write (libuv writes every part, IOV_MAX or not); anything short of it is finished plainly.
      const written = writevSync(activeFd, parts, activeSize);
      if (written < bytes) writeFully(activeFd, Buffer.concat(parts).subarray(written), activeSize + written);
      fsyncSync(activeFd);
    } catch (error) {
      activeBroken = true;
      throw error;
    }
    activeSize += bytes;
  };

  const writevAsync = promisify(writev);
  const writeAsync = promisify(write);
  const fsyncAsync = promisify(fsync);
  /** writeRun on the thread pool; only one is under way at a time (appendDurably's flushes follow each other). */
  const writeRunAsync = async (parts: Buffer[]) => {
    if (parts.length === 0) return;
    const bytes = parts.reduce((sum, part) => sum + part.byteLength, 0);
    const fd = activeFd;
    try {
      const { bytesWritten: written } = await writevAsync(fd, parts, activeSize);
      if (written < bytes) {
        const rest = Buffer.concat(parts).subarray(written);
        let done = 0;
        while (done < rest.byteLength)
          done += (await writeAsync(fd, rest, done, rest.byteLength - done, activeSize + written + done)).bytesWritten;
      }
      await fsyncAsync(fd);
    } catch (error) {
      activeBroken = true;
      throw error;
    }
    activeSize += bytes;
  };

  /**
   * Where `bodies` go: their records' places, in runs of one write each; a run after the first starts the next segment
   * (a body larger than a segment gets one of its own; otherwise the next segment starts before it would pass).
   */
  const layout = (bodies: readonly Uint8Array[]) => {
    const tooLarge = bodies.findIndex((body) => body.byteLength > MAX_BODY_BYTES);
    if (tooLarge >= 0) throw new Error(`body ${tooLarge} is larger than 4 GiB`);
    const runs: Placed[][] = [];
    const refs: BodyRef[] = [];
    let segment = active;
    let size = activeSize;
    let run: Placed[] = [];
    let runBytes = 0;
    // One draw for the group: a draw per record was 4.6 µs, a third of what sealing a 1 KiB body cost.
    const nonces = randomBytes(NONCE_BYTES * bodies.length);
    for (const [i, body] of bodies.entries()) {
      const recordBytes = HEADER_BYTES + body.byteLength + TAG_BYTES;
      if (size + runBytes > 0 && size + runBytes + recordBytes > maxSegmentBytes) {
        runs.push(run);
        segment += 1;
        size = 0;
        run = [];
        runBytes = 0;
      }
      const offset = size + runBytes;
      run.push({ segment, offset, body, nonce: nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES) });
      runBytes += recordBytes;
      refs.push({ segment, offset, length: body.byteLength });
    }
    runs.push(run);
    return { runs, refs };
  };
  const sealOne = (r: Placed) => sealParts(key, r.segment, r.offset, r.body, r.nonce);
  const seal = (run: readonly Placed[]) => run.flatMap(sealOne);
  /** Large bodies sealed on the thread pool, small ones at once (a Web Crypto job costs more than sealing 1 KiB). */
  let offLoopKey: Promise<webcrypto.CryptoKey> | undefined;
  const sealOffLoop = async (run: readonly Placed[]) => {
    const parts = await Promise.all(
      run.map(async (r) =>
        r.body.byteLength < SEAL_OFF_LOOP_FROM
          ? sealOne(r)
          : sealPartsOffLoop(await (offLoopKey ??= importSegmentKey(key)), r.segment, r.offset, r.body, r.nonce),
      ),
    );
    return parts.flat();
  };

  /** appendDurably's bodies waiting for the write under way, and whether one is. */
  let queued: { bodies: readonly Uint8Array[]; done: (refs: BodyRef[] | Error) => void }[] = [];
  let flushing = false;
  const closeFiles = () => {
    for (const fd of readers.values()) closeSync(fd);
    readers.clear();
    closeSync(activeFd);
  };
  const flush = async () => {
    flushing = true;
    try {
      while (queued.length > 0 && !closed) {
        const group = queued;
        queued = [];
        try {
          if (activeBroken) startSegment(active + 1);
          const { runs, refs } = layout(group.flatMap((g) => g.bodies));
          for (const [i, run] of runs.entries()) {
            const parts = await sealOffLoop(run);
            if (i > 0) startSegment(active + 1);
            await writeRunAsync(parts);
          }
          let from = 0;
          for (const g of group) g.done(refs.slice(from, (from += g.bodies.length)));
        } catch (error) {
          for (const g of group) g.done(error instanceof Error ? error : new Error(String(error)));
        }
      }
    } finally {
      flushing = false;
      for (const g of queued.splice(0)) g.done(new Error('the body segments are closed'));
      // Closed while a write was under way: its file is closed now that nothing uses it.
      if (closed) closeFiles();
    }
  };

  const fdOf = (segment: number): number => {
    if (segment === active) return activeFd;
    let fd = readers.get(segment);
    if (fd === undefined) {
      try {
        fd = openSync(join(dir, segmentFile(segment)), 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        throw new Error(`body segment ${segment} is missing (reclaimed or deleted)`, { cause: error });
      }
      readers.set(segment, fd);
    }
    return fd;
  };

  return {
    recovered,

    append(bodies) {
      assertOpen();
      if (flushing) throw new Error('the body segments are being appended to durably: use appendDurably');
      if (activeBroken) startSegment(active + 1);
      const { runs, refs } = layout(bodies);
      for (const [i, run] of runs.entries()) {
        if (i > 0) startSegment(active + 1);
        writeRun(seal(run));
      }
      return refs;
    },

    async appendDurably(bodies) {
      assertOpen();
      return new Promise((resolve, reject) => {
        queued.push({ bodies, done: (refs) => (refs instanceof Error ? reject(refs) : resolve(refs)) });
        if (!flushing) void flush();
      });
    },

    read(ref) {
      assertOpen();
      const { segment, offset, length } = checkedRef(ref);
      const fd = fdOf(segment);
      const size = segment === active ? activeSize : fstatSync(fd).size;
      const found = openRecord(fd, size, key, segment, offset);
      if ('problem' in found) {
        throw new Error(`the body record at segment ${segment} offset ${offset} ${found.problem}`);
      }
      if (found.body.byteLength !== length) {
        throw new Error(
          `the body record at segment ${segment} offset ${offset} holds ${found.body.byteLength} bytes, not the ref's ${length}`,
        );
      }
      return found.body;
    },

    reclaim(live) {
      assertOpen();
      let deleted = 0;
      for (const name of readdirSync(dir)) {
        const match = SEGMENT_FILE.exec(name);
        if (!match) continue;
        const segment = Number(match[1]);
        if (segment === active || live.has(segment)) continue;
        // Closed first: Windows refuses to delete an open file.
        const fd = readers.get(segment);
        if (fd !== undefined) closeSync(fd);
        readers.delete(segment);
        unlinkSync(join(dir, name));
        deleted += 1;
      }
      return deleted;
    },

    close() {
      if (closed) return;
      closed = true;
      if (!flushing) closeFiles();
    },
  };
}
