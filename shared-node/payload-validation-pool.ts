import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TrustConfig } from '../shared/cms/index.ts';
import type { AcceptedCertificates } from './certificate-cache.ts';
import { validatePayload, type PayloadResult } from '../shared/protocol/fhir/index.ts';
import type { AmqpMessageFields, MessageMetadata } from '../shared/protocol/index.ts';

/**
 * Validates the hub's directory publishes ahead of time on worker threads. Base FHIR validation of a 1,000-expert batch
 * takes about half a second of CPU; started when the batch arrives, it runs while the main thread is still storing the
 * batches before it. The receiver still verifies the signature and the signer itself and only takes the payload verdict
 * from here (or validates in line when nothing usable was started for the message), and the certificates a worker
 * accepted, which the hub's certificate cache keeps only under the same trust.
 *
 * What a sender can make the pool hold is bounded: entries are keyed by the message id and the body's digest (a
 * message cannot pick up another's verdict by reusing its id), a verdict is used only for the very content and
 * properties it was reached on, the worker answers a verdict and never the parsed payload (the payload applied is
 * always parsed from the content the processor verified), bodies go to a worker one job at a time per worker, and an
 * entry is freed when its message is done whatever the outcome, when it is older than `maxAgeMs`, or never made when
 * the pool already holds `maxBytes` of bodies.
 */
export interface PayloadValidationPool {
  /** Starts validating a message as it arrives (the caller admits only senders it expects to publish). */
  prefetch(fields: AmqpMessageFields): void;
  /**
   * The verdict for this message: from the worker if one was reached on this body, content and metadata, else here.
   * Certificates the worker accepted go to `accepted` first (e.g. the hub's certificate cache, which keeps them only
   * under the same trust).
   */
  validate(
    body: Uint8Array,
    content: Uint8Array,
    metadata: MessageMetadata,
    accepted?: (certificates: AcceptedCertificates) => Promise<void>,
  ): Promise<PayloadResult>;
  /** Frees what was started for a message that is done, whatever became of it. */
  release(fields: AmqpMessageFields): void;
  /**
   * Workers open envelopes and check certificates under this trust from now on (a newer CRL was taken). A verdict
   * reached under the trust before still counts for the payload, whose signature the receiver verifies itself; the
   * certificates accepted under it are named by that trust's key, which the hub's cache no longer holds.
   */
  useTrust(trust: TrustConfig): void;
  /** Entries held and the body bytes they stand for (waiting, at a worker, or answered and not yet used). */
  held(): { entries: number; bytes: number };
  /** Verdicts taken from a worker and validations done in line so far; the workers running now, and those ready. */
  counts(): { fromWorkers: number; inline: number; workers: number; ready: number };
  close(): Promise<void>;
}

/**
 * What the pool posts to a worker: a message to validate (and the time to check a publish's certificates at, when the
 * pool checks them), or the trust to open envelopes with from now on.
 */
export type WorkerJob =
  { readonly fields: AmqpMessageFields; readonly certificatesAt?: number } | { readonly trust: TrustConfig };

/** The worker's answer: a verdict on one content under one set of properties, never the payload itself. */
export interface WorkerVerdict {
  readonly result: { ok: true } | Extract<PayloadResult, { ok: false }>;
  readonly contentDigest: string;
  readonly metadataKey: string;
  /** The publish's Practitioner certificates the worker accepted, when asked to check them. */
  readonly accepted?: AcceptedCertificates;
}

export interface PoolOptions {
  readonly workers?: number;
  /** Body bytes the pool may stand for at once; a message beyond it is validated in line when processed. */
  readonly maxBytes?: number;
  /** An entry not used within this time is dropped (its message was lost, or processed elsewhere). */
  readonly maxAgeMs?: number;
  /** For tests: the worker's script (payload-validation-worker.ts beside this file). */
  readonly workerScript?: string | URL;
  /**
   * Workers also check the certificates of the Practitioners a directory publish carries, at this time, with the
   * native check's fast path verifying on their own thread, and the verdict brings those they accepted (the hub:
   * the main thread then finds them in its certificate cache instead of parsing and verifying each itself).
   */
  readonly checkCertificatesAt?: () => Date;
  /** The workers' nice value (Linux), 10 unless given: the event loop they work for goes first when cores are short. */
  readonly niceness?: number;
  /** A worker failed (its script missing, say): what it held is validated in line, and no worker starts again. */
  readonly onWorkerError?: (error: Error) => void;
}

