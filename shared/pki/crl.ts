import { AuthorityKeyIdentifier, CertificateRevocationList, Extension, Extensions, RevokedCertificate } from 'pkijs';
import * as asn1js from 'asn1js';
import { bytesEqual, toArrayBuffer } from './bytes.ts';
import {
  keyIdentifierOf,
  keyUsageOf,
  mayIssueCertificates,
  parseCertificate,
  serialHex,
  wholeSeconds,
  x509Time,
} from './certificate.ts';
import { PKI_ERROR_CODES, PkiError, parseOrThrow } from './errors.ts';
import { formatName } from './names.ts';
import type { CryptoKey } from './webcrypto.ts';

export interface CrlIssuer {
  /** DER of the CA certificate. */
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
}

export interface RevokedSerial {
  /** As `serialHex` (and so `describeCertificate` and `IssuedCertificate`) reports it. */
  readonly serialNumber: string;
  readonly revocationDate: Date;
}

export interface CrlOptions {
  readonly crlNumber?: number;
  readonly revoked?: readonly RevokedSerial[];
  /** Defaults to now. */
  readonly thisUpdate?: Date;
  /** nextUpdate = thisUpdate + this; relying parties treat the CRL as stale after it. */
  readonly validityDays?: number;
}

export interface CrlInfo {
  readonly issuer: string;
  readonly crlNumber: number | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: readonly RevokedSerial[];
}

const OID_CRL_NUMBER = '2.5.29.20';
const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
const DEFAULT_VALIDITY_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A v2 CRL signed by the CA with SHA-256; with no `revoked`, an empty one. */
export async function createCrl(issuer: CrlIssuer, options: CrlOptions = {}): Promise<Uint8Array> {
  const caCertificate = parseCertificate(issuer.certificate);
  if (!mayIssueCertificates(caCertificate) || keyUsageOf(caCertificate)?.includes('cRLSign') === false) {
    throw new PkiError(PKI_ERROR_CODES.invalidInput, 'the issuer certificate is not a CA allowed to sign CRLs');
  }
  const thisUpdate = wholeSeconds(options.thisUpdate ?? new Date());
  const nextUpdate = new Date(thisUpdate.getTime() + (options.validityDays ?? DEFAULT_VALIDITY_DAYS) * DAY_MS);
  const revoked = options.revoked ?? [];
  const crl = new CertificateRevocationList({
    version: 1, // v2: needed for the CRL extensions
    issuer: caCertificate.subject,
    thisUpdate: x509Time(thisUpdate),
    nextUpdate: x509Time(nextUpdate),
    crlExtensions: new Extensions({
      extensions: [
        new Extension({
          extnID: OID_AUTHORITY_KEY_IDENTIFIER,
          extnValue: new AuthorityKeyIdentifier({
            keyIdentifier: new asn1js.OctetString({ valueHex: await keyIdentifierOf(caCertificate) }),
          })
            .toSchema()
            .toBER(),
        }),
        new Extension({
          extnID: OID_CRL_NUMBER,
          extnValue: new asn1js.Integer({ value: options.crlNumber ?? 1 }).toBER(),
        }),
      ],
    }),
  });
  // RFC 5280 5.1.2.6: an empty list is left out rather than encoded as an empty SEQUENCE.
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map(
      (entry) =>
        new RevokedCertificate({
          userCertificate: serialInteger(canonicalSerial(entry.serialNumber)),
          revocationDate: x509Time(wholeSeconds(entry.revocationDate)),
        }),
    );
  }
  // pkijs signs with SHA-1 unless told otherwise.
  await crl.sign(issuer.privateKey, 'SHA-256');
  return new Uint8Array((crl.toSchema(true) as asn1js.Sequence).toBER());
}

/**
 * The CA's next CRL: the entries of `currentCrl` (which must verify against the CA) plus `serialNumber`, with the CRL
 * number incremented and fresh thisUpdate/nextUpdate. Revoking an already revoked serial is an error.
 */
