import type { Command } from 'commander';
import { HubConfigError, loadHubConfig } from '../hub/index.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { printJson, printLines } from './output.ts';

/**
 * `rts hub …`: the hub operator's view of a running hub, through its operator API (hub/operator-api.ts). The address
 * and token come from the same configuration file the hub runs with.
 */
interface CommonOptions {
  config: string;
  json?: true;
}

interface Status {
  instance: string;
  database: string;
  healthy: boolean;
  broker: { status: string; host?: string; reason?: string };
  instances: { id: string; host: string; pid: number; heartbeatAt: string; running: boolean; broker: string }[];
  directoryVersion: number;
  endpoints: number;
  outbox: { queued: number; lapsed: number; oldest: string | null };
  deadLetters: { reason: string; held: number }[];
  trust: TrustStatus;
}

interface CrlInUse {
  issuer: string;
  crlNumber: number | null;
  thisUpdate: string;
  nextUpdate: string | null;
  revoked: number;
  state: string;
}
interface ReloadReport {
  at: string;
  taken: { file: string; issuer: string; crlNumber: number | null }[];
  refused: { file: string; detail: string }[];
}
interface TrustStatus {
  state: string;
  crls: CrlInUse[];
  lastReload?: ReloadReport;
}

interface EntrySummary {
  id: string;
  clinic: string;
  name: string | null;
  organization: string | null;
  organizationName: string | null;
  state: string;
  version: number;
}
interface EntryDetail extends EntrySummary {
  specialties: string[];
  endpoints: string[];
  languages: string[];
  certificates: { use: string; subject: string; serialNumber: string; notAfter: string }[];
}

const crlLine = (c: CrlInUse) =>
  `CRL of ${c.issuer}: ${c.state}${c.crlNumber === null ? '' : `, number ${c.crlNumber}`}, ${c.revoked} revoked, next update ${c.nextUpdate ?? 'none'}`;

interface DeadLetter {
  id: number;
  messageId: string;
  source: string;
  sender: string;
  type: string;
  reason: string;
  detail: string;
  receivedAt: string;
  state: string;
  resolution: string | null;
  bodyBytes: number;
  properties?: Record<string, unknown>;
}

