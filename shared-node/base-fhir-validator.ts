import { Worker } from 'node:worker_threads';
import { validateFhirResource, type FhirIssue } from '../shared/protocol/fhir/index.ts';

/**
 * Base FHIR R4 validation of the payloads an endpoint opens (consults, reports, receipts), on a worker thread, so that
 * the event loop carrying the rest of the path (the UI's requests, the broker, the stores) is not held for it: it took
 * 2.5 ms of the main thread per 1 KiB consult in P2, a tenth of the event loop. The worker runs the very validation the
 * main thread would (`validateFhirResource` on the same resource), so a verdict is the same wherever it was reached.
 *
 * The worker starts with the first payload and stops after `idleMs` without one, so an endpoint keeps no idle thread's
 * memory. Until it has loaded its definitions, and for good after it failed, payloads are validated in line.
 */
export interface BaseFhirValidator {
  /** `validateFhirResource(resource)`, reached on the worker when one is ready, else here. */
  validate(resource: unknown): Promise<FhirIssue[]>;
  /** Verdicts reached on the worker and in line so far; whether a worker is running now. */
  counts(): { onWorker: number; inline: number; running: boolean };
  /** Stops the worker; what it had not answered is validated in line. Later payloads are validated in line. */
  close(): Promise<void>;
}

export interface BaseFhirValidatorOptions {
  /** The worker's script where the code is bundled (Electron: dist/main/base-fhir-worker.cjs); none: the source. */
  readonly workerScript?: string | URL;
  /** The worker stops after this long without a payload (30 s unless given). */
  readonly idleMs?: number;
  /** The worker's nice value (Linux), 10 unless given: the event loop it works for goes first when cores are short. */
  readonly niceness?: number;
  /** The worker failed (its script missing, say): payloads are validated in line from then on. Said once. */
  readonly onWorkerError?: (error: Error) => void;
}

/** What the validator posts to its worker, and what the worker answers: 'ready', then one answer per job. */
export type BaseFhirJob = { readonly id: number; readonly resource: unknown };
export type BaseFhirAnswer = 'ready' | { readonly id: number; readonly issues?: FhirIssue[] };

const DEFAULT_IDLE_MS = 30_000;

interface Job {
  readonly resource: unknown;
  readonly resolve: (issues: FhirIssue[]) => void;
  readonly reject: (error: unknown) => void;
}

export function createBaseFhirValidator(options: BaseFhirValidatorOptions = {}): BaseFhirValidator {
  const script = options.workerScript ?? new URL('./base-fhir-worker.ts', import.meta.url);
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const counts = { onWorker: 0, inline: 0 };
  let worker: Worker | undefined;
  let ready = false;
  let failed = false;
  let closed = false;
  let nextId = 0;
  /** Jobs posted and not yet answered, by id: each holds its resource until then, to validate it here if need be. */
  const pending = new Map<number, Job>();
  let idle: ReturnType<typeof setTimeout> | undefined;

  const inline = (resource: unknown) => {
    counts.inline++;
    return validateFhirResource(resource);
  };
  const settleInline = (job: Job) => {
    try {
      job.resolve(inline(job.resource));
    } catch (error) {
      job.reject(error);
    }
  };
  /** The worker is gone: what it held is validated here, in the order it was posted. */
  const takeBack = () => {
    const held = [...pending.values()];
    pending.clear();
    held.forEach(settleInline);
  };
  const stop = async () => {
    const stopping = worker;
    worker = undefined;
    ready = false;
    clearTimeout(idle);
    takeBack();
    await stopping?.terminate();
  };
  const restartIdleTimer = () => {
    clearTimeout(idle);
    idle = setTimeout(() => void stop(), idleMs);
    idle.unref();
  };
  const fail = (error: Error) => {
    if (!failed) options.onWorkerError?.(error);
    failed = true;
    void stop();
  };

  const start = () => {
    try {
      const started = new Worker(script, { workerData: { niceness: options.niceness ?? 10 } });
      worker = started;
      started.on('message', (answer: BaseFhirAnswer) => {
        if (worker !== started) return;
        if (answer === 'ready') {
          ready = true;
          return;
        }
        const job = pending.get(answer.id);
        if (!job) return;
        pending.delete(answer.id);
        // No issues in the answer: the validator threw there; here it throws (or answers) as it would have in line.
        if (answer.issues) {
          counts.onWorker++;
          job.resolve(answer.issues);
        } else settleInline(job);
      });
      started.on('error', (error) => {
        if (worker === started) fail(error);
      });
      started.on('exit', (code) => {
        if (worker === started) fail(new Error(`the base FHIR validation worker exited (code ${code})`));
      });
      started.unref();
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  };

  return {
    async validate(resource) {
      if (closed || failed) return inline(resource);
      restartIdleTimer();
      if (!worker) start();
      if (!worker || !ready) return inline(resource);
      const id = nextId++;
      return new Promise<FhirIssue[]>((resolve, reject) => {
        const job: Job = { resource, resolve, reject };
        pending.set(id, job);
        try {
          worker!.postMessage({ id, resource } satisfies BaseFhirJob);
        } catch {
          // A resource that cannot be copied to a thread (never what JSON.parse makes): validated here.
          pending.delete(id);
          settleInline(job);
        }
      });
    },
    counts: () => ({ ...counts, running: worker !== undefined }),
    async close() {
      closed = true;
      await stop();
    },
  };
}
