import * as pkijs from 'pkijs';
import { extendedKeyUsageOf, hasCaFlag, keyUsageOf } from '../pki/certificate.ts';
import { certificateFact, certificateLabel, parseCertificate, parseCrl } from './certificates.ts';
import { CMS_ERROR_CODES, CmsError } from './cms-errors.ts';
import { bytesEqual } from '../pki/bytes.ts';
import { OID } from './oids.ts';
import type { TrustConfig } from './types.ts';

/** Extensions this validation (or pkijs's, for policies and name constraints) understands; RFC 5280 4.2. */
export const UNDERSTOOD_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.keyUsage,
  OID.extKeyUsage,
  OID.basicConstraints,
  OID.subjectKeyIdentifier,
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.17', // subjectAltName
  '2.5.29.18', // issuerAltName
  '2.5.29.30', // nameConstraints
  '2.5.29.31', // cRLDistributionPoints
  '2.5.29.32', // certificatePolicies
  '2.5.29.33', // policyMappings
  '2.5.29.36', // policyConstraints
  '2.5.29.54', // inhibitAnyPolicy
  '1.3.6.1.5.5.7.1.1', // authorityInfoAccess
]);

export const SHA1_SIGNATURES: ReadonlySet<string> = new Set([OID.sha1WithRsa, OID.ecdsaWithSha1, OID.dsaWithSha1]);

function checkValidity(certificate: pkijs.Certificate, at: Date): void {
  if (certificate.notAfter.value.getTime() < at.getTime()) {
    throw new CmsError(
      CMS_ERROR_CODES.certificateExpired,
      `The certificate ${certificateLabel(certificate)} had expired at the signing time ${at.toISOString()}`,
    );
  }
  if (certificate.notBefore.value.getTime() > at.getTime()) {
    throw new CmsError(
      CMS_ERROR_CODES.certificateNotYetValid,
      `The certificate ${certificateLabel(certificate)} was not yet valid at the signing time ${at.toISOString()}`,
    );
  }
}

function tbsEqual(a: pkijs.Certificate, b: pkijs.Certificate): boolean {
  return bytesEqual(a.tbsView, b.tbsView);
}

export interface KnownCertificate {
  certificate: pkijs.Certificate;
  /** As it was sent or configured: pkijs would re-encode it. */
  der: Uint8Array;
}

export interface ParsedTrust {
  anchors: KnownCertificate[];
  intermediates: KnownCertificate[];
  crls: pkijs.CertificateRevocationList[];
}

// Parsed once per configuration object: a receiver that keeps its TrustConfig (never changed in place) checks each
// message without parsing its anchors and CRLs again.
const parsedTrusts = new WeakMap<TrustConfig, ParsedTrust>();

export function parseTrust(trust: TrustConfig): ParsedTrust {
  const cached = parsedTrusts.get(trust);
  if (cached) return cached;
  const parsed = parseTrustOnce(trust);
  parsedTrusts.set(trust, parsed);
  return parsed;
}

function parseTrustOnce(trust: TrustConfig): ParsedTrust {
  const known = (what: string) => (der: Uint8Array) => ({ certificate: parseCertificate(der, what), der });
  return {
    anchors: trust.anchors.map(known('A trust anchor certificate')),
    intermediates: (trust.intermediates ?? []).map(known('An intermediate certificate of the trust configuration')),
    crls: (trust.crls ?? []).map((der) => parseCrl(der, 'A CRL of the trust configuration')),
  };
}

/**
 * pkijs reports an out-of-date certificate anywhere in the path with one generic code; walk the issuer names from
 * the signer to find which one and say whether it had expired or was not yet valid.
 */
function explainValidityFailure(signer: pkijs.Certificate, candidates: readonly pkijs.Certificate[], at: Date): void {
  let current = signer;
  for (let depth = 0; depth < 10 && !current.issuer.isEqual(current.subject); depth++) {
    const issuer = candidates.find((c) => c.subject.isEqual(current.issuer));
    if (!issuer) return;
    checkValidity(issuer, at);
    current = issuer;
  }
}

/**
 * Paths pkijs built and whose signatures it verified, per trust and signer certificate (both parsed once and kept): the
 * same few signers (the hub, a consult's sender) sign message after message, and building the path again was 0.6 ms of
 * each verification here. Only the path and its signatures are taken from here, and only when its certificates are
 * among those offered again; everything else (validity at the time asked, extensions, CA constraints, revocation,
 * usage) is checked again each time. New CRLs or anchors are a new trust object, and start empty.
 */
const verifiedPaths = new WeakMap<ParsedTrust, WeakMap<pkijs.Certificate, pkijs.Certificate[]>>();

/**
 * Validates the signer's certificate path at the signing time: path building and signatures by pkijs, then what
 * pkijs leaves out: validity named per certificate, unknown critical extensions, CA constraints, SHA-1, revocation
 * against the configured CRLs (each issuer in the path must have a current one) and the signer's key usage. Returns
 * the path, signer first, trust anchor last.
 */
