/**
 * An endpoint queuing messages as fast as it can, in its own process so that the torn-write suite can kill -9 it in
 * the middle of a segment write: node faults/outbox-writer-process.ts DB-PATH RUN-ID FIRST-N.
 * Prints `ack N MESSAGE-ID` once a message's enqueue has returned (durable: acknowledged), and `torn BYTES` when opening
 * the store cut a torn tail off its newest segment. Runs until killed.
 */
import { createSqliteTransportStore, openDatabase } from '../transport/index.ts';
import { STORE_KEY, broker, uplinkMessage } from './fault-harness.ts';

const [path, run, first] = process.argv.slice(2);
if (!path || !run || !first) {
  console.error('usage: outbox-writer-process.ts DB-PATH RUN-ID FIRST-N');
  process.exit(2);
}
const log = (code: string, fields: Readonly<Record<string, unknown>> = {}) => {
  if (code === 'segments.torn-tail') console.log(`torn ${String(fields.tornBytes)}`);
};
const store = createSqliteTransportStore(openDatabase(path, STORE_KEY), {
  logger: { info: log, warn: log, error: log },
});
// Mostly large bodies, whose writes take long enough to be cut.
const SIZES = [4 * 1024 * 1024, 1024, 1024 * 1024, 256 * 1024];
for (let n = Number(first); ; n++) {
  const message = uplinkMessage('clinic-a', run, n, SIZES[n % SIZES.length]!);
  store.outbox.enqueue({
    messageId: message.properties.message_id,
    orderKey: `key-${n % 8}`,
    address: broker.adapter.uplinkTarget('clinic-a'),
    message,
  });
  console.log(`ack ${n} ${message.properties.message_id}`);
}
