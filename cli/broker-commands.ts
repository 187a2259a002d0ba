import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { buildRabbitmqDefinitions, type BrokerUser } from '../hub/index.ts';
import { isEndpointId } from '../shared/protocol/index.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { writeFileAtomic } from './files.ts';
import { printLines } from './output.ts';

/**
 * `rts broker definitions`: the RTS topology of a real region as a RabbitMQ definitions file (for
 * `rabbitmqctl import_definitions`), with a fresh password for every user. The definitions hold only password hashes;
 * the passwords go to a separate file (mode 0600) for the operator to hand to the hub and to each endpoint's
 * administrator. Importing merges: run it again with new endpoints to add them.
 */
interface DefinitionsOptions {
  endpoint: string[];
  out: string;
  secretsOut: string;
  hubUser: string;
  adminUser: string;
  deliveryLimit: string;
  force?: true;
}

const newUser = (name: string): BrokerUser => ({ name, password: randomBytes(24).toString('base64url') });

function definitions(options: DefinitionsOptions): void {
  const bad = options.endpoint.filter((id) => !isEndpointId(id));
  if (bad.length > 0) throw usageError(`not an endpoint id: ${bad.join(', ')} (lower-case letters, digits and '-')`);
  const deliveryLimit = Number(options.deliveryLimit);
  if (!Number.isInteger(deliveryLimit) || deliveryLimit < 1)
    throw usageError('--delivery-limit must be a positive integer');
  for (const file of [options.out, options.secretsOut]) {
    if (existsSync(file) && !options.force)
      throw new CliError(CLI_ERROR_CODES.fileExists, `${file} exists (use --force to replace it)`);
  }
  const endpoints = [...new Set(options.endpoint)].map(newUser);
  const hub = newUser(options.hubUser);
  const admin = newUser(options.adminUser);
  writeFileAtomic(
    options.out,
    `${JSON.stringify(buildRabbitmqDefinitions({ endpoints, hub, admin, deliveryLimit }), null, 2)}\n`,
  );
  const secrets = Object.fromEntries([admin, hub, ...endpoints].map((u) => [u.name, u.password]));
  writeFileAtomic(options.secretsOut, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
  printLines([
    `${options.out}: vhost, exchanges, quorum queues and ${endpoints.length + 2} users (password hashes only)`,
    `${options.secretsOut}: their passwords (mode 0600)`,
    `import it: rabbitmqctl import_definitions ${options.out}`,
  ]);
}

export function registerBrokerCommands(program: Command): void {
  const broker = program.command('broker').description("a region's RabbitMQ: the RTS topology and its users");
  broker
    .command('definitions')
    .description(
      'write the RTS topology as RabbitMQ definitions, with new passwords for the admin, the hub and each endpoint',
    )
    .requiredOption(
      '--endpoint <id...>',
      'endpoint ids (clinic systems and workstations) to create users and downlink queues for',
    )
    .requiredOption('--out <file>', 'the definitions file (JSON, password hashes only)')
    .requiredOption('--secrets-out <file>', 'where to write the passwords (JSON, mode 0600)')
    .option('--hub-user <name>', "the hub's user", 'rts-hub')
    .option(
      '--admin-user <name>',
      'the provisioning administrator (the hub uses it through the management API)',
      'rts-admin',
    )
    .option('--delivery-limit <n>', 'deliveries of one message before it is dead-lettered', '5')
    .option('--force', 'replace existing files')
    .action(definitions);
}
