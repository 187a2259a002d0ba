import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CRLDistributionPoints,
  DistributionPoint,
  Extension,
  ExtKeyUsage,
  GeneralName,
  PublicKeyInfo,
  type RelativeDistinguishedNames,
  Time,
} from 'pkijs';
import * as asn1js from 'asn1js';
import { toArrayBuffer, toHex } from './bytes.ts';
import { PKI_ERROR_CODES, PkiError, parseOrThrow } from './errors.ts';
import { keyFamilyOf, type KeyFamily } from './keys.ts';
import { encodeName, type DistinguishedName } from './names.ts';
import type { CryptoKey, KeyPair } from './webcrypto.ts';

/** RFC 5280 KeyUsage bits, in bit order (index = bit number). */
export const KEY_USAGES = [
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

export type KeyUsage = (typeof KEY_USAGES)[number];

export const EXTENDED_KEY_USAGES = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
} as const;

export type ExtendedKeyUsage = keyof typeof EXTENDED_KEY_USAGES;

export interface CertificateProfile {
  readonly ca: boolean;
  /** Per key family, because an encryption key is used for key transport (RSA) or key agreement (EC). */
  readonly keyUsage: Readonly<Record<KeyFamily, readonly KeyUsage[]>>;
  readonly extendedKeyUsage: readonly ExtendedKeyUsage[];
  readonly validityDays: number;
}

export const CERTIFICATE_PROFILES = {
  'root-ca': {
    ca: true,
    keyUsage: { ec: ['keyCertSign', 'cRLSign'], rsa: ['keyCertSign', 'cRLSign'] },
    extendedKeyUsage: [],
    validityDays: 3650,
  },
  hub: {
    ca: false,
    keyUsage: { ec: ['digitalSignature'], rsa: ['digitalSignature'] },
    extendedKeyUsage: ['emailProtection', 'clientAuth'],
    validityDays: 730,
  },
  'clinic-system': {
    ca: false,
    keyUsage: { ec: ['digitalSignature'], rsa: ['digitalSignature'] },
    extendedKeyUsage: ['emailProtection', 'clientAuth'],
    validityDays: 730,
  },
  'practitioner-signing': {
    ca: false,
    keyUsage: { ec: ['digitalSignature', 'nonRepudiation'], rsa: ['digitalSignature', 'nonRepudiation'] },
    extendedKeyUsage: ['emailProtection'],
    validityDays: 730,
  },
  'practitioner-encryption': {
    ca: false,
    keyUsage: { ec: ['keyAgreement'], rsa: ['keyEncipherment'] },
    extendedKeyUsage: ['emailProtection'],
    validityDays: 730,
  },
} as const satisfies Record<string, CertificateProfile>;

export type CertificateProfileName = keyof typeof CERTIFICATE_PROFILES;
export type LeafProfileName = Exclude<CertificateProfileName, 'root-ca'>;

export interface CertificateIssuer {
  /** DER of the CA certificate. */
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
}

export interface CertificateOptions {
  readonly subject: DistinguishedName;
  /** Defaults to a few minutes ago, so that a peer whose clock is slightly behind accepts the certificate. */
  readonly notBefore?: Date;
  /** Defaults to the profile's; a leaf never outlives its issuer. */
  readonly validityDays?: number;
  /** URLs put in a CRLDistributionPoints extension. */
  readonly crlDistributionPoints?: readonly string[];
}

export interface IssuedCertificate {
  readonly der: Uint8Array;
  /** As `serialHex` reports it. */
  readonly serialNumber: string;
}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A self-signed root CA certificate for the key pair (profile `root-ca`). */
export async function createRootCertificate(
  options: CertificateOptions & { readonly keyPair: KeyPair },
): Promise<IssuedCertificate> {
  const publicKeyInfo = await exportPublicKeyInfo(options.keyPair.publicKey);
  const keyIdentifier = await computeKeyIdentifier(publicKeyInfo);
  return build({
    profile: CERTIFICATE_PROFILES['root-ca'],
    options,
    publicKeyInfo,
    keyFamily: keyFamilyOf(options.keyPair.publicKey),
    issuer: {
      name: encodeName(options.subject),
      keyIdentifier,
      notAfter: undefined,
      privateKey: options.keyPair.privateKey,
    },
  });
}

