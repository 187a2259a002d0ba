import type { Command } from 'commander';
import {
  auditSealFromVault,
  openAuditLog,
  openWorkstationSettings,
  KeychainChangedError,
  openWorkstationStore,
  createKeychainVault,
  DEFAULT_VAULT_SERVICE,
  VaultUnavailableError,
} from '../main/node/index.ts';
import { CLI_ERROR_CODES, CliError } from './cli-error.ts';
import { printJson, printLines } from './output.ts';

/**
 * `rts workstation …`: checks a clinic administrator runs on a workstation's data, with the store key from the same
 * OS keychain the app uses (so it runs as the workstation's user, in their desktop session).
 */
export function registerWorkstationCommands(program: Command): void {
  const workstation = program.command('workstation').description("check a workstation's local data");
  workstation
    .command('audit')
    .description(
      'verify the audit log: its HMAC chain under the keychain key and the newest entry the keychain recorded; exits 1 and names the first bad entry if anything was changed, removed, inserted or cut off',
    )
    .requiredOption('--data-dir <dir>', "the workstation's data directory (settings.json and workstation.db)")
    .option('--keychain-service <name>', 'keychain service the app stores its secrets under', DEFAULT_VAULT_SERVICE)
    .option('--json', 'print JSON')
    .action(async (options: { dataDir: string; keychainService: string; json?: true }) => {
      const vault = createKeychainVault(options.keychainService);
      let db;
      try {
        db = await openWorkstationStore({
          dir: options.dataDir,
          vault,
          settings: openWorkstationSettings(options.dataDir),
        });
      } catch (error) {
        if (error instanceof VaultUnavailableError || error instanceof KeychainChangedError)
          throw new CliError(CLI_ERROR_CODES.storeUnavailable, `${error.message}. ${error.hint}`);
        throw error;
      }
      try {
        const result = await openAuditLog(db, await auditSealFromVault(vault)).check();
        if (options.json) printJson(result);
        else if (result.ok) printLines([`audit log intact: ${result.entries} entries, head ${result.head}`]);
        if (!result.ok)
          throw new CliError(
            CLI_ERROR_CODES.auditBroken,
            `entry ${result.firstBadSeq} ${result.problem} (${result.entries} entries read)`,
          );
      } finally {
        db.close();
      }
    });
}
