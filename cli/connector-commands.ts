import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { runConnector } from '../connector/index.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { printJson, printLines } from './output.ts';

/**
 * `rts connector --config F` runs the clinic connector (as `npm run connector`); `rts clinic publish` is what a clinic
 * administrator runs to publish the clinic's experts through a running connector without writing code.
 */
export function registerConnectorCommands(program: Command): void {
  program
    .command('connector')
    .description(
      "run the clinic connector: the clinic system's endpoint in the region, with its local HTTP API (docs/connector.md)",
    )
    .requiredOption('--config <file>', 'connector.json')
    .action(async (options: { config: string }) => {
      const running = await runConnector({
        configFile: options.config,
        log: (line) => console.log(JSON.stringify({ at: new Date().toISOString(), ...line })),
      });
      const state = running.core.state();
      printLines([
        `connector: listening on ${running.url} as ${state.endpointId} (region ${state.region}, ${state.practitioners} practitioner(s))`,
      ]);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await running.stop();
    });

  const clinic = program
    .command('clinic')
    .description("a clinic administrator's commands against the clinic's connector");
  clinic
    .command('publish')
    .description(
      "publish the clinic's experts (CSV or a FHIR Bundle) through the connector; bad rows are reported by line and nothing is sent",
    )
    .requiredOption('--connector <url>', "the connector's API, e.g. http://127.0.0.1:7390")
    .requiredOption('--token-file <file>', "a file holding the connector's API token")
    .option('--csv <file>', 'experts as CSV (columns: docs/connector.md)')
    .option('--bundle <file>', 'a FHIR Bundle (JSON) of Practitioner, PractitionerRole, Organization')
    .option('--full', "the clinic's whole list: experts not in it are retired (the default)")
    .option('--delta', 'only create or replace these experts')
    .option('--retire <id...>', 'with --delta: experts to retire (local or directory ids)')
    .option('--wait <seconds>', "wait this long for the hub's answer", '60')
    .option('--json', 'print the publication as JSON')
    .action(
      async (options: {
        connector: string;
        tokenFile: string;
        csv?: string;
        bundle?: string;
        full?: true;
        delta?: true;
        retire?: string[];
        wait: string;
        json?: true;
      }) => {
        if (options.full && options.delta) throw usageError('give --full or --delta, not both');
        if (
          (options.csv === undefined) === (options.bundle === undefined) &&
          !(options.delta && options.retire?.length && !options.csv && !options.bundle)
        ) {
          throw usageError('give one of --csv and --bundle (with --delta, --retire alone is enough)');
        }
        if (options.retire && !options.delta) throw usageError('--retire is for --delta');
        const wait = Number(options.wait);
        if (!Number.isFinite(wait) || wait < 0) throw usageError('--wait takes a number of seconds');
        const mode = options.delta ? 'delta' : 'full';
        const token = readText(options.tokenFile).trim();
        let bundle: unknown;
        if (options.bundle) {
          try {
            bundle = JSON.parse(readText(options.bundle));
          } catch (error) {
            throw new CliError(
              CLI_ERROR_CODES.badManifest,
              `${options.bundle} is not JSON: ${(error as Error).message}`,
            );
          }
        }
        if (options.csv && extname(options.csv).toLowerCase() === '.json')
          throw usageError(`${options.csv} looks like JSON; give it with --bundle`);
        const base = options.connector.replace(/\/+$/, '');
        const body = {
          mode,
          ...(options.csv && { csv: readText(options.csv) }),
          ...(bundle !== undefined && { bundle }),
          ...(options.retire && { retire: options.retire }),
        };
        let publication = await call(base, token, 'POST', '/v1/directory/publications', body);
        const source = options.csv ?? options.bundle ?? 'retirements';
        const deadline = Date.now() + wait * 1000;
        while (!isFinal(publication) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 250));
          publication = await call(base, token, 'GET', `/v1/directory/publications/${publication.publicationId}`);
        }
        if (options.json) printJson(publication);
        else {
          printLines([
            `Publication ${publication.publicationId} (${mode}, ${publication.entries} ${publication.entries === 1 ? 'entry' : 'entries'} from ${source}): ${publication.state}${publication.reason ? ` — ${publication.reason}: ${publication.detail ?? ''}` : ''}`,
            ...(isFinal(publication)
              ? []
              : [`Not answered yet; ask again: GET ${base}/v1/directory/publications/${publication.publicationId}`]),
          ]);
        }
        if (publication.state === 'rejected' || publication.state === 'failed')
          throw new CliError(
            CLI_ERROR_CODES.connector,
            `the ${mode} list was ${publication.state}${publication.reason ? ` (${publication.reason})` : ''}`,
          );
      },
    );
}

const isFinal = (publication: Publication) => ['accepted', 'rejected', 'failed'].includes(publication.state);

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      CLI_ERROR_CODES.notFound,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

interface Problem {
  detail?: string;
  code?: string;
  errors?: { line?: number; pointer?: string; field?: string; detail: string }[];
}

interface Publication {
  publicationId: string;
  state: string;
  entries: number;
  reason?: string;
  detail?: string;
}

async function call(
  base: string,
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Publication> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CliError(
      CLI_ERROR_CODES.connectorUnreachable,
      `the connector at ${base} cannot be reached: ${String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message)}`,
    );
  }
  const text = await response.text();
  if (response.ok) return JSON.parse(text) as Publication;
  let problem: Problem;
  try {
    problem = JSON.parse(text) as Problem;
  } catch {
    problem = { detail: text.slice(0, 300) };
  }
  const lines = (problem.errors ?? []).map(
    (e) => `  ${e.line !== undefined ? `line ${e.line}` : (e.pointer ?? e.field ?? '')}: ${e.detail}`,
  );
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  throw new CliError(
    response.status === 422 ? CLI_ERROR_CODES.badManifest : CLI_ERROR_CODES.connector,
    `${response.status} ${problem.detail ?? response.statusText}`,
  );
}
