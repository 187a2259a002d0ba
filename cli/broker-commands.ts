import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  buildArtemisConfiguration,
  buildRabbitmqDefinitions,
  type ArtemisConfiguration,
  type BrokerUser,
} from '../hub/index.ts';
import { isEndpointId } from '../shared/protocol/index.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { writeFileAtomic } from './files.ts';
import { printLines } from './output.ts';

/**
 * `rts broker definitions`: the RTS topology of a real region as a RabbitMQ definitions file (for
 * `rabbitmqctl import_definitions`), with a fresh password for every user. The definitions hold only password hashes;
 * the passwords go to a separate file (mode 0600) for the operator to hand to the hub and to each endpoint's
 * administrator. Importing merges: run it again with new endpoints to add them.
 *
 * With `--kind artemis`, for ActiveMQ Artemis: `--out` is a directory receiving the `<core>` elements to put into
 * broker.xml (security settings, address settings, diverts, addresses) and the login module's two files (users with
 * password hashes, roles). Artemis replaces rather than merges: the files name every endpoint of the region.
 */
interface DefinitionsOptions {
  kind: string;
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
  if (options.kind !== 'rabbitmq' && options.kind !== 'artemis')
    throw usageError(`--kind must be rabbitmq or artemis, not ${JSON.stringify(options.kind)}`);
  const artemisFiles = {
    core: join(options.out, ARTEMIS_FILES.core),
    users: join(options.out, ARTEMIS_FILES.users),
    roles: join(options.out, ARTEMIS_FILES.roles),
  };
  const outputs = options.kind === 'artemis' ? Object.values(artemisFiles) : [options.out];
  for (const file of [...outputs, options.secretsOut]) {
    if (existsSync(file) && !options.force)
      throw new CliError(CLI_ERROR_CODES.fileExists, `${file} exists (use --force to replace it)`);
  }
  const endpoints = [...new Set(options.endpoint)].map(newUser);
  const hub = newUser(options.hubUser);
  const admin = newUser(options.adminUser);
  const topology = { endpoints, hub, admin, deliveryLimit };
  const secrets = Object.fromEntries([admin, hub, ...endpoints].map((u) => [u.name, u.password]));
  if (options.kind === 'artemis') {
    writeArtemisFiles(options.out, buildArtemisConfiguration(topology));
  } else {
    writeFileAtomic(options.out, `${JSON.stringify(buildRabbitmqDefinitions(topology), null, 2)}\n`);
  }
  writeFileAtomic(options.secretsOut, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
  const users = endpoints.length + 2;
  printLines([
    ...(options.kind === 'artemis'
      ? [
          `${artemisFiles.core}: security settings, address settings, diverts and addresses for broker.xml's <core>`,
          `${artemisFiles.users}, ${artemisFiles.roles}: ${users} users (password hashes only) and their roles`,
        ]
      : [`${options.out}: vhost, exchanges, quorum queues and ${users} users (password hashes only)`]),
    `${options.secretsOut}: their passwords (mode 0600)`,
    options.kind === 'artemis'
      ? `apply it: put those elements into the broker's etc/broker.xml and the two files into etc/ (docs/brokers.md)`
      : `import it: rabbitmqctl import_definitions ${options.out}`,
  ]);
}

export const ARTEMIS_FILES = {
  core: 'rts-topology.xml',
  users: 'artemis-users.properties',
  roles: 'artemis-roles.properties',
} as const;

const ARTEMIS_CORE_HEADER = `<!-- The RTS topology for ActiveMQ Artemis, written by rts (broker definitions --kind artemis, or region).
     Put these elements into the <core> element of the broker's etc/broker.xml, in place of any of the same kind;
     keep security-enabled true. See docs/brokers.md. -->
`;

/** The three files of an Artemis configuration in `dir`: the `<core>` elements, the users (hashes only), the roles. */
export function writeArtemisFiles(dir: string, configuration: ArtemisConfiguration): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, ARTEMIS_FILES.core), `${ARTEMIS_CORE_HEADER}${configuration.coreXml}\n`);
  writeFileAtomic(join(dir, ARTEMIS_FILES.users), configuration.usersProperties, 0o600);
  writeFileAtomic(join(dir, ARTEMIS_FILES.roles), configuration.rolesProperties);
}

export function registerBrokerCommands(program: Command): void {
  const broker = program
    .command('broker')
    .description("a region's broker (RabbitMQ or ActiveMQ Artemis): the RTS topology and its users");
  broker
    .command('definitions')
    .description(
      "write the RTS topology in the broker's own terms, with new passwords for the admin, the hub and each endpoint",
    )
    .requiredOption(
      '--endpoint <id...>',
      'endpoint ids (clinic systems and workstations) to create users and downlink queues for',
    )
    .option(
      '--kind <broker>',
      'rabbitmq (a definitions file) or artemis (broker.xml elements and login files)',
      'rabbitmq',
    )
    .requiredOption(
      '--out <path>',
      'the definitions file (JSON, password hashes only); with --kind artemis, the directory for its three files',
    )
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
