import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { HubConfigError, loadHubConfig } from './hub-config.ts';
import { startHub } from './hub-service.ts';

/**
 * The hub service: `npm run hub -- --config hub.json` (or `node hub/main.ts --config hub.json`). Logs one JSON object
 * per line on stdout; stops cleanly on SIGTERM or SIGINT (what is not yet accepted is redelivered to another instance).
 */
const usage = 'usage: node hub/main.ts --config FILE';

// The lines of one turn of the event loop go out in one write: a burst of messages logs thousands of lines a second.
let logLines: string[] = [];
function flushLog(): void {
  const text = logLines.join('');
  logLines = [];
  if (text) process.stdout.write(text);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.config) {
    console.error(`rts-hub: ${usage}`);
    return 2;
  }
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const log = (event: object) => {
    if (logLines.push(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`) === 1) setImmediate(flushLog);
  };
  let hub;
  try {
    hub = await startHub({ config: loadHubConfig(values.config), version, log });
  } catch (error) {
    if (error instanceof HubConfigError) {
      console.error(`rts-hub: ${error.message}`);
      return 2;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await hub.stop();
  return 0;
}

main().then(
  (code) => {
    flushLog();
    process.exit(code);
  },
  (error: unknown) => {
    flushLog();
    console.error(`rts-hub: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
