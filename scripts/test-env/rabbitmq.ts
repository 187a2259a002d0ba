/**
 * The private test broker from the command line (see rabbitmq-control.ts):
 *   node scripts/test-env/rabbitmq.ts start --state FILE [--nodes 3]
 *   node scripts/test-env/rabbitmq.ts stop --state FILE
 *   node scripts/test-env/rabbitmq.ts kill|restart --state FILE [--node I]
 *   node scripts/test-env/rabbitmq.ts ctl --state FILE [--node I] -- RABBITMQCTL-ARGS…
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BrokerEnvState } from './broker-env.ts';
import { ctl, killNode, restartNode, startBroker, stopBroker } from './rabbitmq-control.ts';

const USAGE = `usage: npm run broker -- COMMAND --state FILE [options]
  start   --state FILE [--nodes N]   boot a private RabbitMQ (N nodes, default 1) on free loopback ports, load the RTS
                                      topology, and record ports, pids and users (with passwords) in FILE
  stop    --state FILE               stop every node of FILE by pid and remove its data
  kill    --state FILE [--node I]    kill -9 node I (default 1), keeping its data
  restart --state FILE [--node I]    start node I again on the same data
  ctl     --state FILE [--node I] -- ARGS…
                                      run rabbitmqctl ARGS against node I (e.g. -- list_queues -p rts name messages)
FILE is JSON (scripts/test-env/broker-env.ts): nodes[].amqpPort, tlsPort, managementPort, the CA of the TLS port
(tlsCaFile) and the users; keep it private, it holds the broker passwords.`;

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        state: { type: 'string' },
        nodes: { type: 'string', default: '1' },
        node: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`rabbitmq: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const { positionals, values } = parseCommandLine();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const stateFile = values.state;
const command = positionals[0] ?? '';
if (!stateFile || !['start', 'stop', 'kill', 'restart', 'ctl'].includes(command)) {
  console.error(USAGE);
  process.exit(2);
}
if (command === 'start') await startBroker(stateFile, Number(values.nodes));
else if (command === 'stop') await stopBroker(stateFile);
else if (command === 'kill') await killNode(stateFile, Number(values.node) - 1);
else if (command === 'restart')
  console.log(`rabbitmq: node ${values.node} back in ${await restartNode(stateFile, Number(values.node) - 1)} ms`);
else {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerEnvState;
  const node = state.nodes[Number(values.node) - 1];
  if (!node) throw new Error(`no node ${values.node}`);
  process.stdout.write(ctl(state, node, positionals.slice(1)));
}
