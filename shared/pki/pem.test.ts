import { describe, expect, it } from 'vitest';
import { PKI_ERROR_CODES } from './errors.ts';
import { derToPem, parsePem, pemToDer, pemToDerAll } from './pem.ts';

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

describe('PEM', () => {
  it('round-trips DER of any length, in 64-character lines', () => {
    for (const length of [1, 2, 3, 47, 48, 49, 1000]) {
      const der = bytes(length, length);
      const pem = derToPem(der, 'CERTIFICATE');
      expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
      expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
      const lines = pem.trim().split('\n').slice(1, -1);
      expect(lines.every((line) => line.length <= 64)).toBe(true);
      expect(pemToDer(pem)).toEqual(der);
    }
  });

  it('reads every block of a file, skipping text around them and CRLF line ends', () => {
    const a = bytes(100, 1);
    const b = bytes(200, 2);
    const c = bytes(50, 3);
    const text = [
      'Bag Attributes\n    friendlyName: x\n',
      derToPem(a, 'CERTIFICATE'),
      'subject=CN = y\n',
      derToPem(b, 'PRIVATE KEY').replace(/\n/g, '\r\n'),
      derToPem(c, 'CERTIFICATE'),
    ].join('');
    expect(parsePem(text).map((block) => block.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE']);
    expect(pemToDer(text, 'PRIVATE KEY')).toEqual(b);
    expect(pemToDer(text)).toEqual(a);
    expect(pemToDerAll(text, 'CERTIFICATE')).toEqual([a, c]);
  });

  it('refuses missing blocks, bad base64 and legacy encrypted PEM with typed codes', () => {
    expect(() => pemToDer('no pem here')).toThrow(expect.objectContaining({ code: PKI_ERROR_CODES.malformed }));
    expect(() => pemToDer(derToPem(bytes(10, 0), 'CERTIFICATE'), 'X509 CRL')).toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
    expect(() => parsePem('-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n')).toThrow(
      expect.objectContaining({ code: PKI_ERROR_CODES.malformed }),
    );
    const legacy =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    expect(() => parsePem(legacy)).toThrow(expect.objectContaining({ code: PKI_ERROR_CODES.unsupported }));
  });
});
