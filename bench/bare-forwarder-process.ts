/**
 * The two-hop baseline's bare forwarder in a process of its own (bench-support.ts, `via.ownProcess`), as the hub runs
 * in one when the benchmarks move it out: `node bench/bare-forwarder-process.ts TO_ENDPOINT RUN CREDIT`. Prints
 * `ready` once its links are open; stops on SIGTERM.
 */
import { connect } from '../faults/fault-harness.ts';
import { loadBrokerEnv } from '../scripts/test-env/index.ts';
import { startForwarder } from './bench-support.ts';

const [toEndpoint, run, credit] = process.argv.slice(2);
if (!toEndpoint || !run || !credit) throw new Error('usage: bare-forwarder-process.ts TO_ENDPOINT RUN CREDIT');
const connection = await connect(loadBrokerEnv().users.hub);
await startForwarder(connection, toEndpoint, run, Number(credit));
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void connection.stop().then(() => process.exit(0));
});
