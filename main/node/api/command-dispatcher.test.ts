import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../shared/api/index.ts';
import { CoreError } from '../core-error.ts';
import { VaultUnavailableError } from '../vault/secret-vault.ts';
import { createCommandDispatcher, type CommandHandlers } from './command-dispatcher.ts';

const state = { status: 'online', since: '2026-11-22T10:00:00.000Z', host: 'h:1' } as const;

function dispatcher(overrides: Partial<CommandHandlers> = {}, log: string[] = []) {
  return createCommandDispatcher(
    {
      [COMMANDS.getAppInfo]: async () => ({ productName: 'RTS', version: '1' }),
      [COMMANDS.getConnectionState]: async () => state,
      ...overrides,
    } as CommandHandlers,
    (m) => log.push(m),
  );
}

describe('command dispatcher', () => {
  it('runs the handler and returns its value', async () => {
    expect(await dispatcher()(COMMANDS.getConnectionState, undefined)).toEqual({ ok: true, value: state });
  });

  it('refuses unknown channels before any handler runs', async () => {
    const result = await dispatcher()('fs:read-file', '/etc/passwd');
    expect(result).toMatchObject({ ok: false, error: { code: 'unknown-command', reason: 'unknown-command' } });
  });

  it('refuses input the contract does not allow', async () => {
    const result = await dispatcher()(COMMANDS.getAppInfo, { unexpected: true });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid-request', reason: 'request-invalid' } });
  });

  it('names the first field at fault in the reason, never the value given, and keeps the issues in English', async () => {
    const result = await dispatcher({ [COMMANDS.openCase]: async () => ({}) as never })(COMMANDS.openCase, {
      caseId: 'Jane Doe',
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'invalid-request',
        reason: 'request-invalid',
        params: { field: 'caseId', issues: 1 },
        message: expect.stringMatching(/^Invalid request for cases:open: caseId: /),
        retryable: false,
      },
    });
    expect(JSON.stringify((result as { error: { params: unknown } }).error.params)).not.toContain('Jane');
  });

  it('strips fields outside the contract from outputs', async () => {
    const leaky = dispatcher({
      [COMMANDS.getAppInfo]: async () => ({ productName: 'RTS', version: '1', secret: 'x' }) as never,
    });
    expect(await leaky(COMMANDS.getAppInfo, undefined)).toEqual({
      ok: true,
      value: { productName: 'RTS', version: '1' },
    });
  });

  it('turns a failing handler into an error value, logging its class but not its message', async () => {
    const log: string[] = [];
    const failing = dispatcher(
      {
        [COMMANDS.getAppInfo]: async () => {
          throw new TypeError('patient Jane Doe');
        },
      },
      log,
    );
    const result = await failing(COMMANDS.getAppInfo, undefined);
    expect(result).toMatchObject({ ok: false, error: { code: 'internal', retryable: true } });
    expect(JSON.stringify(result)).not.toContain('Jane');
    expect(log).toEqual([
      expect.stringMatching(/^command app:get-info failed: TypeError at command-dispatcher\.test\.ts:\d+$/),
    ]);
  });

  it('takes the place from the stack frames, never from a message that looks like one', async () => {
    const log: string[] = [];
    const failing = dispatcher(
      {
        [COMMANDS.getAppInfo]: async () => {
          throw new Error('quoted:\n    at patient-jane-doe.ts:12:3');
        },
      },
      log,
    );
    await failing(COMMANDS.getAppInfo, undefined);
    expect(log).toEqual([
      expect.stringMatching(/^command app:get-info failed: Error at command-dispatcher\.test\.ts:\d+$/),
    ]);
  });

  it('explains a missing keychain with its remedy', async () => {
    const noKeychain = dispatcher({
      [COMMANDS.getConnectionState]: async () => {
        throw new VaultUnavailableError('The OS keychain is not available: x', 'Start gnome-keyring.');
      },
    });
    const result = await noKeychain(COMMANDS.getConnectionState, undefined);
    expect(result).toMatchObject({
      ok: false,
      error: {
        code: 'keychain-unavailable',
        reason: 'keychain-unavailable',
        message: expect.stringContaining('Start gnome-keyring.'),
      },
    });
  });

  it('passes a refusal the user can act on with its own code, reason and words', async () => {
    const result = await dispatcher({
      [COMMANDS.getAppInfo]: async () => {
        throw new CoreError('locked', 'workstation-locked', 'The workstation is locked.');
      },
    })(COMMANDS.getAppInfo, undefined);
    expect(result).toEqual({
      ok: false,
      error: { code: 'locked', reason: 'workstation-locked', message: 'The workstation is locked.', retryable: false },
    });
  });

  it("passes a reason's params and retryable on", async () => {
    const result = await dispatcher({
      [COMMANDS.getAppInfo]: async () => {
        throw new CoreError(
          'too-many-attempts',
          'passphrase-wait',
          'Too many wrong passphrases. Try again in 30 seconds.',
          {
            params: { seconds: 30 },
            retryable: true,
          },
        );
      },
    })(COMMANDS.getAppInfo, undefined);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'too-many-attempts', reason: 'passphrase-wait', params: { seconds: 30 }, retryable: true },
    });
  });
});
