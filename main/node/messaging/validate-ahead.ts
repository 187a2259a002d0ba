import type { Message } from 'rhea';
import type { TrustConfig } from '../../../shared/cms/index.ts';
import type { Logger } from '../../../shared/index.ts';
import { createPayloadValidationPool, type PayloadValidationPool } from '../../../shared-node/index.ts';
import { bodyBytes } from '../../../transport/index.ts';

/**
 * Directory messages at least this large are validated on a worker while the receiver handles the ones before them:
 * base FHIR validation of a 1,000-expert update (2 MB) takes about a tenth of a second of the main thread, which
 * answers the UI meanwhile. A smaller one validates in line in a few milliseconds, less than a worker's start.
 */
export const VALIDATE_AHEAD_MIN_BYTES = 64 * 1024;
/** The worker stops after this long without a large directory message: an endpoint keeps no idle thread's memory. */
const WORKER_IDLE_MS = 30_000;

export interface ValidationAhead {
  /** For the downlink handler: the verdicts reached ahead, else validation in line. */
  readonly validations: PayloadValidationPool;
  /** For the inbox receiver: starts a large directory message on the worker as it arrives. */
  readonly onArrival: (message: Message) => void;
}

/**
 * An endpoint's validation of the directory's large messages on one worker thread, under the trust the downlink
 * handler opens them with (`trust` returns one object until the trust changes, as identity-context.ts does).
 */
export function createValidationAhead(options: {
  readonly trust: () => TrustConfig;
  /** The worker's bundled script (Electron); none: shared-node's source. */
  readonly workerScript?: string;
  readonly logger: Logger;
  /** For tests: the pool to use instead of a new one. */
  readonly pool?: PayloadValidationPool;
}): ValidationAhead {
  let told = options.trust();
  const validations =
    options.pool ??
    createPayloadValidationPool(told, {
      workers: 1,
      idleMs: WORKER_IDLE_MS,
      ...(options.workerScript && { workerScript: options.workerScript }),
      onWorkerError: (error) => options.logger.warn('core.validation-worker-failed', { error: error.name }),
    });
  return {
    validations,
    onArrival(message) {
      const type = (message.application_properties as Record<string, unknown> | undefined)?.rtsType;
      if (type !== 'directory.update' && type !== 'directory.snapshot') return;
      const body = bodyBytes(message.body);
      if (!(body instanceof Uint8Array) || body.byteLength < VALIDATE_AHEAD_MIN_BYTES) return;
      const current = options.trust();
      if (current !== told) validations.useTrust((told = current));
      validations.prefetch({ ...message, body });
    },
  };
}
