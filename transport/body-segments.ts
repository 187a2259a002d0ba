import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import { NO_LOGGER, type Logger } from '../shared/index.ts';

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

export interface SegmentRecovery {
  readonly segment: number;
  readonly validBytes: number;
  readonly tornBytes: number;
}

export interface BodySegments {
  /** Encrypts and appends the bodies to the active segment, then fsyncs once: durable when it returns. */
  append(bodies: readonly Uint8Array[]): BodyRef[];
  /** The body, decrypted and checked; throws a clear Error if the record is missing, truncated or fails its tag. */
  read(ref: BodyRef): Uint8Array;
  /** Deletes every segment file except the active one and those in `live` (segments still referenced); returns how many. */
  reclaim(live: ReadonlySet<number>): number;
  /** The torn tail found (and cut off) when opening, if any. */
  readonly recovered: SegmentRecovery | undefined;
  close(): void;
}

const MAGIC = Buffer.from('RTSB');
const NONCE_BYTES = 12;
/** Magic, u32 ciphertext length (big-endian), nonce. */
const HEADER_BYTES = 4 + 4 + NONCE_BYTES;
const TAG_BYTES = 16;
const MAX_BODY_BYTES = 0xffff_ffff;
const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_FILE = /^(\d{8})\.seg$/;
const HKDF_INFO = 'rts transport body segments v1';
const KEY_CHECK_FILE = 'key-check';
/** Sealed at segment 0, offset 0: a place no body has (segments count from 1). */
const KEY_CHECK = Buffer.from('rts transport body segments key check');

const segmentFile = (segment: number) => `${String(segment).padStart(8, '0')}.seg`;

/**
 * The segment key from the store's key (HKDF-SHA256); '' when the store is plain. Each family of segments beside a
 * store (the outbox's, the cases') has its own `info`, so that a record moved from one family to the other fails its tag.
 */
export function segmentKeyFrom(storeKey: string | undefined, info: string = HKDF_INFO): Uint8Array {
  // As openDatabase: a keyed store has a key of at least 32 characters; a plain one still gets integrity checks.
  if (storeKey && storeKey.length < 32) throw new Error('the store key must have at least 32 characters');
  return new Uint8Array(hkdfSync('sha256', storeKey ?? '', new Uint8Array(0), info, 32));
}

/** Binds a record to its place, so that one copied to another segment or offset fails its tag. */
function placeOf(segment: number, offset: number): Buffer {
  const aad = Buffer.alloc(12);
  aad.writeUInt32BE(segment, 0);
  aad.writeBigUInt64BE(BigInt(offset), 4);
  return aad;
}

/**
 * A record as the parts to write (header, ciphertext, tag): a megabyte body is not copied once more to join them.
 * `nonce` is 12 random bytes of this record's own.
 */
function sealParts(key: Uint8Array, segment: number, offset: number, body: Uint8Array, nonce: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(placeOf(segment, offset));
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(body.byteLength, 4);
  nonce.copy(header, 8);
  const sealed = cipher.update(body);
  cipher.final(); // GCM gives nothing more here
  return [header, sealed, cipher.getAuthTag()];
}

function sealRecord(key: Uint8Array, segment: number, offset: number, body: Uint8Array): Buffer {
  return Buffer.concat(sealParts(key, segment, offset, body, randomBytes(NONCE_BYTES)));
}

function readFully(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

function writeFully(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.byteLength) done += writeSync(fd, buffer, done, buffer.byteLength - done, position + done);
}

/** A record as found at `offset`: its body, or why there is none (never the bytes themselves). */
type Found = { body: Buffer; end: number } | { problem: string };

function openRecord(fd: number, fileSize: number, key: Uint8Array, segment: number, offset: number): Found {
  const header = readFully(fd, HEADER_BYTES, offset);
  if (header.byteLength < HEADER_BYTES) return { problem: `is truncated (the file ends at byte ${fileSize})` };
  if (!header.subarray(0, 4).equals(MAGIC)) return { problem: 'is not the start of a record' };
  const length = header.readUInt32BE(4);
  const end = offset + HEADER_BYTES + length + TAG_BYTES;
  // Checked before reading, so that a torn length field cannot ask for gigabytes.
  if (end > fileSize) return { problem: `is truncated (${end} bytes needed, the file ends at byte ${fileSize})` };
  const sealed = readFully(fd, length + TAG_BYTES, offset + HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(8, HEADER_BYTES)).setAAD(
    placeOf(segment, offset),
  );
  decipher.setAuthTag(sealed.subarray(length));
  try {
    const body = decipher.update(sealed.subarray(0, length));
    decipher.final(); // checks the tag; GCM gives nothing more
    return { body, end };
  } catch {
    return { problem: 'fails its authentication tag (wrong key, altered, or moved from another place)' };
  }
}

