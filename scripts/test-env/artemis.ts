/**
 * The private test Artemis from the command line (see artemis-control.ts):
 *   npm run artemis -- start|stop|kill|restart --state FILE [--pair] [--node I]
 */
import { parseArgs } from 'node:util';
import { killArtemis, restartArtemis, startArtemis, stopArtemis } from './artemis-control.ts';

const USAGE = `usage: npm run artemis -- COMMAND --state FILE [options]
  start [--pair|--groups N]
                    boot a private ActiveMQ Artemis on a free loopback port with the RTS topology (with --pair, a
                    primary and a backup replicating it; with --groups N, N live brokers serving at once in a
                    cluster), and record ports, pids and users (with passwords) in FILE
  stop              stop every node by pid and remove their data
  kill [--node I]   kill -9 node I (default 1, the primary), keeping its journal
  restart [--node I]
                    start node I again on the same journal
FILE is JSON (scripts/test-env/artemis-control.ts): amqpPort, pid and the users; keep it private, it holds the
broker passwords. The distribution comes from scripts/setup.sh (Maven Central).`;

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        state: { type: 'string' },
        pair: { type: 'boolean', default: false },
        groups: { type: 'string', default: '1' },
        node: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`artemis: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const { positionals, values } = parseCommandLine();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const command = positionals[0] ?? '';
if (!values.state || !['start', 'stop', 'kill', 'restart'].includes(command)) {
  console.error(USAGE);
  process.exit(2);
}
if (command === 'start') {
  const started = Date.now();
  const state = await startArtemis(values.state, { pair: values.pair, groups: Number(values.groups) });
  const ports = state.nodes.map((node) => `127.0.0.1:${node.amqpPort}`);
  const where = values.pair ? `${ports[0]} (backup: ${ports[1]})` : ports.join(', ');
  console.log(`artemis: up on ${where} in ${Date.now() - started} ms`);
} else if (command === 'stop') await stopArtemis(values.state);
else if (command === 'kill') await killArtemis(values.state, Number(values.node) - 1);
else console.log(`artemis: back in ${await restartArtemis(values.state, Number(values.node) - 1)} ms`);