/** An end-entity certificate for `publicKey`, signed by the CA. */
export async function issueCertificate(
  options: CertificateOptions & {
    readonly profile: LeafProfileName;
    readonly publicKey: CryptoKey;
    readonly issuer: CertificateIssuer;
  },
): Promise<IssuedCertificate> {
  const issuerCertificate = parseCertificate(options.issuer.certificate);
  if (!mayIssueCertificates(issuerCertificate)) {
    throw new PkiError(PKI_ERROR_CODES.invalidInput, 'the issuer certificate is not a CA allowed to sign certificates');
  }
  return build({
    profile: CERTIFICATE_PROFILES[options.profile],
    options,
    publicKeyInfo: await exportPublicKeyInfo(options.publicKey),
    keyFamily: keyFamilyOf(options.publicKey),
    issuer: {
      name: issuerCertificate.subject,
      keyIdentifier: await keyIdentifierOf(issuerCertificate),
      notAfter: issuerCertificate.notAfter.value,
      privateKey: options.issuer.privateKey,
    },
  });
}

interface BuildInput {
  readonly profile: CertificateProfile;
  readonly options: CertificateOptions;
  readonly publicKeyInfo: PublicKeyInfo;
  readonly keyFamily: KeyFamily;
  readonly issuer: {
    readonly name: RelativeDistinguishedNames;
    readonly keyIdentifier: Uint8Array;
    readonly notAfter: Date | undefined;
    readonly privateKey: CryptoKey;
  };
}

async function build({ profile, options, publicKeyInfo, keyFamily, issuer }: BuildInput): Promise<IssuedCertificate> {
  const notBefore = wholeSeconds(options.notBefore ?? new Date(Date.now() - BACKDATE_MS));
  const requestedEnd = new Date(notBefore.getTime() + (options.validityDays ?? profile.validityDays) * DAY_MS);
  const notAfter = wholeSeconds(issuer.notAfter && issuer.notAfter < requestedEnd ? issuer.notAfter : requestedEnd);
  const serial = randomSerial();
  const authorityKeyIdentifier = new asn1js.OctetString({ valueHex: issuer.keyIdentifier });

  const certificate = new Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: serial }),
    subject: encodeName(options.subject),
    issuer: issuer.name,
    notBefore: x509Time(notBefore),
    notAfter: x509Time(notAfter),
    subjectPublicKeyInfo: publicKeyInfo,
    extensions: [
      extension(OID.basicConstraints, true, new BasicConstraints({ cA: profile.ca }).toSchema()),
      ...usageExtensions(profile, keyFamily),
      extension(
        OID.subjectKeyIdentifier,
        false,
        new asn1js.OctetString({ valueHex: await computeKeyIdentifier(publicKeyInfo) }),
      ),
      extension(
        OID.authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: authorityKeyIdentifier }).toSchema(),
      ),
      ...(options.crlDistributionPoints?.length ? [crlDistributionPointsExtension(options.crlDistributionPoints)] : []),
    ],
  });
  // pkijs signs with SHA-1 unless told otherwise.
  await certificate.sign(issuer.privateKey, 'SHA-256');
  return { der: new Uint8Array(certificate.toSchema(true).toBER()), serialNumber: toHex(serial) };
}

/** The profile's KeyUsage (critical) and, if it names any, ExtendedKeyUsage extensions for a key of this family. */
export function usageExtensions(profile: CertificateProfile, keyFamily: KeyFamily): Extension[] {
  const keyPurposes = profile.extendedKeyUsage.map((usage) => EXTENDED_KEY_USAGES[usage]);
  return [
    extension(OID.keyUsage, true, keyUsageBits(profile.keyUsage[keyFamily])),
    ...(keyPurposes.length > 0 ? [extension(OID.extKeyUsage, false, new ExtKeyUsage({ keyPurposes }).toSchema())] : []),
  ];
}

export function parseCertificate(der: Uint8Array): Certificate {
  return parseOrThrow('the certificate', () => Certificate.fromBER(toArrayBuffer(der)));
}

/** The certificate's extension of this type, if it has one. */
function findExtension(certificate: Certificate, oid: string): Extension | undefined {
  return certificate.extensions?.find((candidate) => candidate.extnID === oid);
}

function unreadableExtension(what: string, holder = 'the certificate'): PkiError {
  return new PkiError(PKI_ERROR_CODES.malformed, `${holder} has an unreadable ${what} extension`);
}

/** BasicConstraints says cA. */
export function hasCaFlag(certificate: Certificate): boolean {
  const constraints: unknown = findExtension(certificate, OID.basicConstraints)?.parsedValue;
  return constraints instanceof BasicConstraints && constraints.cA;
}

/**
 * A CA that may sign certificates: cA, and keyCertSign if it restricts its key usage (RFC 5280 4.2.1.3). Throws
 * `pki-malformed` if the KeyUsage extension of a CA cannot be read.
 */
