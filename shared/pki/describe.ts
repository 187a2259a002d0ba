import { ECPublicKey, RSAPublicKey, type Certificate } from 'pkijs';
import {
  EXTENDED_KEY_USAGES,
  extendedKeyUsageOf,
  hasCaFlag,
  keyUsageOf,
  parseCertificate,
  serialHex,
  type KeyUsage,
} from './certificate.ts';
import { NAMED_CURVES } from './keys.ts';
import { formatName } from './names.ts';

/** Who a certificate names and when it is valid: how every part of the product lists a certificate. JSON-safe. */
export interface CertificateSummary {
  /** RFC 4514, e.g. "CN=Dr A,O=Clinic A". */
  readonly subject: string;
  readonly issuer: string;
  /** As `serialHex` reports it: lower-case hex without a sign byte. */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** What the CLI prints and the UI shows about a certificate; plain data, JSON-safe. */
export interface CertificateDescription extends CertificateSummary {
  /** e.g. "EC P-256", "RSA 3072". */
  readonly keyAlgorithm: string;
  /** Empty if the certificate has no KeyUsage extension. */
  readonly keyUsage: KeyUsage[];
  /** Names such as "emailProtection", or the OID for purposes without a name here. */
  readonly extendedKeyUsage: string[];
  readonly isCa: boolean;
}

export function summarizeCertificate(certificate: Certificate): CertificateSummary {
  return {
    subject: formatName(certificate.subject),
    issuer: formatName(certificate.issuer),
    serialNumber: serialHex(certificate.serialNumber),
    notBefore: certificate.notBefore.value.toISOString(),
    notAfter: certificate.notAfter.value.toISOString(),
  };
}

/** Throws `pki-malformed` for bytes that are no certificate, and for a certificate whose KU or EKU cannot be read. */
export function describeCertificate(der: Uint8Array): CertificateDescription {
  const certificate = parseCertificate(der);
  return {
    ...summarizeCertificate(certificate),
    keyAlgorithm: keyAlgorithmOf(certificate.subjectPublicKeyInfo.parsedKey),
    keyUsage: keyUsageOf(certificate) ?? [],
    extendedKeyUsage: (extendedKeyUsageOf(certificate) ?? []).map((oid) => EXTENDED_KEY_USAGE_NAMES[oid] ?? oid),
    isCa: hasCaFlag(certificate),
  };
}

const EXTENDED_KEY_USAGE_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(EXTENDED_KEY_USAGES).map(([name, oid]) => [oid, name]),
);

function keyAlgorithmOf(key: ECPublicKey | RSAPublicKey | undefined): string {
  if (key instanceof ECPublicKey) return `EC ${NAMED_CURVES[key.namedCurve] ?? key.namedCurve}`;
  if (key instanceof RSAPublicKey) {
    const modulus = key.modulus.valueBlock.valueHexView;
    // The modulus carries a zero sign byte when its top bit is set.
    return `RSA ${(modulus.length - (modulus[0] === 0 ? 1 : 0)) * 8}`;
  }
  return 'unknown';
}

/**
 * The subject's common name. For the certificates of clinic systems the regional CA puts the endpoint id there, which
 * is how the hub ties a signature to an endpoint.
 */
export function commonNameOf(der: Uint8Array): string | undefined {
  const attribute = parseCertificate(der).subject.typesAndValues.find((atv) => atv.type === '2.5.4.3');
  const block = (attribute?.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock;
  return typeof block?.value === 'string' ? block.value : undefined;
}
