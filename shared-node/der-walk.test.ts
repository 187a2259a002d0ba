import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readDer } from '../shared/cms/index.ts';
import { derPublicKeyKind, derTime } from './der-walk.ts';

/** A Time element: UTCTime (0x17) or GeneralizedTime (0x18) with this text. */
const time = (tag: number, text: string) => {
  const bytes = Uint8Array.from([tag, text.length, ...Buffer.from(text, 'latin1')]);
  return derTime(bytes, readDer(bytes, 0, tag));
};

describe('DER readings of the native check', () => {
  it("reads a validity's times as RFC 5280 writes them, and throws on any other form", () => {
    expect(time(0x17, '491231235959Z')).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(time(0x17, '500101000000Z')).toBe(Date.UTC(1950, 0, 1));
    expect(time(0x18, '20500101000000Z')).toBe(Date.UTC(2050, 0, 1));
    expect(time(0x18, '20240229120000Z')).toBe(Date.UTC(2024, 1, 29, 12));
    for (const [tag, text] of [
      [0x17, '230229120000Z'], // no 29 February in 2023
      [0x17, '231301000000Z'],
      [0x17, '2301011200Z'], // no seconds
      [0x17, '230101120000+0100'],
      [0x18, '20230101120000.5Z'],
      [0x18, '230101120000Z'],
      [0x04, '230101120000Z'],
    ] as const)
      expect(() => time(tag, text), text).toThrow();
  });

  it("gives the profile's key kinds as OpenSSL reads the keys, and nothing for others", () => {
    const kinds = {
      'rsa-2048': generateKeyPairSync('rsa', { modulusLength: 2048 }),
      'rsa-1024': generateKeyPairSync('rsa', { modulusLength: 1024 }),
      'rsa-2047': generateKeyPairSync('rsa', { modulusLength: 2047 }),
      'ec-p256': generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
      'ec-p384': generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
      ed25519: generateKeyPairSync('ed25519'),
    };
    const read = Object.fromEntries(
      Object.entries(kinds).map(([name, { publicKey }]) => {
        const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
        return [name, derPublicKeyKind(spki, readDer(spki, 0, 0x30))];
      }),
    );
    expect(read).toEqual({
      'rsa-2048': 'rsa',
      'rsa-1024': undefined,
      'rsa-2047': undefined,
      'ec-p256': 'ec-p256',
      'ec-p384': undefined,
      ed25519: undefined,
    });
  });
});