export async function validateSignerChain(
  signer: pkijs.Certificate,
  embedded: readonly pkijs.Certificate[],
  trust: ParsedTrust,
  at: Date,
  checkUsage: (certificate: pkijs.Certificate) => void = checkSignerUsage,
  /** When the CRLs are relied on, i.e. now: a signature's `at` is its signing time, which may lie in the past. */
  revocationTime: Date = at,
): Promise<pkijs.Certificate[]> {
  const anchors = trust.anchors.map((known) => known.certificate);
  if (anchors.length === 0) throw new CmsError(CMS_ERROR_CODES.untrustedChain, 'No trust anchors are configured');

  checkValidity(signer, at);

  // pkijs takes the last of `certs` as the leaf and drops duplicates in ways that can drop the leaf: hand it a list
  // without duplicates, the signer last.
  const pool: pkijs.Certificate[] = [];
  for (const candidate of [...embedded, ...trust.intermediates.map((known) => known.certificate)]) {
    if ([signer, ...anchors, ...pool].some((known) => tbsEqual(known, candidate))) continue;
    pool.push(candidate);
  }
  // Taken only when this call could have built it: a verdict must not depend on what was verified before.
  const offered = (c: pkijs.Certificate) => [...pool, ...anchors].some((known) => known === c || tbsEqual(known, c));
  const kept = verifiedPaths.get(trust)?.get(signer);
  let path = kept?.slice(1).every(offered) ? kept : undefined;
  if (!path) {
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: anchors,
      certs: [...pool, signer],
      checkDate: at,
    });
    const result = await engine.verify();
    if (!result.result || !result.certificatePath) {
      if (result.resultCode === 8) explainValidityFailure(signer, [...pool, ...anchors], at);
      throw new CmsError(
        CMS_ERROR_CODES.untrustedChain,
        `The signer certificate ${certificateLabel(signer)} does not chain to a trusted certification authority`,
      );
    }
    path = result.certificatePath;
    let paths = verifiedPaths.get(trust);
    if (!paths) verifiedPaths.set(trust, (paths = new WeakMap()));
    paths.set(signer, path);
  }

  for (const certificate of path) {
    checkValidity(certificate, at);
    const unknown = certificate.extensions?.find((e) => e.critical && !UNDERSTOOD_EXTENSIONS.has(e.extnID));
    if (unknown) {
      throw new CmsError(
        CMS_ERROR_CODES.untrustedChain,
        `The certificate ${certificateLabel(certificate)} has a critical extension this system does not understand (${unknown.extnID})`,
      );
    }
  }
  // Stricter than RFC 5280, which lets a CA without a KeyUsage extension sign: here keyCertSign must be explicit.
  for (const ca of path.slice(1)) {
    if (!hasCaFlag(ca) || !certificateFact(keyUsageOf, ca)?.includes('keyCertSign')) {
      throw new CmsError(
        CMS_ERROR_CODES.untrustedChain,
        `The issuing certificate ${certificateLabel(ca)} is not marked as a certification authority`,
      );
    }
  }
  // The anchor's own signature is not relied on; every other certificate's is.
  for (const certificate of path.slice(0, -1)) {
    if (SHA1_SIGNATURES.has(certificate.signatureAlgorithm.algorithmId)) {
      throw new CmsError(
        CMS_ERROR_CODES.unsupportedAlgorithm,
        `The certificate ${certificateLabel(certificate)} is signed with SHA-1, which is not accepted`,
      );
    }
  }
  await checkRevocation(path, trust.crls, revocationTime);
  checkUsage(signer);
  return path;
}

// Whether a CRL is signed by an issuer, asked once per pair of parsed objects: with a kept trust configuration its
// CRLs and anchors are the same objects for every certificate checked, and the answer cannot change.
const crlIssuerVerdicts = new WeakMap<pkijs.CertificateRevocationList, WeakMap<pkijs.Certificate, Promise<boolean>>>();

export function crlIsFrom(crl: pkijs.CertificateRevocationList, issuer: pkijs.Certificate): Promise<boolean> {
  let verdicts = crlIssuerVerdicts.get(crl);
  if (!verdicts) crlIssuerVerdicts.set(crl, (verdicts = new WeakMap()));
  let verdict = verdicts.get(issuer);
  if (!verdict) verdicts.set(issuer, (verdict = crl.verify({ issuerCertificate: issuer }).catch(() => false)));
  return verdict;
}

/**
 * How long past its nextUpdate a CRL is still relied on: the verifier's clock may run that far ahead of the CA's
 * (docs/protocol.md §3; the same tolerance as for signing times). After it the CRL is stale.
 */
export const CRL_GRACE_MS = 5 * 60 * 1000;

