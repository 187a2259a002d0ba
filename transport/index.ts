/** What other layers may use of transport/: they import it from here only (eslint rule rts/layers). */
export { bodyBytes, toRheaMessage, toStoredMessage } from './amqp-message.ts';
export { artemisAdapter, rabbitmq3Adapter } from './broker-adapter.ts';
export { createBrokerConnection } from './broker-connection.ts';
export type { BrokerConnection } from './broker-connection.ts';
export { LINK_MAX_MESSAGE_BYTES, createInboxReceiver } from './inbox-receiver.ts';
export type { BatchScope, HandlerResult, InboxReceiver, ReceivedMessage } from './inbox-receiver.ts';
export { createOutboxSender, outboxCounts, UPLINK } from './outbox-sender.ts';
export type { OutboxSender } from './outbox-sender.ts';
export { migrate, openDatabase } from './sqlite-database.ts';
export type { SqliteDatabase } from './sqlite-database.ts';
export { createBatchConsumer } from './batch-consumer.ts';
export type { BatchConsumer } from './batch-consumer.ts';
export type { Arrival } from './inbox-entries.ts';
export { createSettlingSender, PERMANENT_CONDITIONS } from './settling-sender.ts';
export type { SendOutcome, SettlingSender } from './settling-sender.ts';
export { createSqliteTransportStore } from './sqlite-transport-store.ts';
export { migrateTo, schemaVersion, scratchDatabase, storeContents } from './testing/migrations.ts';
export type { DeadLetterState, StoredMessage, TransportStore } from './transport-store.ts';
