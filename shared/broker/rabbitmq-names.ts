import { assertEndpointId } from '../protocol/endpoint-id.ts';

/**
 * RabbitMQ 3.x (AMQP 1.0 plugin) names and address syntax of the RTS topology. This is the one place that knows them;
 * everything else speaks of the uplink and of an endpoint's downlink.
 *
 * Addresses follow the plugin's rules: receivers read pre-declared queues through `/amq/queue/NAME` and senders write
 * through `/exchange/NAME/ROUTING-KEY`. Bare names and `/queue/NAME` make the plugin re-declare the queue, which fails
 * on quorum queues and ends the session.
 */
export const RABBITMQ_TOPOLOGY = {
  vhost: 'rts',
  uplinkExchange: 'rts.uplink',
  uplinkQueue: 'rts.uplink',
  downlinkExchange: 'rts.downlink',
  downlinkQueuePrefix: 'rts.downlink.',
  deadLetterExchange: 'rts.dlx',
  deadLetterQueue: 'rts.deadletter',
  unroutableExchange: 'rts.unroutable',
  unroutableQueue: 'rts.unroutable',
} as const;

export function downlinkQueueName(endpointId: string): string {
  return RABBITMQ_TOPOLOGY.downlinkQueuePrefix + assertEndpointId(endpointId);
}

/** Where an endpoint sends: the uplink exchange, routing key = its own endpoint id (the broker enforces that). */
export function uplinkSendAddress(endpointId: string): string {
  return `/exchange/${RABBITMQ_TOPOLOGY.uplinkExchange}/${assertEndpointId(endpointId)}`;
}

export function downlinkReceiveAddress(endpointId: string): string {
  return `/amq/queue/${downlinkQueueName(endpointId)}`;
}

/** rhea selects a RabbitMQ vhost through the AMQP open frame's hostname. */
export function vhostHostname(vhost: string = RABBITMQ_TOPOLOGY.vhost): string {
  return `vhost:${vhost}`;
}
