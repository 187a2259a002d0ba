import { parseArgs } from 'node:util';
import { createJsonLinesLogger } from '../shared-node/index.ts';
import { runConnector } from './run-connector.ts';

/**
 * npm run connector -- --config connector.json   (also: rts connector --config connector.json)
 *
 * Runs the clinic connector until SIGINT/SIGTERM. Prints one JSON line per event (ids, states, reason codes; never
 * patient data) and, when ready, `connector: listening on http://HOST:PORT as ENDPOINT`.
 */
// A last resort: a failure no request handler caught is logged (its kind only) and the connector goes on serving.
process.on('unhandledRejection', (error) =>
  console.error(
    JSON.stringify({ event: 'unhandled-rejection', error: error instanceof Error ? error.name : typeof error }),
  ),
);

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    console.error(`connector: ${(error as Error).message}`);
    return 2;
  }
  if (values.help || !values.config) {
    (values.help ? console.log : console.error)(
      'usage: npm run connector -- --config connector.json   (docs/connector.md)',
    );
    return values.help ? 0 : 2;
  }
  let running;
  try {
    running = await runConnector({
      configFile: values.config,
      log: (line) => console.log(JSON.stringify({ at: new Date().toISOString(), ...line })),
      // The broker link's event codes join the same JSON lines on stdout.
      logger: createJsonLinesLogger((line) => process.stdout.write(line)),
    });
  } catch (error) {
    console.error(`connector: ${(error as Error).message}`);
    return 1;
  }
  const state = running.core.state();
  console.log(
    `connector: listening on ${running.url} as ${state.endpointId} (region ${state.region}, ${state.practitioners} practitioner(s))`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await running.stop();
  return 0;
}

process.exitCode = await main();
