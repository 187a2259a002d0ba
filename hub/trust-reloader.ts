import { readFileSync } from 'node:fs';
import { CRL_GRACE_MS } from '../shared/cms/index.ts';
import type { TrustConfig } from '../shared/cms/index.ts';
import {
  isPkiError,
  PEM_LABELS,
  pemToDerAll,
  isNewerCrl,
  readCrl,
  verifyCrl,
  type CrlInfo,
} from '../shared/pki/index.ts';

/**
 * The hub's CRLs while it runs (docs/operations.md, "Revocation"): the files of `trust.crlFiles` are read again on a
 * timer and on the operator's request, and a CRL is taken only if it verifies against one of the hub's trust anchors
 * and is newer than the one in use for that anchor (a higher crlNumber; with equal or no numbers, a later
 * thisUpdate). A file that is unreadable, signed by anyone else or older is reported and changes nothing. Each reload
 * also weighs the newest CRLs the region already distributed (`crl_distributions`, any instance's): a restart on an
 * older file, or an instance whose file is not yet replaced, never goes back behind what endpoints were sent. The
 * trust in use holds the anchors and the newest CRL of each; it is a new object whenever a CRL is taken, so that
 * every cache keyed by the trust object (parsed trust, CRL verdicts) starts afresh.
 */
export type CrlState = 'current' | 'expiring' | 'stale';

/** One anchor's CRL in use, JSON-safe for the operator API. */
export interface CrlInUse {
  readonly issuer: string;
  readonly crlNumber: number | null;
  readonly thisUpdate: string;
  readonly nextUpdate: string | null;
  readonly revoked: number;
  readonly state: CrlState;
}

export interface ReloadReport {
  readonly at: string;
  /** CRLs this reload took (each newer than the one it replaces). */
  readonly taken: readonly {
    readonly file: string;
    readonly issuer: string;
    readonly crlNumber: number | null;
    readonly thisUpdate: string;
  }[];
  /** What it did not take, and why: one line each, naming the file. */
  readonly refused: readonly { readonly file: string; readonly detail: string }[];
}

export interface TrustStatus {
  /** The worst state among the CRLs in use. */
  readonly state: CrlState;
  readonly crls: readonly CrlInUse[];
  readonly lastReload?: ReloadReport;
}

export interface TrustReloader {
  /** Anchors and the CRL in use of each. */
  current(): TrustConfig;
  /**
   * Reads the CRL files again and weighs them with `distributed` (the newest CRLs the region already sent, whose
   * source the report names {@link DISTRIBUTED_SOURCE}); `taken` holds the DER of each CRL now in use that was not before.
   */
  reload(
    now: Date,
    distributed?: readonly Uint8Array[],
  ): Promise<{ report: ReloadReport; taken: readonly Uint8Array[] }>;
  status(now: Date): TrustStatus;
  /** CRLs whose state differs from the last time this was asked (all of them the first time): for a log line each. */
  stateChanges(now: Date): CrlInUse[];
}

export interface TrustReloaderOptions {
  /** The trust the hub started with (loadHubIdentity checked that every anchor has a current CRL). */
  readonly initial: TrustConfig;
  /** Resolved paths of `trust.crlFiles`. */
  readonly crlFiles: readonly string[];
  /** A CRL is `expiring` from this long before its nextUpdate. */
  readonly warningMs: number;
}

export const DEFAULT_CRL_RELOAD_SECONDS = 60;
export const DEFAULT_CRL_WARNING_HOURS = 72;
/** Where a reload report says a CRL came from when it came from the region's distributions rather than a file. */
export const DISTRIBUTED_SOURCE = 'the CRLs the region already distributed';

interface Held {
  readonly der: Uint8Array;
  readonly info: CrlInfo;
  readonly source: string;
}

/** Newer: a higher CRL number; with equal numbers (or none), a later thisUpdate. */
function stateOf(info: CrlInfo, now: Date, warningMs: number): CrlState {
  const nextUpdate = info.nextUpdate?.getTime();
  // The same limit the verifier applies (shared/cms/chain.ts): past it, every signed message waits.
  if (nextUpdate === undefined || nextUpdate + CRL_GRACE_MS < now.getTime()) return 'stale';
  return nextUpdate - warningMs <= now.getTime() ? 'expiring' : 'current';
}

const describeNumber = (info: CrlInfo) =>
  info.crlNumber === undefined
    ? `issued ${info.thisUpdate.toISOString()}`
    : `number ${info.crlNumber}, issued ${info.thisUpdate.toISOString()}`;
const describeHeld = (held: Held) =>
  `${describeNumber(held.info)}${held.source === DISTRIBUTED_SOURCE ? ', already distributed in the region' : ''}`;
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);
const RANK: Readonly<Record<CrlState, number>> = { current: 0, expiring: 1, stale: 2 };

/** The CA among `anchors` that issued and signed this CRL, or undefined. */
async function anchorOf(
  der: Uint8Array,
  anchors: readonly Uint8Array[],
): Promise<{ index: number; info: CrlInfo } | undefined> {
  for (const [index, anchor] of anchors.entries()) {
    try {
      return { index, info: await verifyCrl(der, anchor) };
    } catch (error) {
      if (!isPkiError(error)) throw error;
    }
  }
  return undefined;
}

/**
 * Of `crls`, the newest verifying CRL of each of `anchors` (CRLs that no anchor signed are left out), e.g. the CRLs in
 * use together with those the region distributed: what a registering endpoint is sent.
 */
