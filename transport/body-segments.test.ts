import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../shared/index.ts';
import { openBodySegments, segmentKeyFrom, type BodyRef, type BodySegments } from './body-segments.ts';
import { importSegmentKey, sealParts, sealPartsOffLoop } from './segment-records.ts';

const KEY = segmentKeyFrom('k'.repeat(40));
const KiB = 1024;
const MiB = 1024 * 1024;

/** Byte-equal; toEqual compares megabytes element by element, which takes seconds. */
const same = (actual: Uint8Array, expected: Uint8Array) =>
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)).toBe(true);

describe('body segments', () => {
  let dir: string;
  const opened: BodySegments[] = [];
  const open = (options: { maxSegmentBytes?: number; key?: Uint8Array; logger?: Logger } = {}) => {
    const segments = openBodySegments({ dir, key: KEY, ...options });
    opened.push(segments);
    return segments;
  };
  /** Each body appended durably at once (the first starts a write, the rest share the next), read back, after a reopen too. */
  async function appendedDurably(segments: BodySegments, bodies: readonly Uint8Array[]): Promise<BodyRef[]> {
    const refs = (await Promise.all(bodies.map((body) => segments.appendDurably([body])))).flat();
    bodies.forEach((body, i) => same(segments.read(refs[i]!), body));
    segments.close();
    const again = open();
    expect(again.recovered).toBeUndefined();
    bodies.forEach((body, i) => same(again.read(refs[i]!), body));
    return refs;
  }
  const segmentFiles = () => readdirSync(dir).filter((name) => name.endsWith('.seg'));
  const fileOf = (segment: number) => join(dir, `${String(segment).padStart(8, '0')}.seg`);

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'rts-segments-')), 'bodies');
  });
  afterEach(() => {
    for (const segments of opened.splice(0)) segments.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('reads back bodies of 0 B, 1 KiB and 3 MiB appended in one group, after a reopen too', () => {
    const bodies = [new Uint8Array(0), randomBytes(KiB), randomBytes(3 * MiB)];
    const first = open();
    const refs = first.append(bodies);
    expect(refs.map((ref) => ref.length)).toEqual([0, KiB, 3 * MiB]);
    expect(new Set(refs.map((ref) => ref.segment))).toEqual(new Set([1]));
    refs.forEach((ref, i) => same(first.read(ref), bodies[i]!));
    first.close();

    const again = open();
    expect(again.recovered).toBeUndefined();
    refs.forEach((ref, i) => same(again.read(ref), bodies[i]!));
    // Appends go to a new segment, never after an old one's tail.
    const [next] = again.append([Buffer.from('next')]);
    expect(next).toEqual({ segment: 2, offset: 0, length: 4 });
    expect(Buffer.from(again.read(next!)).toString()).toBe('next');
  });

  it('rotates to a new segment before one would pass maxSegmentBytes, and gives a larger body a segment of its own', () => {
    const segments = open({ maxSegmentBytes: 4 * KiB });
    const small = Array.from({ length: 6 }, () => randomBytes(KiB));
    const large = randomBytes(10 * KiB);
    const refs = segments.append([...small, large, small[0]!]);
    // 1 KiB + 36 bytes of framing: three records fit in 4 KiB, a fourth would pass it.
    expect(refs.map((ref) => ref.segment)).toEqual([1, 1, 1, 2, 2, 2, 3, 4]);
    expect(refs.map((ref) => ref.offset)).toEqual([0, 1060, 2120, 0, 1060, 2120, 0, 0]);
    expect(segmentFiles()).toHaveLength(4);
    expect(statSync(fileOf(3)).size).toBe(10 * KiB + 36);
    [...small, large, small[0]!].forEach((body, i) => expect(segments.read(refs[i]!)).toEqual(body));
  });

  it('appends durably on the thread pool, the appends that wait for a write sharing the next one', async () => {
    const bodies = Array.from({ length: 7 }, () => randomBytes(KiB));
    // The first starts a write at once; the other six wait for it, then go in one layout (rotating as append does).
    const refs = await appendedDurably(open({ maxSegmentBytes: 4 * KiB }), bodies);
    expect(refs.map((ref) => ref.segment)).toEqual([1, 1, 1, 2, 2, 2, 3]);
    expect(refs.map((ref) => ref.offset)).toEqual([0, 1060, 2120, 0, 1060, 2120, 0]);
  });

  it('seals large bodies on the thread pool into the same records as at once, in the order and places laid out', async () => {
    const nonce = randomBytes(12);
    const body = randomBytes(80 * KiB);
    const atOnce = Buffer.concat(sealParts(KEY, 3, 4096, body, nonce));
    const offLoop = Buffer.concat(await sealPartsOffLoop(await importSegmentKey(KEY), 3, 4096, body, nonce));
    expect(offLoop.equals(atOnce)).toBe(true);

    const bodies = [randomBytes(KiB), randomBytes(200 * KiB), randomBytes(64 * KiB), randomBytes(63 * KiB)];
    const refs = await appendedDurably(open({ maxSegmentBytes: 256 * KiB }), bodies);
    expect(refs.map((ref) => ref.segment)).toEqual([1, 1, 2, 2]);
  });

  it('refuses a plain append while a durable one is under way, and takes it after', async () => {
    const segments = open();
    const durable = segments.appendDurably([randomBytes(KiB)]);
    expect(() => segments.append([randomBytes(KiB)])).toThrow(/appendDurably/);
    const [ref] = await durable;
    const [after] = segments.append([Buffer.from('after')]);
    expect(after!.offset).toBe(ref!.length + 36);
    expect(Buffer.from(segments.read(after!)).toString()).toBe('after');
  });

  it('finishes the write under way when closed, refuses what waited for it, and closes its file after', async () => {
    const segments = open();
    const body = randomBytes(64 * KiB);
    const underWay = segments.appendDurably([body]);
    const waiting = segments.appendDurably([randomBytes(KiB)]);
    segments.close();
    const [ref] = await underWay;
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(segments.appendDurably([body])).rejects.toThrow(/closed/);
    const again = open();
    same(again.read(ref!), body);
  });

  it('reclaims exactly the segments neither active nor live', () => {
    const segments = open({ maxSegmentBytes: 2 * KiB });
    const refs = segments.append(Array.from({ length: 5 }, () => randomBytes(KiB)));
    expect(refs.map((ref) => ref.segment)).toEqual([1, 2, 3, 4, 5]);
    expect(segments.read(refs[1]!)).toHaveLength(KiB); // an open reader must not stop the delete

    expect(segments.reclaim(new Set([3]))).toBe(3);
    expect(segmentFiles().sort()).toEqual(['00000003.seg', '00000005.seg']);
    expect(() => segments.read(refs[1]!)).toThrow('body segment 2 is missing (reclaimed or deleted)');
    expect(segments.read(refs[2]!)).toHaveLength(KiB);
    expect(segments.reclaim(new Set([3]))).toBe(0);
  });

  it('refuses another key when opening, and leaves the segments as they were', () => {
    const segments = open();
    const [ref] = segments.append([randomBytes(KiB)]);
    segments.close();
    const before = readFileSync(fileOf(1));
    expect(() => open({ key: segmentKeyFrom('w'.repeat(40)) })).toThrow(
      /cannot be opened with this key \(wrong key, or not segments of ours\)/,
    );
    expect(() => open({ key: segmentKeyFrom(undefined) })).toThrow(/cannot be opened with this key/);
    expect(readFileSync(fileOf(1))).toEqual(before);
    expect(open().read(ref!)).toHaveLength(KiB);
  });

  it('refuses segments whose key check was removed rather than judging them torn', () => {
    open().append([randomBytes(KiB)]);
    rmSync(join(dir, 'key-check'));
    expect(() => open()).toThrow(/key-check is missing, so the key of the body segments .* cannot be checked/);
  });

  it('fails a record moved to another offset or segment, a ref that points elsewhere, and a ref of the wrong length', () => {
    const segments = open({ maxSegmentBytes: 2 * KiB });
    const [a, b, c] = segments.append([randomBytes(KiB), randomBytes(KiB), randomBytes(KiB)]);
    segments.close();
    // b's record put where a's was (same length, so only the place in the AAD differs), and c's into b's segment.
    writeFileSync(fileOf(1), readFileSync(fileOf(2)));
    writeFileSync(fileOf(2), readFileSync(fileOf(3)));
    const reopened = open();
    const tag = 'fails its authentication tag (wrong key, altered, or moved from another place)';
    expect(() => reopened.read(a!)).toThrow(`the body record at segment 1 offset 0 ${tag}`);
    expect(() => reopened.read(b!)).toThrow(`the body record at segment 2 offset 0 ${tag}`);
    expect(() => reopened.read({ ...c!, offset: 10 })).toThrow('offset 10 is not the start of a record');
    expect(() => reopened.read({ ...c!, length: 5 })).toThrow(`holds ${KiB} bytes, not the ref's 5`);
    expect(() => reopened.read({ ...c!, offset: -1 })).toThrow('body ref offset must be a whole number ≥ 0');
    expect(() => reopened.read({ ...c!, segment: 9 })).toThrow('body segment 9 is missing');
  });

  it('gives every record a nonce of its own, within a group and across groups', () => {
    const segments = open();
    const body = Buffer.alloc(100, 1);
    const refs = [...segments.append([body, body, body]), ...segments.append([body, body])];
    const raw = readFileSync(fileOf(1));
    // The header: magic (4), length (4), nonce (12).
    const nonces = refs.map((ref) => raw.subarray(ref.offset + 8, ref.offset + 20).toString('hex'));
    expect(new Set(nonces).size).toBe(refs.length);
    // The same body under different nonces: no two ciphertexts alike either.
    expect(new Set(refs.map((ref) => raw.subarray(ref.offset + 20, ref.offset + 120).toString('hex'))).size).toBe(5);
    refs.forEach((ref) => same(segments.read(ref), body));
  });

  it('leaves no patient data and no key in the files', () => {
    const patient = 'Anna Müller, born 1961-04-02, PHN 9876543210';
    const storeKey = 's'.repeat(40);
    const segments = open({ key: segmentKeyFrom(storeKey) });
    const [ref] = segments.append([Buffer.from(`consult for ${patient}`.repeat(100))]);
    expect(Buffer.from(segments.read(ref!)).toString()).toContain(patient);
    segments.close();
    const secrets = [Buffer.from(patient), Buffer.from('Anna Müller'), Buffer.from(storeKey), Buffer.from(KEY)];
    const files = readdirSync(dir);
    expect(files.sort()).toEqual(['00000001.seg', 'key-check']);
    for (const name of files) {
      const raw = readFileSync(join(dir, name));
      for (const secret of secrets) expect(raw.includes(secret), `${name} holds a secret`).toBe(false);
    }
  });

  it('checks the key arguments', () => {
    expect(() => segmentKeyFrom('short')).toThrow('the store key must have at least 32 characters');
    expect(segmentKeyFrom('')).toEqual(segmentKeyFrom(undefined));
    expect(segmentKeyFrom('a'.repeat(32))).not.toEqual(segmentKeyFrom('b'.repeat(32)));
    expect(() => openBodySegments({ dir, key: new Uint8Array(16) })).toThrow(
      'the body segment key must be 32 bytes, not 16',
    );
  });

  describe('a torn tail from a crash mid-append', () => {
    const cases: [string, (file: string, last: BodyRef) => void][] = [
      ['only its header written', (file, last) => truncateSync(file, last.offset + 20)],
      ['half its ciphertext written', (file, last) => truncateSync(file, last.offset + 20 + last.length / 2)],
      [
        'a flipped byte in its tag',
        (file) => {
          const raw = readFileSync(file);
          raw[raw.length - 3]! ^= 0x01;
          writeFileSync(file, raw);
        },
      ],
    ];

    it.each(cases)('is found and cut off on reopening: %s', (_name, tear) => {
      const first = open();
      const earlier = [...first.append([randomBytes(KiB)]), ...first.append([randomBytes(5), randomBytes(7 * KiB)])];
      const bodies = earlier.map((ref) => first.read(ref));
      const torn = first.append([randomBytes(2 * KiB)])[0]!;
      first.close();
      const fullSize = statSync(fileOf(1)).size;
      tear(fileOf(1), torn);
      const sizeBeforeRecovery = statSync(fileOf(1)).size;

      const warnings: [string, LogFields | undefined][] = [];
      const logger: Logger = { info: () => {}, warn: (code, fields) => warnings.push([code, fields]), error: () => {} };
      const recovered = open({ logger });
      const expected = { segment: 1, validBytes: torn.offset, tornBytes: sizeBeforeRecovery - torn.offset };
      expect(expected.tornBytes).toBeGreaterThan(0);
      expect(expected.tornBytes).toBeLessThanOrEqual(fullSize - torn.offset);
      expect(recovered.recovered).toEqual(expected);
      expect(warnings).toEqual([['segments.torn-tail', expected]]);
      expect(statSync(fileOf(1)).size).toBe(torn.offset);
      earlier.forEach((ref, i) => expect(recovered.read(ref)).toEqual(bodies[i]));
      expect(() => recovered.read(torn)).toThrow(`segment 1 offset ${torn.offset} is truncated`);

      const after = randomBytes(3 * KiB);
      const [ref] = recovered.append([after]);
      expect(ref!.segment).toBe(2);
      expect(recovered.read(ref!)).toEqual(after);
      recovered.close();
      // Cut once: the next opening finds nothing torn and still reads everything.
      const third = open();
      expect(third.recovered).toBeUndefined();
      expect(third.read(ref!)).toEqual(after);
      expect(third.read(earlier[2]!)).toEqual(bodies[2]);
    });
  });
});
