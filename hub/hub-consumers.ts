import { MESSAGE_TYPES as T, REASON_CODES } from '../shared/protocol/index.ts';
import { createBatchConsumer, type Arrival, type BrokerConnection } from '../transport/index.ts';
import type { HubLogEvent } from './hub-service.ts';
import { hubLogger } from './hub-setup.ts';
import type { HubTransactions, MessageWork } from './hub-transactions.ts';
import type { PayloadValidationPool } from '../shared-node/index.ts';
import * as store from './store/hub-store.ts';
import type { SqlClient } from './store/sql-client.ts';
import { amqpFields } from './uplink-message.ts';
import type { UplinkProcessor } from './uplink-processor.ts';

/**
 * A hub instance's two consumers: the uplink, batched into transactions (light messages together, heavy ones alone)
 * with directory publishes validated ahead on a worker, and the broker's own dead letters, kept with their reason.
 */
export interface HubConsumersOptions {
  readonly connection: BrokerConnection;
  readonly sql: SqlClient;
  readonly processor: UplinkProcessor;
  readonly validations: PayloadValidationPool;
  readonly transactions: HubTransactions;
  readonly credit: number;
  readonly log: (event: HubLogEvent) => void;
}

export interface HubConsumers {
  /** No more deliveries; resolves when the batches being handled are done. */
  stop(): Promise<void>;
}

/** Messages whose work is heavy (directory) run in a transaction of their own; light ones are committed together. */
const HEAVY_TYPES: ReadonlySet<string> = new Set([T.endpointRegister, T.directoryPublish, T.directorySnapshotRequest]);

export async function startHubConsumers(options: HubConsumersOptions): Promise<HubConsumers> {
  const { connection, sql, processor, validations, log } = options;
  const { runGroup } = options.transactions;
  // Publishes are validated ahead only for registered clinic systems, the only senders whose publishes can apply.
  let clinicSystems = new Set(await store.clinicSystemIds(sql));
  const refreshClinicSystems = () =>
    void store
      .clinicSystemIds(sql)
      .then((ids) => {
        clinicSystems = new Set(ids);
      })
      .catch(() => undefined);
  const clinicRefresh = setInterval(refreshClinicSystems, 10_000);
  clinicRefresh.unref();

  const logger = hubLogger(log);
  const processUplink: MessageWork = (context, message) => processor.process(context, message);
  const uplink = createBatchConsumer({
    connection,
    address: connection.adapter.uplinkSource(),
    sourceName: 'uplink',
    credit: options.credit,
    logger,
    handle: async (batch) => {
      // In arrival order: runs of light messages share a transaction; a heavy one has its own.
      let run: Arrival[] = [];
      for (const item of batch) {
        const type = (item.message.application_properties as Record<string, unknown> | undefined)?.rtsType;
        if (typeof type === 'string' && HEAVY_TYPES.has(type)) {
          if (run.length > 0) await runGroup(run, processUplink, 'uplink');
          run = [];
          await runGroup([item], processUplink, 'uplink');
          // Done, whatever the outcome (processed, refused, or released for redelivery): its prefetched verdict goes.
          if (type === T.directoryPublish) validations.release(amqpFields(item.message));
          if (type === T.endpointRegister) refreshClinicSystems();
        } else run.push(item);
      }
      if (run.length > 0) await runGroup(run, processUplink, 'uplink');
    },
    onArrival: ({ message }) => {
      // Directory publishes are validated ahead, on a worker, while earlier messages are being stored: only those of a
      // sender the broker vouches for (user_id = rtsSender) that is a registered clinic system.
      const properties = message.application_properties as Record<string, unknown> | undefined;
      if (
        properties?.rtsType !== T.directoryPublish ||
        typeof properties.rtsSender !== 'string' ||
        !clinicSystems.has(properties.rtsSender)
      )
        return;
      const userId: unknown = message.user_id;
      if ((userId instanceof Uint8Array ? Buffer.from(userId).toString('utf8') : userId) === properties.rtsSender)
        validations.prefetch(amqpFields(message));
    },
  });

  // The broker's own dead letters (delivery limit exceeded) are kept with the reason it cannot tell AMQP 1.0 readers.
  const brokerDeadLetters = createBatchConsumer({
    connection,
    address: connection.adapter.deadLetterSource(),
    sourceName: 'broker-deadletter',
    credit: 20,
    logger,
    handle: async (batch) => {
      await runGroup(
        batch,
        async (context, message) => {
          const deadLetterId = await store.addDeadLetter(context.tx, {
            messageId: message.stored.properties.message_id,
            source: 'broker-delivery-limit',
            sender: String(
              message.stored.properties.application_properties.rtsSender ?? message.stored.properties.user_id,
            ),
            type: String(message.stored.properties.application_properties.rtsType ?? ''),
            reason: REASON_CODES.deliveryLimit,
            detail: 'processing failed more often than the delivery limit',
            message: message.stored,
            at: new Date(),
          });
          return { outcome: 'rejected', reason: REASON_CODES.deliveryLimit, detail: 'delivery limit', deadLetterId };
        },
        'broker-deadletter',
      );
    },
  });

  return {
    async stop() {
      clearInterval(clinicRefresh);
      await uplink.stop();
      await brokerDeadLetters.stop();
    },
  };
}