/** What a worker posts: that it is ready (its FHIR definitions loaded), then a verdict (or nothing) per job. */
export type WorkerAnswer = 'ready' | WorkerVerdict | undefined;

const DEFAULT_MAX_BYTES = 128 * 1024 * 1024;
const DEFAULT_MAX_AGE_MS = 120_000;

export const digestOf = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** What a verdict depends on besides the content: the metadata the payload is cross-checked against. */
export function metadataKeyOf(metadata: MessageMetadata): string {
  return JSON.stringify([
    metadata.messageId,
    metadata.creationTime.getTime(),
    metadata.correlationId ?? null,
    metadata.contentType,
    metadata.properties,
  ]);
}

interface Entry {
  readonly key: string;
  /** Held only until a worker takes it (the worker gets a copy). */
  fields?: AmqpMessageFields;
  readonly bytes: number;
  readonly at: number;
  /** Undefined while waiting for a worker; then the worker's answer (undefined: it failed before the payload). */
  verdict?: Promise<WorkerVerdict | undefined>;
  resolve?: (verdict: WorkerVerdict | undefined) => void;
}

/**
 * Where a publish waits for its verdict: its id, sender and size, not a digest of its body. A verdict is used only for
 * the content it was reached on (its digest, compared at `validate`) under the same metadata, so two bodies that
 * share a key cost a validation in line, never a verdict crossing over. A key by the body's SHA-256 hashed each 2 MB
 * publish three more times on the hub's main thread (276 ms at 20,000 experts with the content's own).
 */
const keyOf = (messageId: unknown, sender: unknown, body: Uint8Array): string =>
  JSON.stringify([String(messageId), String(sender), body.byteLength]);
const senderOf = (fields: AmqpMessageFields): unknown =>
  (fields.application_properties as Record<string, unknown> | undefined)?.rtsSender;

