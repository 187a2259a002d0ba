import { errorCodeOf, NO_LOGGER, type Logger } from '../shared/index.ts';
import type { BrokerConnection } from './broker-connection.ts';
import { LINK_MAX_MESSAGE_BYTES, type Arrival } from './inbox-entries.ts';
import { openInboxLink } from './inbox-link.ts';

/**
 * A consumer of one queue that hands deliveries over a batch at a time: on the inbox's link (inbox-link.ts: bounded
 * credit, liveness re-attach, late transfers ignored after stop), deliveries are taken unsettled and queued in arrival
 * order; `handle` gets whatever arrived while the last batch was handled, one batch at a time, and settles each
 * delivery itself (after its transaction commits). A batch that throws is logged and its unsettled deliveries are left
 * to the handler's own policy: the consumer goes on with the next.
 */
export interface BatchConsumerOptions {
  readonly connection: BrokerConnection;
  readonly address: string;
  /** Logical name for the log, e.g. "uplink". */
  readonly sourceName: string;
  /** Deliveries the broker may push ahead of processing. */
  readonly credit: number;
  /** The link's max_message_size (default LINK_MAX_MESSAGE_BYTES). */
  readonly maxMessageBytes?: number;
  readonly livenessIntervalMs?: number;
  readonly handle: (batch: Arrival[]) => Promise<void>;
  /** Told of each delivery as it arrives, before it waits its turn (e.g. to start validating it ahead). */
  readonly onArrival?: (arrival: Arrival) => void;
  readonly logger?: Logger;
}

export interface BatchConsumer {
  /** True while the link is attached. */
  readonly attached: boolean;
  /** No more arrivals (what arrives later is left unsettled for redelivery); resolves once the batch in hand is done. */
  stop(): Promise<void>;
}

export function createBatchConsumer(options: BatchConsumerOptions): BatchConsumer {
  const { handle, onArrival } = options;
  const logger = options.logger ?? NO_LOGGER;
  const arrived: Arrival[] = [];
  let draining: Promise<void> = Promise.resolve();
  let busy = false;
  let stopped = false;

  async function drain(): Promise<void> {
    while (arrived.length > 0 && !stopped) {
      const batch = arrived.splice(0, arrived.length);
      try {
        await handle(batch);
      } catch (error) {
        logger.warn('consumer.batch-failed', {
          source: options.sourceName,
          messages: batch.length,
          error: errorCodeOf(error),
        });
      }
    }
  }

  const link = openInboxLink({
    connection: options.connection,
    address: options.address,
    sourceName: options.sourceName,
    credit: options.credit,
    maxMessageBytes: options.maxMessageBytes ?? LINK_MAX_MESSAGE_BYTES,
    livenessIntervalMs: options.livenessIntervalMs ?? 5_000,
    logger,
    onArrival: (arrival) => {
      arrived.push(arrival);
      onArrival?.(arrival);
      if (busy) return;
      busy = true;
      draining = drain().finally(() => {
        busy = false;
      });
    },
  });

  return {
    get attached() {
      return link.attached;
    },
    async stop() {
      stopped = true;
      link.stop();
      // Queued and not handed over: left unsettled, so the broker delivers them again once the link is closed.
      arrived.length = 0;
      await draining;
      link.close();
    },
  };
}