export function mayIssueCertificates(certificate: Certificate): boolean {
  if (!hasCaFlag(certificate)) return false;
  const usage = keyUsageOf(certificate);
  return usage === undefined || usage.includes('keyCertSign');
}

/**
 * The KeyUsage names, or undefined if the certificate has no KeyUsage extension (any usage). An extension that is
 * present but cannot be read throws `pki-malformed`: it restricts the key in a way nobody can tell.
 */
export function keyUsageOf(certificate: Certificate): KeyUsage[] | undefined {
  return keyUsageIn(certificate.extensions, 'the certificate');
}

/** `keyUsageOf` for any list of extensions, e.g. those a certification request asks for; `holder` names it in errors. */
export function keyUsageIn(extensions: readonly Extension[] | undefined, holder: string): KeyUsage[] | undefined {
  const extension = extensions?.find((candidate) => candidate.extnID === OID.keyUsage);
  if (!extension) return undefined;
  const bits: unknown = extension.parsedValue;
  if (!(bits instanceof asn1js.BitString)) throw unreadableExtension('key usage', holder);
  const bytes = bits.valueBlock.valueHexView;
  return KEY_USAGES.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
}

/**
 * The ExtendedKeyUsage purposes as OIDs, or undefined if the certificate has no ExtendedKeyUsage extension (any
 * purpose). An extension that is present but cannot be read throws `pki-malformed`.
 */
export function extendedKeyUsageOf(certificate: Certificate): string[] | undefined {
  const extension = findExtension(certificate, OID.extKeyUsage);
  if (!extension) return undefined;
  const usage: unknown = extension.parsedValue;
  // pkijs turns a value it cannot parse into an empty ExtKeyUsage marked with parsingError.
  if (!(usage instanceof ExtKeyUsage) || 'parsingError' in usage) throw unreadableExtension('extended key usage');
  return usage.keyPurposes;
}

/** The certificate's SubjectKeyIdentifier extension (a view into the certificate), or undefined if it has none. */
export function subjectKeyIdentifierOf(certificate: Certificate): Uint8Array | undefined {
  const identifier: unknown = findExtension(certificate, OID.subjectKeyIdentifier)?.parsedValue;
  return identifier instanceof asn1js.OctetString ? identifier.valueBlock.valueHexView : undefined;
}

/** The certificate's SubjectKeyIdentifier, or the RFC 5280 method-1 value computed from its key. */
export async function keyIdentifierOf(certificate: Certificate): Promise<Uint8Array> {
  return subjectKeyIdentifierOf(certificate)?.slice() ?? computeKeyIdentifier(certificate.subjectPublicKeyInfo);
}

export async function exportPublicKeyInfo(publicKey: CryptoKey): Promise<PublicKeyInfo> {
  return PublicKeyInfo.fromBER(await crypto.subtle.exportKey('spki', publicKey));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
async function computeKeyIdentifier(publicKeyInfo: PublicKeyInfo): Promise<Uint8Array> {
  const bits = publicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return new Uint8Array(await crypto.subtle.digest('SHA-1', toArrayBuffer(bits)));
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): Extension {
  return new Extension({ extnID, critical, extnValue: value.toBER() });
}

/** A DER named bit string: trailing zero bits dropped, as X.690 11.2.2 requires. */
function keyUsageBits(usages: readonly KeyUsage[]): asn1js.BitString {
  const bits = usages.map((usage) => KEY_USAGES.indexOf(usage));
  const last = Math.max(...bits);
  const bytes = new Uint8Array((last >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return new asn1js.BitString({ valueHex: bytes, unusedBits: 7 - (last & 7) });
}

function crlDistributionPointsExtension(urls: readonly string[]): Extension {
  const points = urls.map(
    (url) => new DistributionPoint({ distributionPoint: [new GeneralName({ type: 6, value: url })] }),
  );
  const value = new CRLDistributionPoints({ distributionPoints: points }).toSchema();
  return extension(OID.crlDistributionPoints, false, value);
}

/**
 * The serial number as every part of the product shows it: lower-case hex without DER's leading zero sign byte (the
 * digits `openssl x509 -serial` prints, which prints them in upper case).
 */
export function serialHex(serial: asn1js.Integer): string {
  const bytes = serial.valueBlock.valueHexView;
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return toHex(bytes.subarray(start));
}

/** 16 random bytes, first byte 1..127: positive, and DER-minimal without a leading zero byte. */
function randomSerial(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] = ((serial[0] ?? 0) % 0x7f) + 1;
  return serial;
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
export function x509Time(date: Date): Time {
  return new Time({ type: date.getUTCFullYear() < 2050 ? 0 : 1, value: date });
}

/** X.509 times carry no fractions of a second. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
