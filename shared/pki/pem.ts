import { fromBase64, toBase64 } from './bytes.ts';
import { PKI_ERROR_CODES, PkiError } from './errors.ts';

export const PEM_LABELS = {
  certificate: 'CERTIFICATE',
  privateKey: 'PRIVATE KEY',
  crl: 'X509 CRL',
  certificationRequest: 'CERTIFICATE REQUEST',
} as const;

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block in the text, in order; text between blocks (e.g. OpenSSL's "Bag Attributes") is ignored. */
export function parsePem(text: string): PemBlock[] {
  return Array.from(text.matchAll(PEM_BLOCK), ([, label = '', body = '']) => {
    // RFC 1421 headers (Proc-Type, DEK-Info) mean a legacy encrypted key, which we do not decrypt.
    if (body.includes(':')) {
      throw new PkiError(PKI_ERROR_CODES.unsupported, `PEM block "${label}" has headers (legacy encrypted PEM?)`);
    }
    const der = fromBase64(body);
    if (!der || der.length === 0) {
      throw new PkiError(PKI_ERROR_CODES.malformed, `PEM block "${label}" is not valid base64`);
    }
    return { label, der };
  });
}

/** The DER of the first block (with `label`, if given). */
export function pemToDer(text: string, label?: string): Uint8Array {
  const block = parsePem(text).find((candidate) => label === undefined || candidate.label === label);
  if (!block) {
    throw new PkiError(PKI_ERROR_CODES.malformed, label ? `no PEM block "${label}" found` : 'no PEM block found');
  }
  return block.der;
}

/** The DER of every block with `label`. */
export function pemToDerAll(text: string, label: string): Uint8Array[] {
  return parsePem(text)
    .filter((block) => block.label === label)
    .map((block) => block.der);
}

export function derToPem(der: Uint8Array, label: string): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