export async function newestCrlPerAnchor(
  anchors: readonly Uint8Array[],
  crls: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  const newest: ({ der: Uint8Array; info: CrlInfo } | undefined)[] = anchors.map(() => undefined);
  for (const der of crls) {
    const found = await anchorOf(der, anchors);
    const current = found && newest[found.index];
    if (found && (!current || isNewerCrl(found.info, current.info))) newest[found.index] = { der, info: found.info };
  }
  return newest.flatMap((n) => (n ? [n.der] : []));
}

export async function createTrustReloader(options: TrustReloaderOptions): Promise<TrustReloader> {
  const anchors = options.initial.anchors;
  // The newest verifying CRL of each anchor among those the hub started with.
  const held: (Held | undefined)[] = anchors.map(() => undefined);
  for (const der of options.initial.crls ?? []) {
    const found = await anchorOf(der, anchors);
    const current = found && held[found.index];
    if (found && (!current || isNewerCrl(found.info, current.info)))
      held[found.index] = { der, info: found.info, source: 'the configuration' };
  }
  const build = (): TrustConfig => ({ anchors, crls: held.flatMap((h) => (h ? [h.der] : [])) });
  let trust = build();
  let lastReload: ReloadReport | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const reported = new Map<string, CrlState>();

  const inUse = (now: Date): CrlInUse[] =>
    held.flatMap((h) =>
      h
        ? [
            {
              issuer: h.info.issuer,
              crlNumber: h.info.crlNumber ?? null,
              thisUpdate: h.info.thisUpdate.toISOString(),
              nextUpdate: h.info.nextUpdate?.toISOString() ?? null,
              revoked: h.info.revoked.length,
              state: stateOf(h.info, now, options.warningMs),
            },
          ]
        : [],
    );

  async function reloadNow(
    now: Date,
    distributed: readonly Uint8Array[],
  ): Promise<{ report: ReloadReport; taken: readonly Uint8Array[] }> {
    const refused: { file: string; detail: string }[] = [];
    const read: (Held & { index: number })[] = [];
    for (const file of options.crlFiles) {
      let ders: Uint8Array[];
      try {
        ders = pemToDerAll(readFileSync(file, 'utf8'), PEM_LABELS.crl);
        if (ders.length === 0) throw new Error('no PEM CRL in it');
      } catch (error) {
        refused.push({ file, detail: `unreadable: ${(error as Error).message}` });
        continue;
      }
      for (const der of ders) {
        let found: Awaited<ReturnType<typeof anchorOf>>;
        try {
          readCrl(der);
          found = await anchorOf(der, anchors);
        } catch (error) {
          refused.push({ file, detail: `not a readable CRL: ${(error as Error).message}` });
          continue;
        }
        if (!found) {
          refused.push({
            file,
            detail: `a CRL of ${readCrl(der).issuer} that none of this hub's trust anchors signed`,
          });
          continue;
        }
        read.push({ der, info: found.info, source: file, index: found.index });
      }
    }
    // The region's own record is no operator's file: one that does not verify (another CA's) is simply not weighed.
    for (const der of distributed) {
      const found = await anchorOf(der, anchors).catch(() => undefined);
      if (found) read.push({ der, info: found.info, source: DISTRIBUTED_SOURCE, index: found.index });
    }
    // Per anchor, the newest of the CRL in use and all read: a file may only move it forward.
    const newest = [...held];
    for (const candidate of read) {
      const current = newest[candidate.index];
      if (!current || isNewerCrl(candidate.info, current.info)) newest[candidate.index] = candidate;
    }
    for (const candidate of read) {
      const chosen = newest[candidate.index]!;
      if (candidate.source === DISTRIBUTED_SOURCE || sameBytes(chosen.der, candidate.der)) continue;
      refused.push({
        file: candidate.source,
        detail: `older than the CRL in use (${describeNumber(candidate.info)}; in use: ${describeHeld(chosen)})`,
      });
    }
    const taken: ReloadReport['taken'][number][] = [];
    const takenDer: Uint8Array[] = [];
    for (const [index, chosen] of newest.entries()) {
      if (!chosen || chosen === held[index]) continue;
      held[index] = { der: chosen.der, info: chosen.info, source: chosen.source };
      taken.push({
        file: chosen.source,
        issuer: chosen.info.issuer,
        crlNumber: chosen.info.crlNumber ?? null,
        thisUpdate: chosen.info.thisUpdate.toISOString(),
      });
      takenDer.push(chosen.der);
    }
    if (taken.length > 0) trust = build();
    lastReload = { at: now.toISOString(), taken, refused };
    return { report: lastReload, taken: takenDer };
  }

  return {
    current: () => trust,
    reload(now, distributed = []) {
      // One reload at a time: the timer and the operator may ask together.
      const next = running.then(() => reloadNow(now, distributed));
      running = next.catch(() => undefined);
      return next;
    },
    status(now) {
      const crls = inUse(now);
      const state = crls.reduce<CrlState>((worst, c) => (RANK[c.state] > RANK[worst] ? c.state : worst), 'current');
      return { state, crls, ...(lastReload && { lastReload }) };
    },
    stateChanges(now) {
      const changed = inUse(now).filter((c) => reported.get(c.issuer) !== c.state);
      for (const c of changed) reported.set(c.issuer, c.state);
      return changed;
    },
  };
}
