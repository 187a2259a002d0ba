/** What other layers may use of shared/broker/: they import it from here only (eslint rule rts/layers). */
export {
  RABBITMQ_TOPOLOGY,
  downlinkQueueName,
  downlinkReceiveAddress,
  uplinkSendAddress,
  vhostHostname,
} from './rabbitmq-names.ts';
export {
  ARTEMIS_TOPOLOGY,
  artemisDownlinkAddress,
  artemisUplinkAddress,
  artemisVerifiedSender,
} from './artemis-names.ts';
export { BROKER_KINDS, DEFAULT_BROKER_KIND } from './broker-kind.ts';
export type { BrokerKind } from './broker-kind.ts';
export { isLoopbackHost, plainAmqpProblem, plainHttpProblem } from './transport-security.ts';