export function createPayloadValidationPool(
  initialTrust: TrustConfig,
  options: PoolOptions = {},
): PayloadValidationPool {
  const size = options.workers ?? Math.max(1, Math.min(4, availableParallelism()));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const script = options.workerScript ?? new URL('./payload-validation-worker.ts', import.meta.url);
  let trust = initialTrust;
  let workers: Worker[] = [];
  /** Workers that have loaded the FHIR definitions; only they are given jobs (before that, validation in line is faster). */
  const ready = new Set<Worker>();
  let failed = false;
  const entries = new Map<string, Entry>();
  /** Entries not yet given to a worker, in arrival order (the order they will be processed in). */
  const waiting: Entry[] = [];
  const busy = new Map<Worker, Entry>();
  let bytes = 0;
  const counts = { fromWorkers: 0, inline: 0 };

  /** Takes an entry out of the pool; its worker, if it has one, still answers into `verdict`. */
  const take = (entry: Entry) => {
    if (entries.get(entry.key) !== entry) return;
    entries.delete(entry.key);
    bytes -= entry.bytes;
    entry.fields = undefined;
    const at = waiting.indexOf(entry);
    if (at >= 0) waiting.splice(at, 1);
  };
  /** Takes it out for good: nobody will ask for its verdict. */
  const drop = (entry: Entry) => {
    take(entry);
    entry.resolve?.(undefined);
  };

  const dispatch = () => {
    for (const worker of ready) {
      if (busy.has(worker)) continue;
      const entry = waiting.shift();
      if (!entry) break;
      busy.set(worker, entry);
      entry.verdict = new Promise((resolve) => {
        entry.resolve = resolve;
      });
      // An entry waits with its fields; `take` clears them only as it leaves the queue.
      const at = options.checkCertificatesAt?.().getTime();
      try {
        worker.postMessage({
          fields: entry.fields!,
          ...(at !== undefined && { certificatesAt: at }),
        } satisfies WorkerJob);
      } catch {
        // Fields that cannot be copied to a thread (never what the broker hands over): validated in line.
        busy.delete(worker);
        entry.resolve!(undefined);
      }
      entry.fields = undefined;
    }
  };

  const stopWorkers = async () => {
    const stopping = workers;
    workers = [];
    ready.clear();
    for (const worker of stopping) answered(worker, undefined);
    await Promise.all(stopping.map((w) => w.terminate()));
  };

  const answered = (worker: Worker, verdict: WorkerVerdict | undefined) => {
    const entry = busy.get(worker);
    busy.delete(worker);
    entry?.resolve?.(verdict);
    dispatch();
  };

  /** Said once: the workers that fail with it are gone, and none starts again. */
  const fail = (error: Error) => {
    if (!failed) options.onWorkerError?.(error);
    failed = true;
  };

  try {
    workers = Array.from(
      { length: size },
      () => new Worker(script, { workerData: { trust, niceness: options.niceness ?? 10 } }),
    );
  } catch (error) {
    fail(error instanceof Error ? error : new Error(String(error)));
  }
  for (const worker of workers) {
    worker.on('message', (answer: WorkerAnswer) => {
      if (answer === 'ready') {
        ready.add(worker);
        dispatch();
      } else answered(worker, answer);
    });
    // A failed worker is gone: its job falls back to validation in line.
    worker.on('error', (error) => {
      workers = workers.filter((w) => w !== worker);
      ready.delete(worker);
      answered(worker, undefined);
      fail(error);
    });
    worker.unref();
  }

  const expire = () => {
    const oldest = Date.now() - maxAgeMs;
    for (const entry of [...entries.values()]) if (entry.at < oldest) drop(entry);
  };
  const sweep = setInterval(expire, Math.max(1000, Math.floor(maxAgeMs / 4)));
  sweep.unref();

  return {
    prefetch(fields) {
      const body = fields.body;
      if (!(body instanceof Uint8Array) || typeof fields.message_id !== 'string') return;
      expire();
      if (bytes + body.byteLength > maxBytes) return;
      const key = keyOf(fields.message_id, senderOf(fields), body);
      if (entries.has(key)) return;
      const entry: Entry = { key, fields, bytes: body.byteLength, at: Date.now() };
      entries.set(key, entry);
      bytes += entry.bytes;
      waiting.push(entry);
      dispatch();
    },
    async validate(body, content, metadata, accepted) {
      const entry = entries.get(keyOf(metadata.messageId, metadata.properties.rtsSender, body));
      if (entry) {
        // Still waiting for a worker: validated here rather than waited for.
        const pending = entry.verdict;
        take(entry);
        const verdict = await pending;
        if (verdict && verdict.contentDigest === digestOf(content) && verdict.metadataKey === metadataKeyOf(metadata)) {
          counts.fromWorkers++;
          if (!verdict.result.ok) return { ok: false, error: verdict.result.error };
          if (verdict.accepted && accepted) await accepted(verdict.accepted);
          // Only base validation is skipped: the payload is parsed from the content verified here.
          return {
            ok: true,
            value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content)) as Record<string, unknown>,
          };
        }
      }
      counts.inline++;
      return validatePayload(content, metadata);
    },
    release(fields) {
      if (!(fields.body instanceof Uint8Array) || entries.size === 0) return;
      const entry = entries.get(keyOf(fields.message_id, senderOf(fields), fields.body));
      if (entry) drop(entry);
    },
    useTrust(next) {
      trust = next;
      for (const worker of workers) worker.postMessage({ trust: next } satisfies WorkerJob);
    },
    held: () => ({ entries: entries.size, bytes }),
    counts: () => ({ ...counts, workers: workers.length, ready: ready.size }),
    async close() {
      clearInterval(sweep);
      for (const entry of [...entries.values()]) drop(entry);
      await stopWorkers();
    },
  };
}
