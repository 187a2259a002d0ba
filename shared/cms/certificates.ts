import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { serialHex } from '../pki/certificate.ts';
import { PKI_ERROR_CODES, isPkiError } from '../pki/errors.ts';
import { formatName } from '../pki/names.ts';
import { CMS_ERROR_CODES, CmsError, parseOrThrow } from './cms-errors.ts';
import { bytesEqual } from '../pki/bytes.ts';
import { bufferSource, encode, parseBer, sequence } from './der.ts';
import { OID, oidName } from './oids.ts';
import { subtle, type CryptoKey, type WebKeyUsage, type ProfileKeyAlgorithm } from './webcrypto.ts';

/** Certificates are small; a generous bound still stops a garbage "certificate" from costing much. */
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;

/**
 * Certificates parsed lately, by their bytes. A workstation encrypts every consult to the same two certificates and
 * checks every message against the same few signers, and pkijs takes about 2 ms to parse one: in P2's profile, parsing
 * them again was 9 % of the consult path. Users here only read the parsed form; what fails to parse is not kept.
 */
const parsedCertificates = new Map<string, pkijs.Certificate>();
const PARSED_KEPT = 256;
const KEPT_BYTES_AT_MOST = 16 * 1024;
/** Bytes to a string one character each (windows-1252 as the Encoding Standard defines it: 256 distinct characters). */
const asKey = new TextDecoder('latin1');

/** Parses a DER certificate. The bytes are copied so the result never aliases a caller's buffer. */
export function parseCertificate(der: Uint8Array, what: string): pkijs.Certificate {
  // 6.5 µs for a 700-byte certificate, where String.fromCharCode took 23 µs: P1's hub checks 200,000 certificates.
  const key = der.byteLength <= KEPT_BYTES_AT_MOST ? asKey.decode(der) : undefined;
  const kept = key === undefined ? undefined : parsedCertificates.get(key);
  if (key !== undefined && kept) {
    parsedCertificates.delete(key); // the most recently used goes last
    parsedCertificates.set(key, kept);
    return kept;
  }
  const schema = parseBer(new Uint8Array(der), MAX_CERTIFICATE_BYTES, what);
  const certificate = parseOrThrow(what, () => new pkijs.Certificate({ schema }));
  if (key !== undefined) {
    parsedCertificates.set(key, certificate);
    if (parsedCertificates.size > PARSED_KEPT) parsedCertificates.delete(parsedCertificates.keys().next().value!);
  }
  return certificate;
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
      throw new CmsError(
        CMS_ERROR_CODES.unsupportedAlgorithm,
        `The ${role} certificate has an RSA key of ${bits} bits; at least 2048 are required`,
      );
    }
    return 'rsa';
  }
  if (algorithm === OID.ecPublicKey) {
    const curve: unknown = spki.algorithm.algorithmParams;
    if (curve instanceof asn1js.ObjectIdentifier && curve.valueBlock.toString() === OID.p256) return 'ec-p256';
    throw new CmsError(
      CMS_ERROR_CODES.unsupportedAlgorithm,
      `The ${role} certificate has an EC key on a curve other than P-256`,
    );
  }
  throw new CmsError(
    CMS_ERROR_CODES.unsupportedAlgorithm,
    `The ${role} certificate has an unsupported key type (${oidName(algorithm)})`,
  );
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

/**
 * Public keys imported per parsed certificate (parseCertificate keeps those), algorithm and usages: every consult
 * imported its signer's and its recipients' keys again (about 1.2 ms of each in P2's profile).
 */
const importedKeys = new WeakMap<pkijs.Certificate, Map<string, CryptoKey>>();

export async function importPublicKey(
  certificate: pkijs.Certificate,
  algorithm: ProfileKeyAlgorithm,
  usages: WebKeyUsage[],
): Promise<CryptoKey> {
  const use = `${JSON.stringify(algorithm)} ${[...usages].sort().join(' ')}`;
  const kept = importedKeys.get(certificate)?.get(use);
  if (kept) return kept;
  try {
    const key = await subtle().importKey('spki', subjectPublicKeyInfoDer(certificate), algorithm, false, usages);
    let keys = importedKeys.get(certificate);
    if (!keys) importedKeys.set(certificate, (keys = new Map<string, CryptoKey>()));
    keys.set(use, key);
    return key;
  } catch (error) {
    // A certificate in a message is untrusted input until its chain is checked: its key may be no valid point at all.
    throw new CmsError(CMS_ERROR_CODES.malformed, 'A certificate carries a public key that cannot be read', {
      cause: error,
    });
  }
}

/**
 * Reads a fact of a certificate with pki's reader (`keyUsageOf`, `extendedKeyUsageOf`, ...). A certificate of a
 * message or of the trust configuration that pki cannot read fails as every unreadable input here does:
 * cms-malformed.
 */
export function certificateFact<T>(read: (certificate: pkijs.Certificate) => T, certificate: pkijs.Certificate): T {
  try {
    return read(certificate);
  } catch (error) {
    if (!isPkiError(error) || error.code !== PKI_ERROR_CODES.malformed) throw error;
    throw new CmsError(
      CMS_ERROR_CODES.malformed,
      `The certificate ${certificateLabel(certificate)} cannot be read: ${error.message}`,
      { cause: error },
    );
  }
}

export function sameIssuerAndSerial(
  certificate: pkijs.Certificate,
  issuer: pkijs.RelativeDistinguishedNames,
  serial: asn1js.Integer,
): boolean {
  return (
    bytesEqual(bufferSource(serial.valueBlock.valueHexView), certificate.serialNumber.valueBlock.valueHexView) &&
    certificate.issuer.isEqual(issuer)
  );
}

/**
 * A certificate's IssuerAndSerialNumber as DER (how a signature names its signer and an envelope its recipient), once
 * per parsed certificate: a hub signs with one, a workstation seals to the same few.
 */
const issuerAndSerialEncodings = new WeakMap<pkijs.Certificate, Uint8Array>();

export function issuerAndSerialDer(certificate: pkijs.Certificate): Uint8Array {
  let der = issuerAndSerialEncodings.get(certificate);
  if (!der) {
    der = encode(
      sequence(
        new Uint8Array(certificate.issuer.toSchema().toBER(false)),
        new Uint8Array(certificate.serialNumber.toBER(false)),
      ),
    );
    issuerAndSerialEncodings.set(certificate, der);
  }
  return der;
}

/** How messages name a certificate to an administrator. */
export function certificateLabel(certificate: pkijs.Certificate): string {
  return `"${formatName(certificate.subject)}" (serial ${serialHex(certificate.serialNumber)})`;
}