export function registerHubCommands(program: Command): void {
  const hub = program
    .command('hub')
    .description('operate a running hub: status, endpoints, directory, dead letters (via its operator API)');
  const common = (command: Command) =>
    command
      .requiredOption('--config <file>', "the hub's configuration file (operator port and token)")
      .option('--json', 'print JSON');

  common(
    hub.command('status').description('instances, broker connection, directory version, outbox and dead letters'),
  ).action(async (options: CommonOptions) => {
    const status = await call<Status>(options, 'GET', 'status');
    if (options.json) return printJson(status);
    printLines([
      `hub ${status.instance} (${status.database}): ${status.healthy ? 'healthy' : 'UNHEALTHY'}; broker ${status.broker.status}${status.broker.host ? ` ${status.broker.host}` : ''}${status.broker.reason ? ` (${status.broker.reason})` : ''}`,
      `directory version ${status.directoryVersion}; ${status.endpoints} endpoints registered`,
      ...status.trust.crls.map(crlLine),
      `outbox: ${status.outbox.queued} queued, ${status.outbox.lapsed} waiting for takeover`,
      `dead letters held: ${status.deadLetters.length === 0 ? 'none' : status.deadLetters.map((d) => `${d.reason} ${d.held}`).join(', ')}`,
      'instances:',
      ...status.instances.map(
        (i) =>
          `  ${i.running ? 'running' : 'stopped'}  ${i.id}  ${i.host} pid ${i.pid}  last seen ${i.heartbeatAt}  broker ${i.broker}`,
      ),
    ]);
  });

  common(
    hub
      .command('health')
      .description(
        'exit 0 when the hub answers, is connected to the broker and holds a CRL that is not stale; 1 otherwise',
      ),
  ).action(async (options: CommonOptions) => {
    const status = await call<Status>(options, 'GET', 'status');
    if (options.json) printJson({ healthy: status.healthy, broker: status.broker, trust: status.trust.state });
    else if (status.healthy) printLines(['healthy']);
    else if (status.broker.status !== 'online')
      printLines([
        `unhealthy: broker ${status.broker.status}${status.broker.reason ? ` (${status.broker.reason})` : ''}`,
      ]);
    else
      printLines([
        `unhealthy: the CRL in use is stale, so every signed message waits; put the region's current CRL in trust.crlFiles and run rts hub reload-trust`,
      ]);
    if (!status.healthy) process.exitCode = 1;
  });

  common(hub.command('endpoints').description('registered endpoints')).action(async (options: CommonOptions) => {
    const endpoints = await call<
      { id: string; kind: string; operator: string; organization: string; registeredAt: string }[]
    >(options, 'GET', 'endpoints');
    if (options.json) return printJson(endpoints);
    printLines(
      endpoints.length === 0
        ? ['no endpoints registered']
        : endpoints.map(
            (e) => `${e.id}  ${e.kind}  operated by ${e.operator}  ${e.organization}  since ${e.registeredAt}`,
          ),
    );
  });

  common(
    hub
      .command('disconnect')
      .argument('<endpoint>', 'endpoint id')
      .description(
        "close the endpoint's broker connections: after rts region suspend, so that links it attached before go too",
      ),
  ).action(async (endpoint: string, options: CommonOptions) => {
    const result = await call<{ endpointId: string; hadConnections: boolean }>(
      options,
      'POST',
      `endpoints/${encodeURIComponent(endpoint)}/disconnect`,
    );
    if (options.json) return printJson(result);
    printLines([
      result.hadConnections
        ? `closed the broker connections of ${result.endpointId}; it reconnects with only the rights it now has`
        : `${result.endpointId} had no broker connection open`,
    ]);
  });

  common(
    hub
      .command('reload-trust')
      .description(
        'read trust.crlFiles again now and take a newer CRL (the hub also does every trust.crlReloadSeconds)',
      ),
  ).action(async (options: CommonOptions) => {
    const result = await call<ReloadReport & { trust: TrustStatus }>(options, 'POST', 'trust/reload');
    // A file the hub would not take is something for the operator to fix: exit 1, whatever the output format.
    if (result.refused.length > 0) process.exitCode = 1;
    if (options.json) return printJson(result);
    printLines([
      ...(result.taken.length === 0
        ? ['no newer CRL: the CRL in use stays']
        : result.taken.map(
            (t) =>
              `took the CRL of ${t.issuer}${t.crlNumber === null ? '' : ` number ${t.crlNumber}`} from ${t.file}; sent to every endpoint`,
          )),
      ...result.refused.map((r) => `refused ${r.file}: ${r.detail}`),
      ...result.trust.crls.map(crlLine),
    ]);
  });

  const directory = common(
    hub.command('directory').description('directory version and sizes; list and show its entries'),
  );
  directory
    .command('list')
    .description(
      'practitioner entries the hub holds, by directory id, a page at a time (--config and --json go before or after)',
    )
    .option('--clinic <id>', 'only the entries this clinic system publishes')
    .option('--limit <n>', 'at most this many', '100')
    .option('--after <directory-id>', 'the page after this directory id (as the previous page says)')
    .action(async (listOptions: { clinic?: string; limit: string; after?: string }, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions>();
      const query = new URLSearchParams({
        limit: listOptions.limit,
        ...(listOptions.clinic && { clinic: listOptions.clinic }),
        ...(listOptions.after && { after: listOptions.after }),
      });
      const page = await call<{ entries: EntrySummary[]; next?: string }>(
        options,
        'GET',
        `directory/entries?${query.toString()}`,
      );
      if (options.json) return printJson(page);
      printLines([
        ...(page.entries.length === 0
          ? ['no entries']
          : page.entries.map(
              (e) =>
                `${e.id}  ${e.state}  ${e.name ?? '-'}  ${e.clinic}  ${e.organizationName ?? e.organization ?? '-'}  version ${e.version}`,
            )),
        ...(page.next ? [`more: --after ${page.next}`] : []),
      ]);
    });
  directory
    .command('show')
    .description("one entry: names, hospital, endpoints and its certificates' subject, serial and notAfter")
    .argument('<directory-id>')
    .action(async (id: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions>();
      const entry = await call<EntryDetail>(options, 'GET', `directory/entries/${encodeURIComponent(id)}`);
      if (options.json) return printJson(entry);
      printLines([
        `${entry.id} (${entry.state}, version ${entry.version}), published by ${entry.clinic}`,
        `name:         ${entry.name ?? '-'}`,
        `organization: ${entry.organizationName ?? '-'} (${entry.organization ?? '-'})`,
        `specialties:  ${entry.specialties.join(', ') || '-'}`,
        `languages:    ${entry.languages.join(', ') || '-'}`,
        `endpoints:    ${entry.endpoints.join(', ') || '-'}`,
        ...entry.certificates.map(
          (c) => `certificate (${c.use}): ${c.subject}, serial ${c.serialNumber}, valid until ${c.notAfter}`,
        ),
      ]);
    });
  directory.action(async (options: CommonOptions) => {
    const stats = await call<{
      version: number;
      live: Record<string, number>;
      retired: number;
      publishers: { publisher: string; practitioners: number }[];
      lastChange?: { version: number; publisher: string; at: string };
      collectingPublishes: number;
    }>(options, 'GET', 'directory');
    if (options.json) return printJson(stats);
    printLines([
      `version ${stats.version}${stats.lastChange ? ` (last change by ${stats.lastChange.publisher} at ${stats.lastChange.at})` : ''}`,
      `live: ${stats.live.PractitionerRole} practitioner roles, ${stats.live.Practitioner} practitioners, ${stats.live.Organization} organizations; ${stats.retired} retired entries`,
      `full publishes still collecting batches: ${stats.collectingPublishes}`,
      ...stats.publishers.map((p) => `  ${p.publisher}: ${p.practitioners} practitioners`),
    ]);
  });

  const deadLetters = hub.command('dead-letters').description('messages the hub could not process, with the reason');
  common(deadLetters.command('list').description('dead letters, newest first'))
    .option('--state <state>', 'held, replayed or discarded', 'held')
    .option('--reason <code>', 'only this reason code')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options: CommonOptions & { state: string; reason?: string; limit: string }) => {
      const query = new URLSearchParams({
        state: options.state,
        limit: options.limit,
        ...(options.reason && { reason: options.reason }),
      });
      const letters = await call<DeadLetter[]>(options, 'GET', `dead-letters?${query.toString()}`);
      if (options.json) return printJson(letters);
      printLines(
        letters.length === 0
          ? [`no ${options.state} dead letters`]
          : letters.map(
              (l) =>
                `${l.id}  ${l.receivedAt}  ${l.reason}  ${l.type || '?'} from ${l.sender || '?'}  ${l.messageId}  ${l.detail}`,
            ),
      );
    });
  common(
    deadLetters.command('show').description('metadata of one dead letter (never its body)').argument('<id>'),
  ).action(async (id: string, options: CommonOptions) => {
    const letter = await call<DeadLetter>(options, 'GET', `dead-letters/${encodeURIComponent(id)}`);
    if (options.json) return printJson(letter);
    printLines([
      `dead letter ${letter.id} (${letter.state}${letter.resolution ? `: ${letter.resolution}` : ''})`,
      `reason:   ${letter.reason}: ${letter.detail}`,
      `message:  ${letter.messageId}, ${letter.type || '?'} from ${letter.sender || '?'}, ${letter.bodyBytes} bytes, via ${letter.source} at ${letter.receivedAt}`,
      `properties: ${JSON.stringify(letter.properties)}`,
    ]);
  });
  common(
    deadLetters
      .command('replay')
      .description('process the stored message again (e.g. after the recipient registered)')
      .argument('<id>'),
  ).action(async (id: string, options: CommonOptions) => {
    const result = await call<{
      outcome: string;
      reason?: string;
      detail?: string;
      deadLetterId?: number;
      messageId: string;
    }>(options, 'POST', `dead-letters/${encodeURIComponent(id)}/replay`);
    if (options.json) return printJson(result);
    printLines([
      result.outcome === 'rejected'
        ? `rejected again: ${result.reason}: ${result.detail} (dead letter ${result.deadLetterId})`
        : `replayed ${result.messageId}: ${result.outcome}`,
    ]);
  });
  common(
    deadLetters
      .command('discard')
      .description('mark a dead letter as handled without processing it')
      .argument('<id>')
      .option('--note <text>', 'why, for the record'),
  ).action(async (id: string, options: CommonOptions & { note?: string }) => {
    const result = await call<{ id: number; state: string }>(
      options,
      'POST',
      `dead-letters/${encodeURIComponent(id)}/discard`,
      { note: options.note ?? '' },
    );
    if (options.json) return printJson(result);
    printLines([`dead letter ${result.id} ${result.state}`]);
  });
}

async function call<T>(options: CommonOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let url: string;
  let token: string;
  try {
    const loaded = loadHubConfig(options.config);
    const operator = loaded.config.operator;
    if (!operator) throw usageError(`${options.config} has no "operator" section: the hub offers no operator API`);
    url = `http://127.0.0.1:${operator.port}/${path}`;
    token = loaded.secret(operator.token);
  } catch (error) {
    if (error instanceof HubConfigError) throw usageError(error.message);
    throw error;
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(
      CLI_ERROR_CODES.hubUnreachable,
      `no hub answers at ${new URL(url).host} (${(error as Error).message}); is it running with this configuration?`,
    );
  }
  const value = (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as T & { error?: string };
  if (!response.ok) throw new CliError(CLI_ERROR_CODES.hub, value.error ?? `HTTP ${response.status}`);
  return value;
}
