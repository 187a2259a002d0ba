/**
 * The brokers a region can run (docs/brokers.md). Configuration names one; everything above the transport's broker
 * adapter is the same for both. Absent means RabbitMQ, what every region ran before Artemis was supported.
 */
export const BROKER_KINDS = ['rabbitmq', 'artemis'] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];
export const DEFAULT_BROKER_KIND: BrokerKind = 'rabbitmq';
