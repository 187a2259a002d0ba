import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CMS_ERROR_CODES, CmsError, parseOrThrow } from './cms-errors.ts';
import { bufferSource, bytesEqual, parseBer, toHex } from './der.ts';
import { OID, oidName } from './oids.ts';
import { subtle, type CryptoKey, type WebKeyUsage, type ProfileKeyAlgorithm } from './webcrypto.ts';

/** Certificates are small; a generous bound still stops a garbage "certificate" from costing much. */
const MAX_CERTIFICATE_BYTES = 1024 * 1024;

/** Parses a DER certificate. The bytes are copied so the result never aliases a caller's buffer. */
export function parseCertificate(der: Uint8Array, what: string): pkijs.Certificate {
  const schema = parseBer(new Uint8Array(der), MAX_CERTIFICATE_BYTES, what);
  return parseOrThrow(what, () => new pkijs.Certificate({ schema }));
}

export function parseCrl(der: Uint8Array, what: string): pkijs.CertificateRevocationList {
  const schema = parseBer(new Uint8Array(der), 64 * MAX_CERTIFICATE_BYTES, what);
  return parseOrThrow(what, () => new pkijs.CertificateRevocationList({ schema }));
}

export type PublicKeyKind = 'rsa' | 'ec-p256';

/**
 * The profile's key types: RSA of at least 2048 bits, or EC on P-256. Anything else is an unsupported algorithm.
 */
export function publicKeyKind(certificate: pkijs.Certificate, role: string): PublicKeyKind {
  const spki = certificate.subjectPublicKeyInfo;
  const algorithm = spki.algorithm.algorithmId;
  if (algorithm === OID.rsaEncryption) {
    const parsed = spki.parsedKey;
    const bits = parsed instanceof pkijs.RSAPublicKey ? integerBits(parsed.modulus) : 0;
    if (bits < 2048) {
      throw new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, `The ${role} certificate has an RSA key of ${bits} bits; at least 2048 are required`);
    }
    return 'rsa';
  }
  if (algorithm === OID.ecPublicKey) {
    const curve: unknown = spki.algorithm.algorithmParams;
    if (curve instanceof asn1js.ObjectIdentifier && curve.valueBlock.toString() === OID.p256) return 'ec-p256';
    throw new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, `The ${role} certificate has an EC key on a curve other than P-256`);
  }
  throw new CmsError(CMS_ERROR_CODES.unsupportedAlgorithm, `The ${role} certificate has an unsupported key type (${oidName(algorithm)})`);
}

function integerBits(value: asn1js.Integer): number {
  const bytes = value.valueBlock.valueHexView;
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  const first = bytes[i];
  if (first === undefined) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(first));
}

export function subjectPublicKeyInfoDer(certificate: pkijs.Certificate): Uint8Array<ArrayBuffer> {
  return new Uint8Array(certificate.subjectPublicKeyInfo.toSchema().toBER(false));
}

export function importPublicKey(certificate: pkijs.Certificate, algorithm: ProfileKeyAlgorithm, usages: WebKeyUsage[]): Promise<CryptoKey> {
  return subtle().importKey('spki', subjectPublicKeyInfoDer(certificate), algorithm, false, usages);
}

const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

function extension(certificate: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return certificate.extensions?.find((e) => e.extnID === oid);
}

/** The KeyUsage bits, or undefined when the certificate has no KeyUsage extension (any use allowed). */
export function keyUsages(certificate: pkijs.Certificate): Set<KeyUsageName> | undefined {
  const ext = extension(certificate, OID.keyUsage);
  if (!ext) return undefined;
  const bits: unknown = ext.parsedValue;
  if (!(bits instanceof asn1js.BitString)) throw new CmsError(CMS_ERROR_CODES.malformed, 'A certificate has an unreadable key usage extension');
  const view = bits.valueBlock.valueHexView;
  const usages = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, bit) => {
    if (((view[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0) usages.add(name);
  });
  return usages;
}

/** The ExtendedKeyUsage purposes, or undefined when the extension is absent. */
export function extendedKeyUsages(certificate: pkijs.Certificate): string[] | undefined {
  const ext = extension(certificate, OID.extKeyUsage);
  if (!ext) return undefined;
  const value: unknown = ext.parsedValue;
  if (!(value instanceof pkijs.ExtKeyUsage)) throw new CmsError(CMS_ERROR_CODES.malformed, 'A certificate has an unreadable extended key usage extension');
  return value.keyPurposes;
}

export function isCaCertificate(certificate: pkijs.Certificate): boolean {
  const value: unknown = extension(certificate, OID.basicConstraints)?.parsedValue;
  return value instanceof pkijs.BasicConstraints && value.cA === true;
}

export function subjectKeyIdentifier(certificate: pkijs.Certificate): Uint8Array | undefined {
  const value: unknown = extension(certificate, OID.subjectKeyIdentifier)?.parsedValue;
  return value instanceof asn1js.OctetString ? value.valueBlock.valueHexView : undefined;
}

/** Serial number as uppercase hex without the DER sign byte, as `openssl x509 -serial` prints it. */
export function serialHex(serial: asn1js.Integer): string {
  const bytes = serial.valueBlock.valueHexView;
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return toHex(bytes.subarray(i)).toUpperCase();
}

export function sameIssuerAndSerial(certificate: pkijs.Certificate, issuer: pkijs.RelativeDistinguishedNames, serial: asn1js.Integer): boolean {
  return (
    bytesEqual(bufferSource(serial.valueBlock.valueHexView), certificate.serialNumber.valueBlock.valueHexView) &&
    certificate.issuer.isEqual(issuer)
  );
}

/** How messages name a certificate to an administrator. */
export function describeCertificate(certificate: pkijs.Certificate): string {
  return `"${formatName(certificate.subject)}" (serial ${serialHex(certificate.serialNumber)})`;
}

const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** A distinguished name in RFC 4514 form: most specific RDN first, e.g. "CN=Dr A,O=Clinic A". */
export function formatName(name: pkijs.RelativeDistinguishedNames): string {
  // pkijs flattens multi-valued RDNs into one list; that loses only the '+' grouping, which display can spare.
  return name.typesAndValues
    .map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${formatValue(atv.value)}`)
    .reverse()
    .join(',');
}

function formatValue(value: unknown): string {
  if (value && typeof value === 'object' && 'valueBlock' in value) {
    const block = value.valueBlock;
    if (block && typeof block === 'object' && 'value' in block && typeof block.value === 'string') return escapeValue(block.value);
  }
  if (value instanceof asn1js.BaseBlock) return `#${toHex(new Uint8Array(value.toBER(false)))}`;
  return '';
}

function escapeValue(text: string): string {
  return text
    .replace(/[\\"+,;<>]/g, (c) => `\\${c}`)
    .replace(/\0/g, '\\00')
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}
