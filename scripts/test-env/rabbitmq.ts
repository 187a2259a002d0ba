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

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { state: { type: 'string' }, nodes: { type: 'string', default: '1' }, node: { type: 'string', default: '1' } },
});
const stateFile = values.state;
const command = positionals[0] ?? '';
if (!stateFile || !['start', 'stop', 'kill', 'restart', 'ctl'].includes(command)) {
  console.error('usage: rabbitmq.ts start|stop|kill|restart|ctl --state FILE [--nodes N] [--node I -- ARGS]');
  process.exit(2);
}
if (command === 'start') await startBroker(stateFile, Number(values.nodes));
else if (command === 'stop') await stopBroker(stateFile);
else if (command === 'kill') await killNode(stateFile, Number(values.node) - 1);
else if (command === 'restart') console.log(`rabbitmq: node ${values.node} back in ${await restartNode(stateFile, Number(values.node) - 1)} ms`);
else {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as BrokerEnvState;
  const node = state.nodes[Number(values.node) - 1];
  if (!node) throw new Error(`no node ${values.node}`);
  process.stdout.write(ctl(state, node, positionals.slice(1)));
}
