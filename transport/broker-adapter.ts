import {
  ARTEMIS_TOPOLOGY as A,
  DEFAULT_BROKER_KIND,
  type BrokerKind,
  RABBITMQ_TOPOLOGY as T,
  artemisDownlinkAddress,
  artemisUplinkAddress,
  artemisVerifiedSender,
  downlinkReceiveAddress,
  downlinkQueueName,
  uplinkSendAddress,
  vhostHostname,
} from '../shared/broker/index.ts';

/** The part of a received delivery that `retry` settles. */
export interface RetryableDelivery {
  release(params?: { delivery_failed?: boolean; undeliverable_here?: boolean }): void;
}

/** The part of a received message that names who sent it. */
export interface ReceivedEnvelope {
  readonly user_id?: unknown;
  readonly message_annotations?: Record<string, unknown>;
}

/**
 * Everything that differs between brokers, behind logical names: the rest of the code speaks of "the uplink" and
 * "an endpoint's downlink". RabbitMQ 3.x with the AMQP 1.0 plugin and ActiveMQ Artemis 2.x are the two.
 */
export interface BrokerAdapter {
  readonly name: string;
  /** Open-frame hostname selecting the region's virtual host. */
  hostname(vhost: string): string;
  /** Where an endpoint sends everything. */
  uplinkTarget(endpointId: string): string;
  /** Where the hub reads the uplink. */
  uplinkSource(): string;
  /** Where the hub writes one endpoint's downlink. */
  downlinkTarget(endpointId: string): string;
  /** Where an endpoint reads. */
  downlinkSource(endpointId: string): string;
  /** Where the broker's own dead letters (delivery limit exceeded) collect. */
  deadLetterSource(): string;
  /** The endpoint the broker vouches sent an uplink message; undefined when it vouches for none. */
  verifiedSender(message: ReceivedEnvelope): string | undefined;
  /**
   * Gives a delivery back to be delivered again, counted towards the queue's delivery limit, past which the broker
   * dead-letters it.
   */
  retry(delivery: RetryableDelivery): void;
}

/** AMQP's user_id is binary (rhea types it as a string); an empty one vouches for nobody. */
function utf8(value: unknown): string | undefined {
  const text =
    typeof value === 'string' ? value : value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;
  return text || undefined;
}

export const rabbitmq3Adapter: BrokerAdapter = {
  name: 'rabbitmq-3-amqp1.0',
  hostname: vhostHostname,
  uplinkTarget: uplinkSendAddress,
  uplinkSource: () => `/amq/queue/${T.uplinkQueue}`,
  downlinkTarget: (endpointId) =>
    `/exchange/${T.downlinkExchange}/${downlinkQueueName(endpointId).slice(T.downlinkQueuePrefix.length)}`,
  downlinkSource: downlinkReceiveAddress,
  deadLetterSource: () => `/amq/queue/${T.deadLetterQueue}`,
  // RabbitMQ refuses a user_id other than the connection's user.
  verifiedSender: (message) => utf8(message.user_id),
  // A quorum queue counts `released` towards x-delivery-limit; the 3.x plugin ends the session on `modified`.
  retry: (delivery) => delivery.release(),
};

/**
 * ActiveMQ Artemis 2.x (measured on 2.40, docs/brokers.md): no virtual hosts; the sender is vouched for by its
 * uplink address (artemis-names.ts); only `modified` with delivery-failed counts towards max-delivery-attempts —
 * `released` and undeliverable-here are delivered again uncounted, for ever.
 */
export const artemisAdapter: BrokerAdapter = {
  name: 'artemis-2-amqp1.0',
  hostname: (vhost) => vhost,
  uplinkTarget: artemisUplinkAddress,
  uplinkSource: () => A.uplinkQueue,
  downlinkTarget: artemisDownlinkAddress,
  downlinkSource: artemisDownlinkAddress,
  deadLetterSource: () => A.deadLetterQueue,
  verifiedSender: (message) => artemisVerifiedSender(message.message_annotations),
  retry: (delivery) => delivery.release({ delivery_failed: true }),
};

/** The adapter of a configured broker kind (absent: RabbitMQ). */
export function brokerAdapterFor(kind: BrokerKind = DEFAULT_BROKER_KIND): BrokerAdapter {
  return kind === 'artemis' ? artemisAdapter : rabbitmq3Adapter;
}