export async function addRevokedSerial(
  currentCrl: Uint8Array,
  serialNumber: string,
  issuer: CrlIssuer,
  options: { readonly revocationDate?: Date; readonly validityDays?: number } = {},
): Promise<Uint8Array> {
  const current = await verifyCrl(currentCrl, issuer.certificate);
  const serial = canonicalSerial(serialNumber);
  if (current.revoked.some((entry) => entry.serialNumber === serial)) {
    throw new PkiError(PKI_ERROR_CODES.alreadyRevoked, `serial ${serial} is already revoked`);
  }
  const revocationDate = options.revocationDate ?? new Date();
  return createCrl(issuer, {
    crlNumber: (current.crlNumber ?? 0) + 1,
    revoked: [...current.revoked, { serialNumber: serial, revocationDate }],
    thisUpdate: revocationDate,
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
  });
}

/** Checks that the CRL was issued and signed by the CA certificate, then reads it. */
export async function verifyCrl(der: Uint8Array, caCertificate: Uint8Array): Promise<CrlInfo> {
  const crl = parseCrlStructure(der);
  const ca = parseCertificate(caCertificate);
  const issuerMatches = bytesEqual(
    new Uint8Array(crl.issuer.toSchema().toBER()),
    new Uint8Array(ca.subject.toSchema().toBER()),
  );
  if (!issuerMatches || !(await crl.verify({ issuerCertificate: ca }))) {
    throw new PkiError(PKI_ERROR_CODES.badSignature, 'the CRL was not issued by this CA');
  }
  return describeParsedCrl(crl);
}

/** Reads a CRL without checking its signature. */
/**
 * Whether `candidate` supersedes `held`, a CRL of the same issuer: a higher CRL number; with equal numbers, or either
 * without one, a later thisUpdate. The same CRL again is not newer. The one rule for the hub, the workstation and the
 * enrolment file (docs/protocol.md §5.3).
 */
export function isNewerCrl(candidate: CrlInfo, held: CrlInfo): boolean {
  if (candidate.crlNumber !== undefined && held.crlNumber !== undefined && candidate.crlNumber !== held.crlNumber)
    return candidate.crlNumber > held.crlNumber;
  return candidate.thisUpdate.getTime() > held.thisUpdate.getTime();
}

export function readCrl(der: Uint8Array): CrlInfo {
  return describeParsedCrl(parseCrlStructure(der));
}

function parseCrlStructure(der: Uint8Array): CertificateRevocationList {
  return parseOrThrow('the CRL', () => CertificateRevocationList.fromBER(toArrayBuffer(der)));
}

function describeParsedCrl(crl: CertificateRevocationList): CrlInfo {
  const extensions = crl.crlExtensions?.extensions ?? [];
  const number: unknown = extensions.find((extension) => extension.extnID === OID_CRL_NUMBER)?.parsedValue;
  return {
    issuer: formatName(crl.issuer),
    crlNumber: number instanceof asn1js.Integer ? Number(number.toBigInt()) : undefined,
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value,
    revoked: (crl.revokedCertificates ?? []).map((entry) => ({
      serialNumber: serialHex(entry.userCertificate),
      revocationDate: entry.revocationDate.value,
    })),
  };
}

/** Any hex spelling (case, 0x, colons, leading zeros) → the form `serialHex` reports. */
function canonicalSerial(hex: string): string {
  const digits = hex.toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (!/^[0-9a-f]+$/.test(digits)) throw new PkiError(PKI_ERROR_CODES.invalidInput, `invalid serial number ${hex}`);
  const even = (digits.length % 2 ? '0' : '') + digits;
  return even.replace(/^(?:00)+(?=..)/, '');
}

/** DER INTEGER content is two's complement: a set top bit needs a zero byte in front to stay positive. */
function serialInteger(canonical: string): asn1js.Integer {
  const bytes = Uint8Array.from(canonical.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  return new asn1js.Integer({ valueHex: (bytes[0] ?? 0) & 0x80 ? Uint8Array.of(0, ...bytes) : bytes });
}
