import { derChildren, OID, readDer, type DerElement } from '../shared/cms/index.ts';
import { KEY_USAGES, type KeyUsage } from '../shared/pki/index.ts';

/**
 * Certificate fields found in DER with shared/cms's walker (readDer, derChildren), without building an object tree:
 * asn1js costs most of a millisecond per certificate, and OpenSSL's parse of a whole certificate (X509Certificate)
 * 40 µs, where the native validator's verification itself is 63. Anything unusual throws, and the caller falls back to
 * the full parser.
 */

/** An OBJECT IDENTIFIER's dotted form. */
export function derOid(bytes: Uint8Array, element: DerElement): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = element.contentStart; i < element.end; i++) {
    const byte = bytes[i]!;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new Error('OID arc too large');
    if (byte & 0x80) continue;
    if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
    else arcs.push(value);
    value = 0;
  }
  if (value !== 0 || arcs.length === 0 || bytes[element.end - 1]! & 0x80) throw new Error('malformed OID');
  return arcs.join('.');
}

export interface DerExtension {
  readonly critical: boolean;
  /** The extnValue OCTET STRING's content. */
  readonly value: Uint8Array;
}

/** A TBSCertificate's extensions by OID, from its fields; a repeated or unreadable extension throws. */
export function derExtensions(der: Uint8Array, tbsFields: readonly DerElement[]): Map<string, DerExtension> {
  const extensions = new Map<string, DerExtension>();
  const wrapper = tbsFields.find((f) => f.tag === 0xa3);
  const [list] = wrapper ? derChildren(der, wrapper) : [];
  for (const extension of list ? derChildren(der, list) : []) {
    const parts = derChildren(der, extension);
    const critical = parts[1]?.tag === 0x01 ? der[parts[1].contentStart] !== 0 : false;
    const value = parts[parts.length - 1];
    if (parts[0]?.tag !== 0x06 || value?.tag !== 0x04) throw new Error('unreadable extension');
    const oid = derOid(der, parts[0]);
    if (extensions.has(oid)) throw new Error('repeated extension');
    extensions.set(oid, { critical, value: der.subarray(value.contentStart, value.end) });
  }
  return extensions;
}

/** KeyUsage bits from the extension's value (a BIT STRING), or undefined where the extension is absent. */
export function derKeyUsages(value: Uint8Array | undefined): KeyUsage[] | undefined {
  if (!value) return undefined;
  const bits = readDer(value, 0, 0x03);
  if (bits.end !== value.length || bits.end - bits.contentStart < 1) throw new Error('unreadable key usage');
  const bytes = value.subarray(bits.contentStart + 1, bits.end);
  return KEY_USAGES.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

/** ExtendedKeyUsage purposes (OIDs) from the extension's value, or undefined where the extension is absent. */
export function derExtendedKeyUsages(value: Uint8Array | undefined): string[] | undefined {
  if (!value) return undefined;
  const purposes = readDer(value, 0, 0x30);
  if (purposes.end !== value.length) throw new Error('unreadable extended key usage');
  return derChildren(value, purposes).map((p) => {
    if (p.tag !== 0x06) throw new Error('unreadable extended key usage');
    return derOid(value, p);
  });
}

/**
 * A Time of a certificate's validity as RFC 5280 writes it (UTCTime YYMMDDHHMMSSZ, years 1950–2049, or GeneralizedTime
 * YYYYMMDDHHMMSSZ), in ms; any other form, or a date that does not exist, throws.
 */
export function derTime(bytes: Uint8Array, element: DerElement): number {
  const length = element.end - element.contentStart;
  const utc = element.tag === 0x17 && length === 13;
  if (!utc && !(element.tag === 0x18 && length === 15)) throw new Error('unusual time');
  if (bytes[element.end - 1] !== 0x5a) throw new Error('unusual time'); // 'Z'
  // Two decimal digits at `at`, read from the bytes: 0.4 µs per time, where a string and a regular expression took 2.
  const pair = (at: number) => {
    const tens = bytes[at]! - 0x30;
    const ones = bytes[at + 1]! - 0x30;
    if (tens < 0 || tens > 9 || ones < 0 || ones > 9) throw new Error('unusual time');
    return tens * 10 + ones;
  };
  const yy = pair(element.contentStart);
  const year = utc ? (yy < 50 ? 2000 : 1900) + yy : yy * 100 + pair(element.contentStart + 2);
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((offset) => pair(element.end - 11 + offset)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(time);
  if (
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute ||
    date.getUTCSeconds() !== second
  )
    throw new Error('no such time');
  return time;
}

/** The profile's key kind of a SubjectPublicKeyInfo (RSA of 2048 bits or more, EC on P-256), or undefined for another. */
export function derPublicKeyKind(bytes: Uint8Array, spki: DerElement): 'rsa' | 'ec-p256' | undefined {
  const [algorithm, key] = derChildren(bytes, spki);
  if (algorithm?.tag !== 0x30 || key?.tag !== 0x03) throw new Error('not a public key');
  const [oid, parameters] = derChildren(bytes, algorithm);
  if (oid?.tag !== 0x06) throw new Error('not a public key');
  const kind = derOid(bytes, oid);
  if (kind === OID.ecPublicKey)
    return parameters?.tag === 0x06 && derOid(bytes, parameters) === OID.p256 ? 'ec-p256' : undefined;
  if (kind !== OID.rsaEncryption) return undefined;
  if (bytes[key.contentStart] !== 0) throw new Error('public key with unused bits');
  const rsaKey = bytes.subarray(key.contentStart + 1, key.end);
  const sequence = readDer(rsaKey, 0, 0x30);
  const [modulus] = derChildren(rsaKey, sequence);
  if (sequence.end !== rsaKey.length || modulus?.tag !== 0x02) throw new Error('not an RSA key');
  let first = modulus.contentStart;
  while (first < modulus.end && rsaKey[first] === 0) first++;
  if (first === modulus.end) return undefined;
  const bits = (modulus.end - first) * 8 - Math.clz32(rsaKey[first]!) + 24;
  return bits >= 2048 ? 'rsa' : undefined;
}
