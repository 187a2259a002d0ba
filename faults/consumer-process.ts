/**
 * A consumer in its own process, so a suite can kill -9 it: node faults/consumer-process.ts DB-PATH RUN-ID.
 * Prints "ready" once attached; runs until killed.
 */
import { createConsumer } from './fault-harness.ts';

const [path, run] = process.argv.slice(2);
if (!path || !run) {
  console.error('usage: consumer-process.ts DB-PATH RUN-ID');
  process.exit(2);
}
await createConsumer(path, run);
console.log('ready');
