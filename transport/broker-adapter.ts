import {
  RABBITMQ_TOPOLOGY as T,
  downlinkReceiveAddress,
  downlinkQueueName,
  uplinkSendAddress,
  vhostHostname,
} from '../shared/broker/index.ts';

/**
 * Everything that differs between brokers, behind logical names: the rest of the code speaks of "the uplink" and
 * "an endpoint's downlink". RabbitMQ 3.x with the AMQP 1.0 plugin is the one in use; ActiveMQ Artemis or RabbitMQ 4
 * (native AMQP 1.0, v2 addresses) would be another object of this shape.
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
  /**
   * Settlement outcomes the broker honours. RabbitMQ 3's AMQP 1.0 plugin ends the session on `modified`, so a
   * consumer must use `released` for "try again".
   */
  readonly supportsModified: boolean;
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
  supportsModified: false,
};