/**
 * Fails on a wrong key before anything is judged torn: without it, a store opened with another key would see its
 * newest segment fail every tag and cut it all off. Written (atomically) before the first segment exists, so a
 * directory with segments and no check was tampered with, and is refused rather than guessed at.
 */
function checkKey(dir: string, key: Uint8Array, hasSegments: boolean): void {
  const path = join(dir, KEY_CHECK_FILE);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (hasSegments) {
      throw new Error(`${path} is missing, so the key of the body segments in ${dir} cannot be checked`, {
        cause: error,
      });
    }
    const temporary = `${path}.tmp`;
    const out = openSync(temporary, 'w', 0o600);
    try {
      writeFully(out, sealRecord(key, 0, 0, KEY_CHECK), 0);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(temporary, path);
    fsyncDirectory(dir);
    return;
  }
  try {
    const found = openRecord(fd, fstatSync(fd).size, key, 0, 0);
    if ('problem' in found || !found.body.equals(KEY_CHECK)) {
      throw new Error(
        `the body segments in ${dir} cannot be opened with this key (wrong key, or not segments of ours)`,
      );
    }
  } finally {
    closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  // Makes a new file's name durable. Windows cannot open a directory for fsync; NTFS journals names itself.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Cuts the newest segment at its first record that is truncated or fails its tag: the tail of an append that a crash
 * interrupted. Rows are committed only after append() returned, so no committed row points into that tail.
 */
function cutTornTail(dir: string, segment: number, key: Uint8Array): SegmentRecovery | undefined {
  const fd = openSync(join(dir, segmentFile(segment)), 'r+');
  try {
    const size = fstatSync(fd).size;
    let offset = 0;
    while (offset < size) {
      const found = openRecord(fd, size, key, segment, offset);
      if ('problem' in found) break;
      offset = found.end;
    }
    if (offset === size) return undefined;
    ftruncateSync(fd, offset);
    fsyncSync(fd);
    return { segment, validBytes: offset, tornBytes: size - offset };
  } finally {
    closeSync(fd);
  }
}

function checkedRef(ref: BodyRef): BodyRef {
  for (const field of ['segment', 'offset', 'length'] as const) {
    const value = ref[field];
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`body ref ${field} must be a whole number ≥ 0`);
  }
  return ref;
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
      const tooLarge = bodies.findIndex((body) => body.byteLength > MAX_BODY_BYTES);
      if (tooLarge >= 0) throw new Error(`body ${tooLarge} is larger than 4 GiB`);
      if (activeBroken) startSegment(active + 1);
      const refs: BodyRef[] = [];
      let run: Buffer[] = [];
      let runBytes = 0;
      // One draw for the group: a draw per record was 4.6 µs, a third of what sealing a 1 KiB body cost.
      const nonces = randomBytes(NONCE_BYTES * bodies.length);
      for (const [i, body] of bodies.entries()) {
        const recordBytes = HEADER_BYTES + body.byteLength + TAG_BYTES;
        // A body larger than a segment gets one of its own; otherwise the next segment starts before it would pass.
        if (activeSize + runBytes > 0 && activeSize + runBytes + recordBytes > maxSegmentBytes) {
          writeRun(run);
          startSegment(active + 1);
          run = [];
          runBytes = 0;
        }
        const offset = activeSize + runBytes;
        run.push(...sealParts(key, active, offset, body, nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES)));
        runBytes += recordBytes;
        refs.push({ segment: active, offset, length: body.byteLength });
      }
      writeRun(run);
      return refs;
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
      for (const fd of readers.values()) closeSync(fd);
      readers.clear();
      closeSync(activeFd);
    },
  };
}
