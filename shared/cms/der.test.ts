import * as asn1js from 'asn1js';
import { describe, expect, it } from 'vitest';
import { CmsError } from './cms-errors.ts';
import {
  children,
  derTime,
  encode,
  objectIdentifier,
  octetString,
  octets,
  parseBer,
  sequence,
  setOf,
  smallInteger,
  tlv,
  TAG,
} from './der.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('DER writer', () => {
  it('encodes object identifiers as asn1js does', () => {
    for (const oid of [
      '1.2.840.113549.1.9.16.1.23',
      '2.16.840.1.101.3.4.1.46',
      '1.3.132.1.11.1',
      '2.5.29.37.0',
      '2.999.1',
    ]) {
      expect(hex(encode(objectIdentifier(oid)))).toBe(
        hex(new Uint8Array(new asn1js.ObjectIdentifier({ value: oid }).toBER())),
      );
    }
  });

  it('uses short and long length forms at their boundaries', () => {
    expect(hex(encode(octetString(new Uint8Array(127)))).slice(0, 4)).toBe('047f');
    expect(hex(encode(octetString(new Uint8Array(128)))).slice(0, 6)).toBe('048180');
    expect(hex(encode(octetString(new Uint8Array(256)))).slice(0, 8)).toBe('04820100');
    const big = encode(sequence(octetString(new Uint8Array(70_000))));
    expect(hex(big.subarray(0, 10))).toBe('3083011175' + '0483011170');
    const [inner] = children(parseBer(big, 1 << 20, 'test'));
    expect(inner && octets(inner).byteLength).toBe(70_000);
  });

  it('sorts SET OF by encoding', () => {
    const set = encode(setOf(smallInteger(3), octetString(Uint8Array.of(1)), smallInteger(1)));
    expect(hex(set)).toBe('3109' + '020101' + '020103' + '040101');
  });

  it('writes UTCTime until 2049 and GeneralizedTime after', () => {
    expect(new TextDecoder().decode(encode(derTime(new Date('2026-05-06T07:08:09.999Z'))).subarray(2))).toBe(
      '260506070809Z',
    );
    expect(encode(derTime(new Date('2026-05-06T07:08:09Z')))[0]).toBe(TAG.utcTime);
    const later = encode(derTime(new Date('2050-01-01T00:00:00Z')));
    expect(later[0]).toBe(TAG.generalizedTime);
    expect(new TextDecoder().decode(later.subarray(2))).toBe('20500101000000Z');
  });

  it('nests explicit tags with the right lengths', () => {
    expect(hex(encode(tlv(0xa0, smallInteger(5))))).toBe('a003020105');
  });
});

describe('bounded reader', () => {
  it('rejects trailing bytes and reads BER-segmented octet strings', () => {
    expect(() => parseBer(Uint8Array.of(0x05, 0x00, 0x00), 100, 'test')).toThrow(CmsError);
    // OCTET STRING, constructed, indefinite length: "ab" + "c"
    const segmented = Uint8Array.of(0x24, 0x80, 0x04, 0x02, 0x61, 0x62, 0x04, 0x01, 0x63, 0x00, 0x00);
    expect(new TextDecoder().decode(octets(parseBer(segmented, 100, 'test')))).toBe('abc');
  });

  it('reports times asn1js cannot read as cms-malformed, not as its own exception (found by fuzzing)', () => {
    // SEQUENCE { GeneralizedTime "" } and SEQUENCE { GeneralizedTime "0" }: asn1js throws instead of returning an error.
    for (const der of [Uint8Array.of(0x30, 0x02, 0x18, 0x00), Uint8Array.of(0x30, 0x03, 0x18, 0x01, 0x30)]) {
      expect(() => parseBer(der, 100, 'test')).toThrow(
        expect.objectContaining({ name: 'CmsError', code: 'cms-malformed' }),
      );
    }
  });

  it('refuses a definite-length element whose children run past its length (asn1js reads them on)', () => {
    // SEQUENCE of length 5 holding NULL, OCTET STRING "ab": the string ends a byte past the SEQUENCE's declared end.
    expect(() => parseBer(Uint8Array.of(0x30, 0x05, 0x05, 0x00, 0x04, 0x02, 0x61, 0x62), 100, 'test')).toThrow(
      expect.objectContaining({ code: 'cms-malformed', message: expect.stringMatching(/overruns its parent/) }),
    );
    expect(() => parseBer(Uint8Array.of(0x30, 0x06, 0x05, 0x00, 0x04, 0x02, 0x61, 0x62), 100, 'test')).not.toThrow();
    // As many children as the 32 MiB limit admits (a first version of the check overflowed the stack on them).
    const nulls = new Uint8Array(2 * 130_000);
    for (let i = 0; i < nulls.length; i += 2) nulls[i] = TAG.null;
    expect(() => parseBer(encode(tlv(TAG.sequence, nulls)), 32 << 20, 'test')).not.toThrow();
  });

  it('stops at the node limit', () => {
    // A SEQUENCE of 20,000 NULLs: more elements than a 1 MiB limit admits.
    const body = new Uint8Array(40_000);
    for (let i = 0; i < body.length; i += 2) body[i] = TAG.null;
    const message = encode(tlv(TAG.sequence, body));
    expect(() => parseBer(message, 1 << 20, 'test')).toThrow(expect.objectContaining({ code: 'cms-too-large' }));
    expect(() => parseBer(message, 8 << 20, 'test')).not.toThrow();
  });
});
