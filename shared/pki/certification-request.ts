import { Attribute, CertificationRequest, Extensions } from 'pkijs';
import { toArrayBuffer } from './bytes.ts';
import {
  CERTIFICATE_PROFILES,
  exportPublicKeyInfo,
  issueCertificate,
  keyUsageIn,
  usageExtensions,
  type CertificateIssuer,
  type CertificateOptions,
  type IssuedCertificate,
  type KeyUsage,
  type LeafProfileName,
} from './certificate.ts';
import { PKI_ERROR_CODES, PkiError, parseOrThrow } from './errors.ts';
import { importPublicKey, keyFamilyOf } from './keys.ts';
import { decodeName, encodeName, type DistinguishedName } from './names.ts';
import type { CryptoKey, KeyPair } from './webcrypto.ts';

/**
 * PKCS#10 certification requests: a workstation makes a key pair and a request for it, the regional CA issues a
 * certificate from the request, and the private key never leaves the workstation.
 */

export interface CertificationRequestOptions {
  readonly keyPair: KeyPair;
  readonly subject: DistinguishedName;
  /**
   * Asks for this profile's key usages (a PKCS#9 extensionRequest), so that the request says what its key is for and
   * a signing key's request cannot be issued as an encryption certificate by mistake (see issueCertificateFromRequest).
   */
  readonly profile?: LeafProfileName;
}

/** A request whose self-signature verified. */
export interface CertificationRequestContents {
  readonly subject: DistinguishedName;
  /** DER SubjectPublicKeyInfo: the key the certificate will certify. */
  readonly publicKeySpki: Uint8Array;
  /** The KeyUsage the request asks for, or undefined if it asks for none. */
  readonly keyUsage: KeyUsage[] | undefined;
}

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** SHA-2 signatures only; pkijs would also verify SHA-1. */
const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
]);

/** DER of a PKCS#10 request for the key pair's public key, signed with its private key (SHA-256). */
export async function createCertificationRequest(options: CertificationRequestOptions): Promise<Uint8Array> {
  const { keyPair, subject, profile } = options;
  const request = new CertificationRequest({
    subject: encodeName(subject),
    subjectPublicKeyInfo: await exportPublicKeyInfo(keyPair.publicKey),
    // PKCS#10 requires the attributes field even when it is empty.
    attributes:
      profile === undefined
        ? []
        : [
            new Attribute({
              type: OID_EXTENSION_REQUEST,
              values: [
                new Extensions({
                  extensions: usageExtensions(CERTIFICATE_PROFILES[profile], keyFamilyOf(keyPair.publicKey)),
                }).toSchema(),
              ],
            }),
          ],
  });
  // pkijs signs with SHA-1 unless told otherwise.
  await request.sign(keyPair.privateKey, 'SHA-256');
  return new Uint8Array(request.toSchema(true).toBER());
}

/**
 * Verifies the request's self-signature (proof that the requester holds the private key), then reads it. Throws
 * `pki-malformed` for bytes that are no request, `pki-bad-signature` for a request its key did not sign (e.g. altered
 * after signing), `pki-unsupported` for keys, signature algorithms or subject attributes this PKI does not use.
 */
export async function readCertificationRequest(der: Uint8Array): Promise<CertificationRequestContents> {
  return (await verifyRequest(der)).contents;
}

/**
 * A certificate for the request's subject and key, after verifying the request. If the request asks for key usages,
 * the profile must grant them all (`pki-invalid-input` otherwise); its extended key usages are not compared, the
 * profile's apply. The certificate's subject is the request's re-encoded as this PKI writes names.
 */
export async function issueCertificateFromRequest(
  options: Omit<CertificateOptions, 'subject'> & {
    /** DER of the PKCS#10 request. */
    readonly request: Uint8Array;
    readonly profile: LeafProfileName;
    readonly issuer: CertificateIssuer;
  },
): Promise<IssuedCertificate> {
  const { request, ...issuing } = options;
  const { contents, publicKey } = await verifyRequest(request);
  const granted: readonly KeyUsage[] = CERTIFICATE_PROFILES[options.profile].keyUsage[keyFamilyOf(publicKey)];
  const refused = contents.keyUsage?.filter((usage) => !granted.includes(usage)) ?? [];
  if (refused.length > 0) {
    throw new PkiError(
      PKI_ERROR_CODES.invalidInput,
      `the request asks for ${refused.join(', ')}, which profile ${options.profile} does not grant`,
    );
  }
  return issueCertificate({ ...issuing, subject: contents.subject, publicKey });
}

async function verifyRequest(
  der: Uint8Array,
): Promise<{ contents: CertificationRequestContents; publicKey: CryptoKey }> {
  const request = parseOrThrow('the certification request', () => CertificationRequest.fromBER(toArrayBuffer(der)));
  const publicKeySpki = new Uint8Array(request.subjectPublicKeyInfo.toSchema().toBER());
  // Before the signature, so that a key of another kind is reported as unsupported rather than as a bad signature.
  const publicKey = await importPublicKey(publicKeySpki);
  const algorithm = request.signatureAlgorithm.algorithmId;
  if (!SIGNATURE_ALGORITHMS.has(algorithm)) {
    throw new PkiError(
      PKI_ERROR_CODES.unsupported,
      `the certification request is signed with unsupported algorithm ${algorithm}`,
    );
  }
  const notSigned = (cause?: unknown) =>
    new PkiError(PKI_ERROR_CODES.badSignature, 'the certification request is not signed by the key it names', {
      cause,
    });
  // pkijs throws rather than answering false for some broken signatures (e.g. an ECDSA value that is not DER).
  const verified = await request.verify().catch((error: unknown) => {
    throw notSigned(error);
  });
  if (!verified) throw notSigned();
  return {
    contents: {
      subject: decodeName(request.subject),
      publicKeySpki,
      keyUsage: keyUsageIn(requestedExtensions(request), 'the certification request'),
    },
    publicKey,
  };
}

/** The extensions of the request's PKCS#9 extensionRequest attribute, if it has one. */
function requestedExtensions(request: CertificationRequest): Extensions['extensions'] | undefined {
  const attribute = request.attributes?.find((candidate) => candidate.type === OID_EXTENSION_REQUEST);
  if (!attribute) return undefined;
  const value: unknown = attribute.values[0];
  if (value === undefined)
    throw new PkiError(PKI_ERROR_CODES.malformed, 'the certification request has an empty extension request');
  return parseOrThrow('the extension request', () => new Extensions({ schema: value })).extensions;
}
