#!/usr/bin/env node
// rts: the administrator's and tester's command line. One file per command group (pki-commands.ts, …).
import { Command, CommanderError } from 'commander';
import { registerBrokerCommands } from './broker-commands.ts';
import { describeFailure, EXIT_CODES } from './cli-error.ts';
import { registerCmsCommands } from './cms-commands.ts';
import { registerConnectorCommands } from './connector-commands.ts';
import { registerHubCommands } from './hub-commands.ts';
import { registerPkiCommands } from './pki-commands.ts';
import { registerRegionCommands } from './region-commands.ts';
import { registerWorkstationCommands } from './workstation-commands.ts';

const program = new Command('rts')
  .description(
    'RTS Workstation: regional PKI, CMS envelope, hub operation, broker topology, workstation checks and test tooling',
  )
  // Set before the groups are added, so that subcommands inherit them: commander then throws instead of exiting, and
  // prints nothing itself, so that every error becomes the single "rts: <code>: <message>" line.
  .exitOverride()
  .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

registerPkiCommands(program);
registerCmsCommands(program);
registerHubCommands(program);
registerBrokerCommands(program);
registerRegionCommands(program);
registerWorkstationCommands(program);
registerConnectorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError && error.exitCode === EXIT_CODES.ok) {
    process.exitCode = EXIT_CODES.ok; // --help
  } else {
    const failure = describeFailure(error);
    process.stderr.write(`${failure.line}\n`);
    process.exitCode = failure.exitCode;
  }
}