/** The CRLs among `crls` that `issuer` signed (its name and its key); one under its name signed with SHA-1 is refused. */
export async function crlsOf(
  issuer: pkijs.Certificate,
  crls: readonly pkijs.CertificateRevocationList[],
): Promise<pkijs.CertificateRevocationList[]> {
  const own: pkijs.CertificateRevocationList[] = [];
  for (const crl of crls) {
    if (!crl.issuer.isEqual(issuer.subject)) continue;
    if (SHA1_SIGNATURES.has(crl.signatureAlgorithm.algorithmId)) {
      throw new CmsError(
        CMS_ERROR_CODES.unsupportedAlgorithm,
        `The CRL of ${certificateLabel(issuer)} is signed with SHA-1, which is not accepted`,
      );
    }
    // A CRL under the same name but another key (a re-keyed CA) says nothing about this issuer's certificates.
    if (await crlIsFrom(crl, issuer)) own.push(crl);
  }
  return own;
}

function newestOf(own: readonly pkijs.CertificateRevocationList[]): pkijs.CertificateRevocationList | undefined {
  return own.reduce<pkijs.CertificateRevocationList | undefined>(
    (newest, crl) => (!newest || crl.thisUpdate.value > newest.thisUpdate.value ? crl : newest),
    undefined,
  );
}

/**
 * Until when (ms) an issuer's revocation information may be relied on: its newest CRL's nextUpdate plus the grace;
 * 0 for a CRL without nextUpdate (RFC 5280 requires one), undefined without any CRL.
 */
export function crlCurrentUntil(own: readonly pkijs.CertificateRevocationList[]): number | undefined {
  const newest = newestOf(own);
  if (!newest) return undefined;
  const nextUpdate = newest.nextUpdate?.value.getTime();
  return nextUpdate === undefined ? 0 : nextUpdate + CRL_GRACE_MS;
}

/**
 * Refuses to rely on an issuer's revocation status without a current CRL of it. The message speaks to whoever runs
 * the verifier: the certificate may be fine, but this installation cannot tell until it has the region's current CRL.
 */
export function checkCrlCurrent(
  issuer: pkijs.Certificate,
  own: readonly pkijs.CertificateRevocationList[],
  now: Date,
): void {
  const until = crlCurrentUntil(own);
  if (until === undefined) {
    throw new CmsError(
      CMS_ERROR_CODES.crlMissing,
      `No revocation list (CRL) of ${certificateLabel(issuer)} is configured here, so revocation cannot be checked: load the region's current CRL`,
    );
  }
  if (until < now.getTime()) {
    const nextUpdate = newestOf(own)?.nextUpdate?.value;
    throw new CmsError(
      CMS_ERROR_CODES.crlExpired,
      `The revocation list (CRL) of ${certificateLabel(issuer)} configured here is out of date (${nextUpdate ? `its next update was due ${nextUpdate.toISOString()}` : 'it names no next update'}): load the region's current CRL`,
    );
  }
}

/**
 * Every anchor and configured intermediate must have a current CRL: checked when a trust configuration is set up, so
 * that a missing or stale CRL is refused there with what to do, not only later message by message.
 */
export async function checkTrustRevocation(trust: TrustConfig, now: Date): Promise<void> {
  const parsed = parseTrust(trust);
  for (const { certificate } of [...parsed.anchors, ...parsed.intermediates])
    checkCrlCurrent(certificate, await crlsOf(certificate, parsed.crls), now);
}

/** Revocation first (a listed certificate is revoked however old the list), then the freshness of every issuer's CRL. */
async function checkRevocation(
  path: readonly pkijs.Certificate[],
  crls: readonly pkijs.CertificateRevocationList[],
  now: Date,
): Promise<void> {
  const issuers: { issuer: pkijs.Certificate; own: pkijs.CertificateRevocationList[] }[] = [];
  for (let i = 0; i < path.length - 1; i++) {
    const certificate = path[i];
    const issuer = path[i + 1];
    if (!certificate || !issuer) continue;
    const own = await crlsOf(issuer, crls);
    if (own.some((crl) => crl.isCertificateRevoked(certificate))) {
      throw new CmsError(
        CMS_ERROR_CODES.certificateRevoked,
        `The certificate ${certificateLabel(certificate)} has been revoked by its issuer`,
      );
    }
    issuers.push({ issuer, own });
  }
  for (const { issuer, own } of issuers) checkCrlCurrent(issuer, own, now);
}

function checkSignerUsage(signer: pkijs.Certificate): void {
  const usages = certificateFact(keyUsageOf, signer);
  if (usages && !usages.includes('digitalSignature') && !usages.includes('nonRepudiation')) {
    throw new CmsError(
      CMS_ERROR_CODES.wrongKeyUsage,
      `The signer certificate ${certificateLabel(signer)} does not allow digital signatures`,
    );
  }
  const purposes = certificateFact(extendedKeyUsageOf, signer);
  if (purposes && !purposes.includes(OID.emailProtection) && !purposes.includes(OID.anyExtendedKeyUsage)) {
    throw new CmsError(
      CMS_ERROR_CODES.wrongKeyUsage,
      `The signer certificate ${certificateLabel(signer)} is not issued for secure messaging (email protection)`,
    );
  }
}
