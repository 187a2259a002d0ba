import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, webcrypto } from 'node:crypto';
import { join } from 'node:path';
import type { BodyRef, SegmentRecovery } from './body-segments.ts';

// The records of body-segments.ts and their files: each record is a body sealed with AES-256-GCM, bound to its place
// (segment and offset), behind a header of magic, length and nonce.

const MAGIC = Buffer.from('RTSB');
export const NONCE_BYTES = 12;
/** Magic, u32 ciphertext length (big-endian), nonce. */
export const HEADER_BYTES = 4 + 4 + NONCE_BYTES;
export const TAG_BYTES = 16;
export const MAX_BODY_BYTES = 0xffff_ffff;
export const DEFAULT_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
export const SEGMENT_FILE = /^(\d{8})\.seg$/;
const HKDF_INFO = 'rts transport body segments v1';
const KEY_CHECK_FILE = 'key-check';
/** Sealed at segment 0, offset 0: a place no body has (segments count from 1). */
const KEY_CHECK = Buffer.from('rts transport body segments key check');

export const segmentFile = (segment: number) => `${String(segment).padStart(8, '0')}.seg`;

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
export function sealParts(key: Uint8Array, segment: number, offset: number, body: Uint8Array, nonce: Buffer): Buffer[] {
  const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(placeOf(segment, offset));
  const sealed = cipher.update(body);
  cipher.final(); // GCM gives nothing more here
  return [headerOf(body.byteLength, nonce), sealed, cipher.getAuthTag()];
}

/**
 * The same record's parts, sealed on libuv's thread pool by Web Crypto (whose output is the ciphertext with the tag
 * after it): for large bodies, whose sealing would otherwise hold the event loop (about 0.65 ms a MiB in P2's profile).
 */
export async function sealPartsOffLoop(
  key: webcrypto.CryptoKey,
  segment: number,
  offset: number,
  body: Uint8Array,
  nonce: Buffer,
): Promise<Buffer[]> {
  const sealed = await webcrypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: placeOf(segment, offset), tagLength: TAG_BYTES * 8 },
    key,
    body,
  );
  return [headerOf(body.byteLength, nonce), Buffer.from(sealed)];
}

/** The segment key for sealPartsOffLoop. */
export const importSegmentKey = (key: Uint8Array): Promise<webcrypto.CryptoKey> =>
  webcrypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);

function headerOf(length: number, nonce: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(length, 4);
  nonce.copy(header, 8);
  return header;
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

export function writeFully(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.byteLength) done += writeSync(fd, buffer, done, buffer.byteLength - done, position + done);
}

/** A record as found at `offset`: its body, or why there is none (never the bytes themselves). */
type Found = { body: Buffer; end: number } | { problem: string };

export function openRecord(fd: number, fileSize: number, key: Uint8Array, segment: number, offset: number): Found {
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
export function checkKey(dir: string, key: Uint8Array, hasSegments: boolean): void {
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

export function fsyncDirectory(dir: string): void {
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
 * interrupted. Rows are committed only after append() returned or appendDurably() resolved, so no committed row
 * points into that tail.
 */
export function cutTornTail(dir: string, segment: number, key: Uint8Array): SegmentRecovery | undefined {
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

export function checkedRef(ref: BodyRef): BodyRef {
  for (const field of ['segment', 'offset', 'length'] as const) {
    const value = ref[field];
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`body ref ${field} must be a whole number ≥ 0`);
  }
  return ref;
}
