import { verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import type * as pkijs from 'pkijs';
import {
  createCertificateValidator,
  crlCurrentUntil,
  crlsOf,
  parseTrust,
  SHA1_SIGNATURES,
  UNDERSTOOD_EXTENSIONS,
  MAX_CERTIFICATE_BYTES,
  OID,
  derChildren,
  parseCertificate,
  readDer,
  type CertificateUse,
  type CertificateValidator,
  type TrustConfig,
} from '../shared/cms/index.ts';
import { hasCaFlag, keyUsageOf, bytesEqual, toHex } from '../shared/pki/index.ts';
import {
  derExtendedKeyUsages,
  derExtensions,
  derKeyUsages,
  derOid,
  derPublicKeyKind,
  derTime,
  type DerExtension,
} from './der-walk.ts';

/**
 * The certificate check of `shared/cms/certificate-validator.ts` (docs/protocol.md §3), with OpenSSL doing the work
 * for the common case: a leaf issued directly by a configured trust anchor. Directory syncs check two certificates
 * per practitioner, and the pure-JavaScript path costs milliseconds each (mostly DER parsing); this one a fraction.
 *
 * It only ever *accepts* on its own, and only what the pkijs validator would accept: the same rules, checked at least
 * as strictly (issuer by exact name bytes, a closed list of signature algorithms, no policy or name-constraint
 * processing). Anything else — a failure, an intermediate in the path, an extension it does not read — goes to the
 * pkijs validator, which gives the verdict and its exact error. Its tests hold the two to the same answers.
 */

/** Signature algorithms the fast path checks, with their digest (RSA: PKCS #1 v1.5, OpenSSL's default for RSA keys). */
const FAST_SIGNATURES: ReadonlyMap<string, string> = new Map([
  [OID.ecdsaWithSha256, 'sha256'],
  [OID.ecdsaWithSha384, 'sha384'],
  [OID.ecdsaWithSha512, 'sha512'],
  [OID.sha256WithRsa, 'sha256'],
  [OID.sha384WithRsa, 'sha384'],
  [OID.sha512WithRsa, 'sha512'],
]);

/** On libuv's thread pool, so that checking many certificates (a directory update) uses every core. */
function signatureHolds(digest: string, data: Uint8Array, key: KeyObject, signature: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    verifySignature(digest, data, key, signature, (error, valid) => resolve(!error && valid));
  });
}

/** On the calling thread: a worker thread that checks many certificates is itself off the event loop. */
function signatureHoldsHere(digest: string, data: Uint8Array, key: KeyObject, signature: Uint8Array): Promise<boolean> {
  try {
    return Promise.resolve(verifySignature(digest, data, key, signature));
  } catch {
    return Promise.resolve(false);
  }
}

// pkijs processes policies and name constraints along the path; the fast path leaves every certificate with them to it.
const PATH_PROCESSING_EXTENSIONS: ReadonlySet<string> = new Set([
  '2.5.29.30',
  '2.5.29.32',
  '2.5.29.33',
  '2.5.29.36',
  '2.5.29.54',
]);

interface FastAnchor {
  readonly der: Uint8Array;
  readonly subject: Uint8Array;
  readonly publicKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Serial numbers (hex of the DER INTEGER content) on CRLs this anchor signed. */
  readonly revoked: ReadonlySet<string>;
  /** Until when its newest CRL is current (chain.ts's rule); later, the pkijs validator refuses as cms-crl-expired. */
  readonly crlCurrentUntil: number;
}

interface LeafFacts {
  readonly tbs: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The subject's key, where it is of the profile's kinds. */
  readonly keyKind: 'rsa' | 'ec-p256' | undefined;
  /** The signature value's bytes (the BIT STRING without its unused-bits byte). */
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly serialHex: string;
  readonly signatureAlgorithm: string;
  readonly extensions: ReadonlyMap<string, DerExtension>;
}

