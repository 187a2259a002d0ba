import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { pemToDer } from '../pki/index.ts';
import { isCmsError } from './cms-errors.ts';
import { DEFAULT_MAX_BYTES } from './der.ts';
import { importSigningKey } from './keys.ts';
import { readSignedParts, sign } from './signed-data.ts';
import { readSignedPartsQuickly, type SignedParts } from './signed-parts.ts';

const pki = join(import.meta.dirname, '..', '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));

/** What a reader read, in comparable form; or the code of the error it threw. */
function readWith(read: () => SignedParts | undefined): unknown {
  try {
    const parts = read();
    if (!parts) return undefined;
    return {
      eContentType: parts.eContentType,
      content: Buffer.from(parts.content() ?? []).toString('hex'),
      certificates: parts.certificates.map((c) => Buffer.from(c.der).toString('hex')),
      signerInfos: parts.signerInfos.map((s) => ({
        der: Buffer.from(s.toSchema().toBER()).toString('hex'),
        // What verification reads besides: the bytes the signature covers, and each attribute value's kind.
        signed: s.signedAttrs && Buffer.from(s.signedAttrs.encodedValue).toString('hex'),
        values: s.signedAttrs?.attributes.map((a) => a.values?.map((v: object) => v.constructor.name)),
        sid: (s.sid as object).constructor.name,
      })),
    };
  } catch (error) {
    if (!isCmsError(error)) throw error;
    return { error: error.code };
  }
}
const quickly = (bytes: Uint8Array) => readWith(() => readSignedPartsQuickly(new Uint8Array(bytes), DEFAULT_MAX_BYTES));
const fully = (bytes: Uint8Array) => readWith(() => readSignedParts(new Uint8Array(bytes), DEFAULT_MAX_BYTES));

/** The same message in BER with an indefinite outer length, as streaming encoders write it. */
function indefinite(bytes: Uint8Array): Uint8Array {
  const lengthBytes = bytes[1]! & 0x80 ? 1 + (bytes[1]! & 0x7f) : 1;
  return Uint8Array.from([0x30, 0x80, ...bytes.subarray(1 + lengthBytes), 0, 0]);
}

describe('reading a signed message without the full BER reader', () => {
  let signed: Uint8Array;
  beforeAll(async () => {
    const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
    const privateKey = await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate);
    signed = await sign(new TextEncoder().encode('{"resourceType":"Bundle"}'), { certificate, privateKey });
  });

  it('reads what the full reader reads from a message of the common shape', () => {
    const parts = quickly(signed);
    expect(parts).toMatchObject({ eContentType: '1.2.840.113549.1.7.1', certificates: [expect.any(String)] });
    expect(parts).toEqual(fully(signed));
  });

  it("builds the profile's signer entry from its DER, naming the issuer of the certificate the message carries", () => {
    const parts = readSignedPartsQuickly(new Uint8Array(signed), DEFAULT_MAX_BYTES)!;
    const [signer] = parts.signerInfos;
    // The certificate's own parsed name: pkijs's parse of the entry would have made a new one.
    expect((signer!.sid as pkijs.IssuerAndSerialNumber).issuer).toBe(parts.certificates[0]!.certificate.issuer);
    expect(quickly(signed)).toEqual(fully(signed));
    // From a view into a larger buffer (Node's Buffer, whose slice is no copy), which it leaves as it was.
    const pool = Buffer.concat([Buffer.alloc(8, 0x30), signed, Buffer.alloc(8, 0x30)]);
    const view = pool.subarray(8, 8 + signed.byteLength);
    const before = Buffer.from(pool);
    expect(readWith(() => readSignedPartsQuickly(view as Uint8Array<ArrayBuffer>, DEFAULT_MAX_BYTES))).toEqual(
      fully(signed),
    );
    expect(pool.equals(before)).toBe(true);
  });

  it('leaves a signer entry of another shape to pkijs, which reads it as the full reader does', () => {
    // The signing time's attribute type made one the profile does not write (…9.5 → …9.15).
    const signingTime = Buffer.from('06092a864886f70d010905', 'hex');
    const at = Buffer.from(signed).indexOf(signingTime);
    expect(at).toBeGreaterThan(0);
    const other = Uint8Array.from(signed, (b, j) => (j === at + signingTime.length - 1 ? 0x0f : b));
    const parts = readSignedPartsQuickly(new Uint8Array(other), DEFAULT_MAX_BYTES)!;
    expect((parts.signerInfos[0]!.sid as pkijs.IssuerAndSerialNumber).issuer).not.toBe(
      parts.certificates[0]!.certificate.issuer,
    );
    expect(parts.signerInfos[0]!.signedAttrs!.attributes.map((a) => a.type)).toContain('1.2.840.113549.1.9.15');
    expect(quickly(other)).toEqual(fully(other));
  });

  it('leaves other encodings to the full reader, which reads them', () => {
    const ber = indefinite(signed);
    expect(quickly(ber)).toBeUndefined();
    expect(fully(ber)).toEqual(fully(signed));
    expect(quickly(signed.subarray(0, signed.byteLength - 1))).toBeUndefined();
    expect(fully(signed.subarray(0, signed.byteLength - 1))).toEqual({ error: 'cms-malformed' });
  });

  it('leaves a damaged part it refuses to the full reader, whose reason stands (a length that overruns its parent)', () => {
    // The digest algorithm's OID (SHA-256) claiming 90 bytes: too large to the full reader, malformed to a part parse.
    const sha256 = Buffer.from('0609608648016503040201', 'hex');
    const at = Buffer.from(signed).indexOf(sha256);
    expect(at).toBeGreaterThan(0);
    const damaged = Uint8Array.from(signed, (b, j) => (j === at + 1 ? 90 : b));
    expect(fully(damaged)).toEqual({ error: 'cms-too-large' });
    expect(quickly(damaged)).toBeUndefined();
  });

  it('never accepts what the full reader refuses, nor reads anything else (damaged copies)', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom('replace', 'insert', 'remove'),
        (at, byte, how) => {
          const i = at % signed.byteLength;
          const damaged =
            how === 'replace'
              ? Uint8Array.from(signed, (b, j) => (j === i ? byte : b))
              : how === 'insert'
                ? Uint8Array.from([...signed.subarray(0, i), byte, ...signed.subarray(i)])
                : Uint8Array.from([...signed.subarray(0, i), ...signed.subarray(i + 1)]);
          // Left to the full reader, or read (or refused) exactly as it reads (or refuses) it.
          const quick = quickly(damaged);
          if (quick !== undefined) expect(quick).toEqual(fully(damaged));
        },
      ),
      { numRuns: 1500 },
    );
  });
});
