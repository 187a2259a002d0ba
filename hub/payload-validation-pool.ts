import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TrustConfig } from '../shared/cms/index.ts';
import type { PayloadResult } from '../shared/protocol/fhir/payload-validator.ts';
import type { AmqpMessageFields, MessageMetadata } from '../shared/protocol/message-codec.ts';
import { validatePayload } from '../shared/protocol/fhir/payload-validator.ts';

/**
 * Validates directory publishes ahead of time on worker threads. Base FHIR validation of a 1,000-expert batch takes
 * about half a second of CPU; started when the batch arrives, it runs while the main thread is still storing the
 * batches before it. The processor still verifies the signature and the signer itself and only takes the payload
 * verdict from here (or validates in line when nothing was started for the message).
 */
export interface PayloadValidationPool {
  /** Starts validating a message as it arrives. */
  prefetch(messageId: string, fields: AmqpMessageFields): void;
  /** The verdict for this message: from the worker if prefetched, computed here otherwise. */
  validate(content: Uint8Array, metadata: MessageMetadata): Promise<PayloadResult>;
  close(): Promise<void>;
}

interface Job { readonly resolve: (result: PayloadResult | undefined) => void }

export function createPayloadValidationPool(trust: TrustConfig, size = Math.max(1, Math.min(4, availableParallelism()))): PayloadValidationPool {
  const workers = Array.from({ length: size }, () => new Worker(new URL('./payload-validation-worker.ts', import.meta.url), { workerData: { trust } }));
  const jobs = new Map<number, Job>();
  const verdicts = new Map<string, Promise<PayloadResult | undefined>>();
  let next = 0;
  for (const worker of workers) {
    worker.on('message', ({ job, result }: { job: number; result: PayloadResult | undefined }) => {
      jobs.get(job)?.resolve(result);
      jobs.delete(job);
    });
    // A failed worker answers nothing: its jobs fall back to validation in line.
    worker.on('error', () => {
      for (const [id, pending] of jobs) {
        pending.resolve(undefined);
        jobs.delete(id);
      }
    });
    worker.unref();
  }
  return {
    prefetch(messageId, fields) {
      if (verdicts.has(messageId) || verdicts.size > 10_000) return;
      const job = next++;
      verdicts.set(messageId, new Promise((resolve) => jobs.set(job, { resolve })));
      workers[job % workers.length]!.postMessage({ job, fields });
    },
    async validate(content, metadata) {
      const prefetched = verdicts.get(metadata.messageId);
      verdicts.delete(metadata.messageId);
      return (await prefetched) ?? validatePayload(content, metadata);
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
