import type { Delivery, EventContext, Message, Receiver } from 'rhea';
import type { AmqpMessageFields } from '../shared/protocol/index.ts';
import { bodyBytes, toStoredMessage, type BrokerConnection } from '../transport/index.ts';
import type { HubLogEvent } from './hub-service.ts';
import type { UplinkMessage } from './uplink-processor.ts';

/**
 * A hub instance's consumer of one broker queue (the uplink, the broker's dead letters): deliveries are taken
 * unsettled, handed over in arrival order a batch at a time (whatever arrived while the last batch was handled), and
 * settled by the handler once its transaction committed. It attaches again when the connection reopens or the broker
 * closes the receiver alone.
 */
export interface Arrival {
  readonly message: Message;
  readonly delivery: Delivery;
}

export interface QueueConsumer {
  /** No more deliveries; resolves when the batch being handled is done. */
  stop(): Promise<void>;
}

export interface QueueConsumerOptions {
  readonly connection: BrokerConnection;
  readonly address: string;
  /** Deliveries the broker may have in flight to this consumer. */
  readonly credit: number;
  readonly handle: (batch: Arrival[]) => Promise<void>;
  /** Told of each message as it arrives, before it waits its turn (e.g. to start validating it ahead). */
  readonly onArrival?: (message: Message) => void;
  readonly log: (event: HubLogEvent) => void;
}

export const amqpFields = (message: Message): AmqpMessageFields => ({
  ...(message as AmqpMessageFields),
  body: bodyBytes(message.body),
});

export function uplinkMessage(message: Message): UplinkMessage {
  const routingKey: unknown = message.message_annotations?.['x-routing-key'];
  return {
    fields: amqpFields(message),
    stored: toStoredMessage(message),
    ...(typeof routingKey === 'string' && { routingKey }),
  };
}

export function createQueueConsumer(options: QueueConsumerOptions): QueueConsumer {
  const { connection, address, credit, handle, onArrival, log } = options;
  const arrived: Arrival[] = [];
  let receiver: Receiver | undefined;
  let draining: Promise<void> = Promise.resolve();
  let busy = false;
  const attach = () => {
    const amqp = connection.amqp;
    if (!amqp) return;
    receiver = amqp.open_receiver({ source: { address }, autoaccept: false, credit_window: credit });
    receiver.on('message', (context: EventContext) => {
      if (!context.message || !context.delivery) return;
      arrived.push({ message: context.message, delivery: context.delivery });
      onArrival?.(context.message);
      if (busy) return;
      busy = true;
      draining = (async () => {
        while (arrived.length > 0) await handle(arrived.splice(0, arrived.length));
      })()
        .catch((error) => log({ event: 'consumer-error', address, error: (error as Error).message }))
        .finally(() => {
          busy = false;
        });
    });
    receiver.on('receiver_error', (context: EventContext) =>
      log({ event: 'receiver-error', address, error: JSON.stringify(context.receiver?.error ?? null) }),
    );
  };
  const offOpened = connection.onOpened(() => {
    if (!receiver || !receiver.is_open()) attach();
  });
  // A receiver can be closed by the broker (e.g. a queue leader moved) while the connection stays up.
  const liveness = setInterval(() => {
    if (connection.state.status === 'online' && receiver && !receiver.is_open()) attach();
  }, 5_000);
  liveness.unref();
  return {
    async stop() {
      clearInterval(liveness);
      offOpened();
      receiver?.close();
      await draining;
    },
  };
}
