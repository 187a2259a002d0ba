import { isCmsError, type CertificateValidator, type TrustConfig } from '../../../shared/cms/index.ts';
import { toDisposable, type Disposable, type Logger } from '../../../shared/index.ts';
import { trustKeyOf } from '../../../shared-node/index.ts';
import type { CertificateVerdict, DirectoryMirror, ListedCertificates } from './directory-mirror.ts';

/**
 * Every live expert's certificates checked against the region's CA and CRL in the background, so that the directory
 * shows whom a consult can go to (docs/protocol.md §5.1, "Trust in an entry's certificates"). Arrival checks only what is cheap and decisive for
 * the entry itself — the binding and the role (directory-sync.ts); trust is decided where it is used: a consult is
 * encrypted only to certificates checked then (consult-service.ts), a signature accepted only from a certificate
 * checked then (shared/protocol/message-envelope.ts). This check yields to the directory: it starts once no change has
 * come for `quietMs`, stops for the next change, and forgets every verdict when the trust (anchors or CRLs) changes.
 */
export interface CertificateChecks extends Disposable {
  /** The directory or the trust changed: check what has no verdict once the directory has been quiet for a while. */
  schedule(): void;
  /**
   * Checks until every live expert has a verdict, without waiting for a quiet directory; resolves with how many were
   * recorded. Stops early, with what it recorded, when the trust has no current CRL (nothing can be judged then).
   */
  checkAll(): Promise<number>;
  /** When verdicts were last recorded (ms since the epoch): the directory's marks changed then. */
  checkedAt(): number | undefined;
}

export interface CertificateChecksOptions {
  readonly mirror: DirectoryMirror;
  readonly trust: () => TrustConfig;
  readonly validator: () => CertificateValidator;
  /** Verdicts were recorded (at most once a second while a run goes on, and at its end). */
  readonly onDidCheck: () => void;
  readonly logger: Logger;
  readonly quietMs?: number;
  readonly batchSize?: number;
  readonly now?: () => Date;
}

/**
 * 64 experts (128 certificates) per transaction: each batch parses its certificates on the main thread (about 0.1 ms
 * each), so a command or a keystroke waits at most some 15 ms behind one.
 */
const BATCH = 64;
/** P1's full list arrives as about one update a second: the check waits for its end rather than slow it. */
const QUIET_MS = 2_000;
const TOLD_EVERY_MS = 1_000;

/** Without a current CRL nothing can be judged: the run stops until the trust changes. */
class NoCurrentCrl extends Error {}

export function createCertificateChecks(options: CertificateChecksOptions): CertificateChecks {
  const { mirror, logger } = options;
  const quietMs = options.quietMs ?? QUIET_MS;
  const batchSize = options.batchSize ?? BATCH;
  const now = options.now ?? (() => new Date());
  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastChange = 0;
  let checkedAt: number | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  /** One run at a time: the timer's and checkAll's. */
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const next = queue.then(task);
    queue = next.catch(() => undefined);
    return next;
  };

  async function verdictOf(listed: ListedCertificates, validate: CertificateValidator, at: Date) {
    if (listed.signing.length === 0 || listed.encryption.length === 0)
      return { ...listed, problem: 'needs a signing and an encryption certificate' };
    const problemOf = async (use: 'signing' | 'encryption', base64: string) => {
      try {
        await validate(new Uint8Array(Buffer.from(base64, 'base64')), use, at);
        return undefined;
      } catch (error) {
        if (!isCmsError(error)) throw error;
        if (error.code === 'cms-crl-missing' || error.code === 'cms-crl-expired') throw new NoCurrentCrl();
        return `${use} certificate: ${error.message}`;
      }
    };
    const problems = await Promise.all([
      ...listed.signing.map((c) => problemOf('signing', c)),
      ...listed.encryption.map((c) => problemOf('encryption', c)),
    ]);
    return { ...listed, problem: problems.find((p) => p !== undefined) };
  }

  /** Checks one batch: the number of verdicts kept, or undefined when nothing is left (or nothing can be judged). */
  async function checkBatch(): Promise<number | undefined> {
    const trust = options.trust();
    if (trust.anchors.length === 0) return undefined;
    const key = trustKeyOf(trust);
    const listed = mirror.uncheckedCertificates(key, batchSize);
    if (listed.length === 0) return undefined;
    const validate = options.validator();
    const at = now();
    let verdicts: CertificateVerdict[];
    try {
      verdicts = await Promise.all(listed.map((l) => verdictOf(l, validate, at)));
    } catch (error) {
      if (error instanceof NoCurrentCrl) return undefined;
      throw error;
    }
    // Stopped meanwhile: the store may be closed.
    if (disposed) return undefined;
    return mirror.recordCertificateChecks(key, verdicts);
  }

  async function run(yieldToDirectory: boolean): Promise<number> {
    let recorded = 0;
    let toldAt = Date.now();
    try {
      while (!disposed) {
        if (yieldToDirectory && Date.now() - lastChange < quietMs) {
          arm();
          break;
        }
        const kept = await checkBatch();
        // None kept: the directory or the trust changed under the batch, and that change schedules the next run.
        if (kept === undefined || kept === 0) break;
        recorded += kept;
        checkedAt = Date.now();
        if (Date.now() - toldAt >= TOLD_EVERY_MS) {
          toldAt = Date.now();
          options.onDidCheck();
        }
        // Lets messages and commands in between batches.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (error) {
      logger.error('directory.certificate-check-failed', { error: error instanceof Error ? error.name : 'unknown' });
    }
    if (recorded > 0 && !disposed) options.onDidCheck();
    return recorded;
  }

  function arm(): void {
    if (disposed || timer !== undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        if (Date.now() - lastChange < quietMs) arm();
        else void exclusive(() => run(true));
      },
      Math.max(quietMs - (Date.now() - lastChange), 0),
    );
    timer.unref?.();
  }

  const stop = toDisposable(() => {
    disposed = true;
    clearTimeout(timer);
    timer = undefined;
  });
  return {
    schedule() {
      lastChange = Date.now();
      arm();
    },
    checkAll: () => exclusive(() => run(false)),
    checkedAt: () => checkedAt,
    dispose: () => stop.dispose(),
  };
}
