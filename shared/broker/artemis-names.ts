import { assertEndpointId, isEndpointId } from '../protocol/endpoint-id.ts';

/**
 * ActiveMQ Artemis (2.x, AMQP 1.0 acceptor) names of the RTS topology, the counterpart of rabbitmq-names.ts.
 *
 * Artemis does not check an AMQP message's user-id against the connection's user (measured on 2.40: a forged user-id
 * is accepted and delivered as sent), so the sender is vouched for by the address instead: each endpoint may send only
 * to its own multicast address `rts.uplink.<id>`, which an exclusive divert forwards to the one anycast queue
 * `rts.uplink`; the divert writes the address it came from into the message annotation `x-opt-ORIG-ADDRESS`, over any
 * value the sender put there.
 */
export const ARTEMIS_TOPOLOGY = {
  uplinkQueue: 'rts.uplink',
  uplinkAddressPrefix: 'rts.uplink.',
  downlinkQueuePrefix: 'rts.downlink.',
  deadLetterQueue: 'rts.deadletter',
  /** Where the divert records the address a message was sent to. */
  originalAddressAnnotation: 'x-opt-ORIG-ADDRESS',
} as const;

/** Where an endpoint sends: its own uplink address, which only it may send to. */
export function artemisUplinkAddress(endpointId: string): string {
  return ARTEMIS_TOPOLOGY.uplinkAddressPrefix + assertEndpointId(endpointId);
}

/** An endpoint's downlink: address and anycast queue of the same name. */
export function artemisDownlinkAddress(endpointId: string): string {
  return ARTEMIS_TOPOLOGY.downlinkQueuePrefix + assertEndpointId(endpointId);
}

/**
 * The endpoint whose uplink address a message was diverted from, as the broker recorded it; undefined when the
 * annotation is missing or names no endpoint's uplink address.
 */
export function artemisVerifiedSender(messageAnnotations: Record<string, unknown> | undefined): string | undefined {
  const address = messageAnnotations?.[ARTEMIS_TOPOLOGY.originalAddressAnnotation];
  if (typeof address !== 'string' || !address.startsWith(ARTEMIS_TOPOLOGY.uplinkAddressPrefix)) return undefined;
  const endpointId = address.slice(ARTEMIS_TOPOLOGY.uplinkAddressPrefix.length);
  return isEndpointId(endpointId) ? endpointId : undefined;
}
