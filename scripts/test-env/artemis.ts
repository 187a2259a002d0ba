/**
 * The private test Artemis from the command line (see artemis-control.ts):
 *   npm run artemis -- start|stop|kill|restart --state FILE
 */
import { parseArgs } from 'node:util';
import { killArtemis, restartArtemis, startArtemis, stopArtemis } from './artemis-control.ts';

const USAGE = `usage: npm run artemis -- COMMAND --state FILE
  start    boot a private ActiveMQ Artemis on a free loopback port with the RTS topology, and record its port, pid
           and users (with passwords) in FILE
  stop     stop it by pid and remove its data
  kill     kill -9 it, keeping its journal
  restart  start it again on the same journal
FILE is JSON (scripts/test-env/artemis-control.ts): amqpPort, pid and the users; keep it private, it holds the
broker passwords. The distribution comes from scripts/setup.sh (Maven Central).`;

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { state: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
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
  const state = await startArtemis(values.state);
  console.log(`artemis: up on 127.0.0.1:${state.amqpPort} in ${Date.now() - started} ms`);
} else if (command === 'stop') await stopArtemis(values.state);
else if (command === 'kill') await killArtemis(values.state);
else console.log(`artemis: back in ${await restartArtemis(values.state)} ms`);
