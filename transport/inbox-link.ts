import type { EventContext, Receiver } from 'rhea';
import { errorCodeOf, type Logger } from '../shared/index.ts';
import type { BrokerConnection } from './broker-connection.ts';
import type { Arrival } from './inbox-entries.ts';

// The inbox receiver's link (inbox-receiver.ts): attached with bounded credit whenever the connection opens, and
// re-attached by a liveness check, because a receiver can silently stop after a broker restart. Settling stays with
// the receiver: this only hands over what arrives.

export interface InboxLinkOptions {
  readonly connection: BrokerConnection;
  readonly address: string;
  /** Logical name for the log, e.g. "downlink". */
  readonly sourceName: string;
  /** Deliveries the broker may push ahead of processing. */
  readonly credit: number;
  /** The link's max_message_size. */
  readonly maxMessageBytes: number;
  readonly livenessIntervalMs: number;
  readonly logger: Logger;
  readonly onArrival: (arrival: Arrival) => void;
}

export interface InboxLink {
  /** True while the link is attached. */
  readonly attached: boolean;
  /** No more arrivals or re-attaching; the link stays open until `close` so that what was handed over can settle. */
  stop(): void;
  close(): void;
}

export function openInboxLink(options: InboxLinkOptions): InboxLink {
  const { connection, logger } = options;
  const source = options.sourceName;
  let receiver: Receiver | undefined;
  let stopped = false;

  function attach(): void {
    const amqp = connection.amqp;
    if (!amqp || stopped) return;
    receiver = amqp.open_receiver({
      source: { address: options.address },
      autoaccept: false,
      credit_window: options.credit,
      max_message_size: options.maxMessageBytes,
    });
    receiver.on('message', (context: EventContext) => {
      // After stop() the store may be closed; a transfer the broker sent before it saw the detach is left unsettled,
      // and the broker delivers it again to the next receiver.
      if (stopped || !context.message || !context.delivery) return;
      options.onArrival({ message: context.message, delivery: context.delivery });
    });
    // rhea re-attaches on reconnect, and the liveness check below when it does not: this only tells.
    receiver.on('receiver_error', (context: EventContext) =>
      logger.warn('inbox.receiver-error', { source, error: errorCodeOf(context.receiver?.error) }),
    );
  }

  const offOpened = connection.onOpened(() => {
    if (!receiver) attach();
  });
  if (connection.state.status === 'online') attach();

  const liveness = setInterval(() => {
    if (stopped || connection.state.status !== 'online') return;
    if (!receiver || !receiver.is_open()) {
      logger.warn('inbox.reattach', { source });
      receiver?.close();
      attach();
    }
  }, options.livenessIntervalMs);
  liveness.unref();

  return {
    get attached() {
      return receiver?.is_open() ?? false;
    },
    stop() {
      stopped = true;
      clearInterval(liveness);
      offOpened();
    },
    close() {
      receiver?.close();
    },
  };
}
