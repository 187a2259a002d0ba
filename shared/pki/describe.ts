import { ECPublicKey, RSAPublicKey } from 'pkijs';
import {
  extendedKeyUsageOf,
  hasCaFlag,
  keyUsageOf,
  parseCertificate,
  serialHex,
  type KeyUsage,
} from './certificate.ts';
import { NAMED_CURVES } from './keys.ts';
import { formatName } from './names.ts';

/** What the CLI prints and the UI shows about a certificate; plain data, JSON-safe. */
export interface CertificateDescription {
  readonly subject: string;
  readonly issuer: string;
  /** Lower-case hex without a sign byte. */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  /** e.g. "EC P-256", "RSA 3072". */
  readonly keyAlgorithm: string;
  /** Empty if the certificate has no KeyUsage extension. */
  readonly keyUsage: KeyUsage[];
  /** Names such as "emailProtection", or the OID for purposes without a name here. */
  readonly extendedKeyUsage: string[];
  readonly isCa: boolean;
}

export function describeCertificate(der: Uint8Array): CertificateDescription {
  const certificate = parseCertificate(der);
  return {
    subject: formatName(certificate.subject),
    issuer: formatName(certificate.issuer),
    serialNumber: serialHex(certificate.serialNumber),
    notBefore: certificate.notBefore.value.toISOString(),
    notAfter: certificate.notAfter.value.toISOString(),
    keyAlgorithm: keyAlgorithmOf(certificate.subjectPublicKeyInfo.parsedKey),
    keyUsage: keyUsageOf(certificate) ?? [],
    extendedKeyUsage: extendedKeyUsageOf(certificate),
    isCa: hasCaFlag(certificate),
  };
}

function keyAlgorithmOf(key: ECPublicKey | RSAPublicKey | undefined): string {
  if (key instanceof ECPublicKey) return `EC ${NAMED_CURVES[key.namedCurve] ?? key.namedCurve}`;
  if (key instanceof RSAPublicKey) {
    const modulus = key.modulus.valueBlock.valueHexView;
    // The modulus carries a zero sign byte when its top bit is set.
    return `RSA ${(modulus.length - (modulus[0] === 0 ? 1 : 0)) * 8}`;
  }
  return 'unknown';
}
