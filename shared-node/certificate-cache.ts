import { createHash } from 'node:crypto';
import { crlCurrentUntil, crlsOf, parseTrust } from '../shared/cms/index.ts';
import {
  CmsError,
  isCmsError,
  type CertificateUse,
  type CertificateValidator,
  type CmsErrorCode,
  type TrustConfig,
} from '../shared/cms/index.ts';
import { createNativeCertificateChecker } from './native-certificate-validator.ts';

/**
 * Directory publishes and updates carry two certificates per practitioner, and the same ones come again (a list
 * published again, a snapshot after updates): the verdict
 * for a certificate (by digest and use) is kept for a while instead of re-validating the path each time. Only
 * acceptances are cached, and never past the certificate's notAfter or the time the trust's CRLs stop being current;
 * a certificate that fails is checked afresh (and explained) every time.
 */
export interface CertificateFailure {
  readonly code: CmsErrorCode;
  readonly message: string;
}

export interface CertificateCache {
  check(der: Uint8Array, use: CertificateUse, at: Date): Promise<CertificateFailure | undefined>;
  /**
   * Checks against this trust from now on (a newer CRL was taken) and forgets every verdict reached before: a
   * certificate the new CRL revokes must not stay accepted until its cached verdict runs out.
   */
  useTrust(trust: TrustConfig): void;
  /**
   * Keeps acceptances reached elsewhere by the same checker (a payload validation worker), only if under this very
   * trust (its key) and only as long as one reached here would be kept.
   */
  accept(accepted: AcceptedCertificates): Promise<void>;
}

const trustKeys = new WeakMap<TrustConfig, string>();
/**
 * Names a trust by its content (anchors, intermediates, CRLs), hashed once per object: the trust objects of the core
 * and the hub stay the same until the trust changes, and a worker's copy of one has the same key.
 */
export function trustKeyOf(trust: TrustConfig): string {
  let key = trustKeys.get(trust);
  if (key === undefined) {
    const hash = createHash('sha256');
    for (const [kind, items] of [
      ['anchor', trust.anchors],
      ['intermediate', trust.intermediates ?? []],
      ['crl', trust.crls ?? []],
    ] as const)
      for (const item of items) hash.update(`${kind}:${item.length}:`).update(item);
    key = hash.digest('base64');
    trustKeys.set(trust, key);
  }
  return key;
}

/** The cache's key of a verdict: the use and the certificate's digest. */
export const certificateKeyOf = (der: Uint8Array, use: CertificateUse): string =>
  `${use}:${createHash('sha256').update(der).digest('base64')}`;

/** Certificates a payload validation worker accepted, under a trust named by its key, at a time (ms). */
export interface AcceptedCertificates {
  readonly trustKey: string;
  readonly at: number;
  readonly certificates: readonly { readonly key: string; readonly notAfter: number }[];
}

/** The earliest time one of the trust's issuers (anchors, intermediates) runs out of a current CRL. */
async function revocationCurrentUntil(trust: TrustConfig): Promise<number> {
  const parsed = parseTrust(trust);
  let until = Infinity;
  for (const { certificate } of [...parsed.anchors, ...parsed.intermediates])
    until = Math.min(until, crlCurrentUntil(await crlsOf(certificate, parsed.crls)) ?? 0);
  return until;
}

export function createCertificateCache(
  initialTrust: TrustConfig,
  options: { ttlMs?: number; maxEntries?: number } = {},
): CertificateCache {
  let trust = initialTrust;
  let validate = createNativeCertificateChecker(trust);
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 500_000;
  const acceptedUntil = new Map<string, number>();
  let sweptAt = 0;
  /** Verdicts run out but stay in the map until swept: at most once per TTL, when a new one is kept. */
  const sweep = (now: number) => {
    if (now - sweptAt < ttlMs) return;
    sweptAt = now;
    for (const [key, until] of acceptedUntil) if (until <= now) acceptedUntil.delete(key);
  };
  let revocationUntil: Promise<number> | undefined;
  const keep = (key: string, expires: number) => {
    sweep(Date.now());
    acceptedUntil.delete(key);
    if (acceptedUntil.size >= maxEntries) acceptedUntil.delete(acceptedUntil.keys().next().value!);
    acceptedUntil.set(key, expires);
  };
  /** Bumped by useTrust: a check that began under the previous trust answers, but leaves no verdict behind. */
  let generation = 0;
  return {
    async check(der, use, at) {
      const startedIn = generation;
      const key = certificateKeyOf(der, use);
      const until = acceptedUntil.get(key);
      if (until !== undefined && until > at.getTime()) return undefined;
      let notAfter: number;
      try {
        // The checker's own parse gives notAfter: a second one cost the hub 5 of 73 s in a 100,000-expert sync.
        notAfter = await validate(der, use, at);
      } catch (error) {
        if (isCmsError(error)) return { code: error.code, message: error.message };
        throw error;
      }
      revocationUntil ??= revocationCurrentUntil(trust).catch(() => 0);
      const expires = Math.min(at.getTime() + ttlMs, notAfter, await revocationUntil);
      if (startedIn === generation) keep(key, expires);
      return undefined;
    },
    async accept(accepted) {
      const startedIn = generation;
      if (accepted.trustKey !== trustKeyOf(trust)) return;
      revocationUntil ??= revocationCurrentUntil(trust).catch(() => 0);
      const revocation = await revocationUntil;
      if (startedIn !== generation) return;
      for (const { key, notAfter } of accepted.certificates)
        keep(key, Math.min(accepted.at + ttlMs, notAfter, revocation));
    },
    useTrust(next) {
      generation += 1;
      trust = next;
      validate = createNativeCertificateChecker(next);
      revocationUntil = undefined;
      acceptedUntil.clear();
    },
  };
}

/**
 * A validator over such a cache, for the workstation's directory sync: its trust follows `trust()`, checked at every
 * validation, and a new trust object (a CRL applied, anchors set) forgets every verdict reached before. At most
 * `maxEntries` verdicts (two per expert: 200,000 covers a region of 100,000, about 30 MB while they last).
 */
export function createCachedCertificateValidator(
  trust: () => TrustConfig,
  maxEntries = 200_000,
): () => CertificateValidator {
  let current = trust();
  const cache = createCertificateCache(current, { maxEntries });
  const validate: CertificateValidator = async (der, use, at) => {
    const latest = trust();
    if (latest !== current) {
      current = latest;
      cache.useTrust(latest);
    }
    const failure = await cache.check(der, use, at);
    if (failure) throw new CmsError(failure.code, failure.message);
  };
  return () => validate;
}
