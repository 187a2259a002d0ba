#!/usr/bin/env node
// rts: the administrator's and tester's command line. One file per command group (pki-commands.ts, …).
import { Command, CommanderError } from 'commander';
import { describeFailure, EXIT_CODES } from './cli-error.ts';

const program = new Command('rts')
  .description(
    'RTS Workstation: regional PKI, CMS envelope, hub operation, broker topology, workstation checks and test tooling',
  )
  // Set before the groups are added, so that subcommands inherit them: commander then throws instead of exiting, and
  // prints nothing itself, so that every error becomes the single "rts: <code>: <message>" line.
  .exitOverride()
  .configureOutput({ writeErr: () => undefined, outputError: () => undefined });

type Register = (program: Command) => void;
const pki = async (): Promise<Register> => (await import('./pki-commands.ts')).registerPkiCommands;
const cms = async (): Promise<Register> => (await import('./cms-commands.ts')).registerCmsCommands;
const hub = async (): Promise<Register> => (await import('./hub-commands.ts')).registerHubCommands;
const broker = async (): Promise<Register> => (await import('./broker-commands.ts')).registerBrokerCommands;
const region = async (): Promise<Register> => (await import('./region-commands.ts')).registerRegionCommands;
const workstation = async (): Promise<Register> =>
  (await import('./workstation-commands.ts')).registerWorkstationCommands;
const connector = async (): Promise<Register> => (await import('./connector-commands.ts')).registerConnectorCommands;
/** Every group, in the order help lists them. */
const ALL = [pki, cms, hub, broker, region, workstation, connector];
/** Each top-level command, by the group that adds it. */
const GROUP_OF: Readonly<Record<string, () => Promise<Register>>> = {
  pki,
  cms,
  inspect: cms,
  hub,
  broker,
  region,
  workstation,
  connector,
  clinic: connector,
};
// Only the group of the command given is loaded (`rts region …` starts in 0.5 s instead of 0.9 here); help, and
// anything else, sees every group.
const command = process.argv[2] ?? '';
for (const load of Object.hasOwn(GROUP_OF, command) ? [GROUP_OF[command]!] : ALL) (await load())(program);

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
