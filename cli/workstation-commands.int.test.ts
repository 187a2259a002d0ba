import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditSealFromVault,
  openAuditLog,
  openWorkstationSettings,
  openWorkstationStore,
  createKeychainVault,
} from '../main/node/index.ts';

const CLI = join(import.meta.dirname, 'rts.ts');
const rts = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('rts workstation audit', () => {
  it('passes an intact log and names the first entry changed behind its back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-cli-ws-'));
    const service = `rts-cli-test-${randomUUID()}`;
    const db = await openWorkstationStore({
      dir,
      vault: createKeychainVault(service),
      settings: openWorkstationSettings(dir),
    });
    const log = openAuditLog(db, await auditSealFromVault(createKeychainVault(service)));
    for (const action of ['case-opened', 'decrypted', 'signed', 'exported'] as const)
      log.append({ actor: 'clinic-a.dr-ahmed', action, subject: 'case:1' });
    await log.flush();
    db.close();

    const intact = await rts('workstation', 'audit', '--data-dir', dir, '--keychain-service', service);
    expect(intact).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^audit log intact: 4 entries, head [0-9a-f]{64}\n$/),
    });

    // The newest entry cut off: the rest is a whole chain, but the keychain recorded four.
    const cut = await openWorkstationStore({
      dir,
      vault: createKeychainVault(service),
      settings: openWorkstationSettings(dir),
    });
    cut.prepare('delete from audit_log where seq = 4').run();
    cut.close();
    const truncated = await rts('workstation', 'audit', '--data-dir', dir, '--keychain-service', service);
    expect(truncated).toMatchObject({
      status: 1,
      stderr:
        'rts: audit-broken: entry 4 is missing: the keychain recorded 4 entries, the log ends after 3 (entries were cut off) (3 entries read)\n',
    });

    const again = await openWorkstationStore({
      dir,
      vault: createKeychainVault(service),
      settings: openWorkstationSettings(dir),
    });
    again.prepare("update audit_log set action = 'exported' where seq = 2").run();
    again.close();
    const broken = await rts('workstation', 'audit', '--data-dir', dir, '--keychain-service', service);
    expect(broken).toMatchObject({
      status: 1,
      stderr:
        'rts: audit-broken: entry 2 was changed after it was written (its MAC does not verify under the keychain key) (2 entries read)\n',
    });

    const elsewhere = await rts('workstation', 'audit', '--data-dir', dir, '--keychain-service', `${service}-other`);
    expect(elsewhere.stderr).toMatch(/^rts: store-unavailable: The OS keychain does not hold the key/);
  });
});