/** Where `der` is not plainly the structure RFC 5280 describes, the walker throws and the pkijs validator decides. */
function leafFacts(der: Uint8Array): LeafFacts {
  const certificate = readDer(der, 0, 0x30);
  const [tbs, outerAlgorithm, signature, ...rest] = derChildren(der, certificate);
  if (
    certificate.end !== der.length ||
    !tbs ||
    !outerAlgorithm ||
    tbs.tag !== 0x30 ||
    signature?.tag !== 0x03 ||
    rest.length > 0
  )
    throw new Error('not a certificate');
  if (der[signature.contentStart] !== 0) throw new Error('signature with unused bits');
  const fields = derChildren(der, tbs);
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [serial, innerAlgorithm, issuer, validity, subject, publicKeyInfo] = fields.slice(at, at + 6);
  if (
    serial?.tag !== 0x02 ||
    innerAlgorithm?.tag !== 0x30 ||
    issuer?.tag !== 0x30 ||
    validity?.tag !== 0x30 ||
    subject?.tag !== 0x30 ||
    publicKeyInfo?.tag !== 0x30
  )
    throw new Error('not a certificate');
  const [notBefore, notAfter, ...more] = derChildren(der, validity);
  if (!notBefore || !notAfter || more.length > 0) throw new Error('not a validity');
  if (
    !bytesEqual(
      der.subarray(innerAlgorithm.start, innerAlgorithm.end),
      der.subarray(outerAlgorithm.start, outerAlgorithm.end),
    )
  )
    throw new Error('signature algorithms differ');
  const extensions = derExtensions(der, fields);
  const [algorithmOid] = derChildren(der, outerAlgorithm);
  if (algorithmOid?.tag !== 0x06) throw new Error('not a certificate');
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    notBefore: derTime(der, notBefore),
    notAfter: derTime(der, notAfter),
    keyKind: derPublicKeyKind(der, publicKeyInfo),
    signature: der.subarray(signature.contentStart + 1, signature.end),
    issuer: der.subarray(issuer.start, issuer.end),
    serialHex: toHex(der.subarray(serial.contentStart, serial.end)),
    signatureAlgorithm: derOid(der, algorithmOid),
    extensions,
  };
}

/** Anchors the fast path may use, worked out once per trust configuration (which is never changed in place). */
const fastAnchors = new WeakMap<TrustConfig, Promise<FastAnchor[]>>();

function anchorsOf(trust: TrustConfig): Promise<FastAnchor[]> {
  let anchors = fastAnchors.get(trust);
  if (!anchors) fastAnchors.set(trust, (anchors = eligibleAnchors(trust)));
  return anchors;
}

async function eligibleAnchors(trust: TrustConfig): Promise<FastAnchor[]> {
  let parsed;
  try {
    parsed = parseTrust(trust);
  } catch {
    return []; // The pkijs validator says what is wrong with the configuration.
  }
  const eligible: FastAnchor[] = [];
  for (const { certificate, der } of parsed.anchors) {
    if (!(await anchorMayIssueFast(certificate, parsed.crls))) continue;
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch {
      continue; // OpenSSL cannot read it: leave it to the pkijs validator.
    }
    const own = await crlsOf(certificate, parsed.crls);
    const currentUntil = crlCurrentUntil(own);
    if (currentUntil === undefined) continue; // No CRL of it: the pkijs validator refuses as cms-crl-missing.
    const revoked = new Set<string>();
    for (const crl of own) {
      for (const entry of crl.revokedCertificates ?? [])
        revoked.add(toHex(entry.userCertificate.valueBlock.valueHexView));
    }
    const subjectDer = new Uint8Array(certificate.subject.toSchema().toBER());
    eligible.push({
      der,
      subject: subjectDer,
      publicKey: x509.publicKey,
      notBefore: x509.validFromDate.getTime(),
      notAfter: x509.validToDate.getTime(),
      revoked,
      crlCurrentUntil: currentUntil,
    });
  }
  return eligible;
}

/** The anchor side of chain.ts's rules, true only where they hold without path processing the fast path leaves out. */
async function anchorMayIssueFast(
  anchor: pkijs.Certificate,
  crls: readonly pkijs.CertificateRevocationList[],
): Promise<boolean> {
  try {
    if (!hasCaFlag(anchor) || !keyUsageOf(anchor)?.includes('keyCertSign')) return false;
  } catch {
    return false;
  }
  if (
    anchor.extensions?.some(
      (e) => PATH_PROCESSING_EXTENSIONS.has(e.extnID) || (e.critical && !UNDERSTOOD_EXTENSIONS.has(e.extnID)),
    )
  )
    return false;
  // A SHA-1 CRL under the anchor's name is an error of the whole check; the pkijs validator reports it.
  return !crls.some(
    (crl) => crl.issuer.isEqual(anchor.subject) && SHA1_SIGNATURES.has(crl.signatureAlgorithm.algorithmId),
  );
}

/** What the fast path found: the certificate's notAfter when it accepted, else false. */
async function acceptsFast(
  der: Uint8Array,
  use: CertificateUse,
  at: number,
  anchors: readonly FastAnchor[],
  verifies: typeof signatureHolds,
): Promise<number | false> {
  if (der.byteLength > MAX_CERTIFICATE_BYTES || anchors.some((anchor) => bytesEqual(anchor.der, der))) return false;
  const facts = leafFacts(der);
  const digest = FAST_SIGNATURES.get(facts.signatureAlgorithm);
  if (!digest) return false;
  for (const [oid, { critical }] of facts.extensions) {
    if (PATH_PROCESSING_EXTENSIONS.has(oid) || (critical && !UNDERSTOOD_EXTENSIONS.has(oid))) return false;
  }
  const anchor = anchors.find((a) => bytesEqual(a.subject, facts.issuer));
  if (
    !anchor ||
    anchor.notBefore > at ||
    anchor.notAfter < at ||
    anchor.revoked.has(facts.serialHex) ||
    anchor.crlCurrentUntil < at
  )
    return false;

  // Read from the DER, not by OpenSSL's parse of the whole certificate (X509Certificate): that parse cost the hub's
  // workers 40 µs per certificate, and the public key's details 30 more, on P1's 200,000 certificates. The issuer's
  // signature covers every byte read here; anything unusual throws, and pkijs decides.
  const { notAfter } = facts;
  if (facts.notBefore > at || notAfter < at) return false;

  const usages = derKeyUsages(facts.extensions.get(OID.keyUsage)?.value);
  if (use === 'signing') {
    if (usages && !usages.includes('digitalSignature') && !usages.includes('nonRepudiation')) return false;
    const purposes = derExtendedKeyUsages(facts.extensions.get(OID.extKeyUsage)?.value);
    if (purposes && !purposes.includes(OID.emailProtection) && !purposes.includes(OID.anyExtendedKeyUsage))
      return false;
  } else {
    // An encryption certificate: a key of the profile, with the usage its key management needs (recipients.ts).
    const kind = facts.keyKind;
    if (!kind || (usages && !usages.includes(kind === 'rsa' ? 'keyEncipherment' : 'keyAgreement'))) return false;
  }
  return (await verifies(digest, facts.tbs, anchor.publicKey, facts.signature)) && notAfter;
}

async function acceptsFastOrFalse(
  der: Uint8Array,
  use: CertificateUse,
  at: number,
  anchors: readonly FastAnchor[],
  verifies: typeof signatureHolds,
): Promise<number | false> {
  try {
    return await acceptsFast(der, use, at, anchors, verifies);
  } catch {
    return false; // Unusual DER: the pkijs validator parses it and names the problem.
  }
}

export interface NativeCertificateValidatorOptions {
  /** Decides whatever the fast path does not accept; the pkijs validator of the same trust by default. */
  readonly fallback?: CertificateValidator;
  /** Signatures verified on the calling thread (a worker's) rather than on libuv's thread pool. */
  readonly verifyOnThisThread?: boolean;
}

/** A CertificateValidator that also tells, when it accepts, until when the certificate itself is valid (ms). */
export type CertificateChecker = (der: Uint8Array, use: CertificateUse, at: Date) => Promise<number>;

export function createNativeCertificateChecker(
  trust: TrustConfig,
  options: NativeCertificateValidatorOptions = {},
): CertificateChecker {
  const fallback = options.fallback ?? createCertificateValidator(trust);
  const verifies = options.verifyOnThisThread ? signatureHoldsHere : signatureHolds;
  return async (der, use, at) => {
    const anchors = await anchorsOf(trust);
    const notAfter = anchors.length > 0 && (await acceptsFastOrFalse(der, use, at.getTime(), anchors, verifies));
    if (notAfter !== false) return notAfter;
    await fallback(der, use, at);
    // pkijs accepted it; OpenSSL may not read it at all (fuzzing found such DER), so the date is pkijs's too.
    return parseCertificate(der, 'certificate').notAfter.value.getTime();
  };
}

export function createNativeCertificateValidator(
  trust: TrustConfig,
  options: NativeCertificateValidatorOptions = {},
): CertificateValidator {
  const check = createNativeCertificateChecker(trust, options);
  return async (der, use, at) => {
    await check(der, use, at);
  };
}
