import {
  isCommandChannel,
  commandContract,
  API_ERROR_CODES,
  apiError,
  err,
  ok,
  type CommandChannel,
  type CoreCommandChannel,
  type CommandOutput,
  type Result,
} from '../../../shared/api/index.ts';
import type { z } from 'zod';
import { CoreError } from '../core-error.ts';
import { VaultUnavailableError } from '../vault/secret-vault.ts';

type ParsedInput<C extends CommandChannel> = z.output<(typeof commandContract)[C]['input']>;

/** One handler for each channel of a set: the core's by default (the host answers the region commands). */
export type CommandHandlers<Channels extends CommandChannel = CoreCommandChannel> = {
  readonly [C in Channels]: (input: ParsedInput<C>) => Promise<CommandOutput<C>>;
};

export type CommandDispatcher = (channel: unknown, input: unknown) => Promise<Result<unknown>>;

/**
 * The file and line of the first stack frame, e.g. " at keychain-vault.ts:70": enough to find the cause, no data. Only
 * the frames are read, after V8's "name: message" header, which may quote anything.
 */
function thrownAt(error: Error): string {
  const header = error.message ? `${error.name}: ${error.message}` : error.name;
  const stack = error.stack ?? '';
  if (!stack.startsWith(header)) return '';
  for (const line of stack.slice(header.length).split('\n')) {
    const frame = /^\s+at .*?([\w.-]+\.[cm]?[jt]s):(\d+):\d+\)?$/.exec(line);
    if (frame) return ` at ${frame[1]}:${frame[2]}`;
  }
  return '';
}

/**
 * The one entry for every command from the renderer, whatever carries it (Electron IPC, or the browser test
 * harness): unknown channels and invalid input are refused before any handler runs, outputs are re-parsed so that no
 * field outside the contract crosses the bridge, and exceptions become error values.
 */
export function createCommandDispatcher<Channels extends CommandChannel>(
  handlers: CommandHandlers<Channels>,
  log: (message: string) => void = (m) => console.error(m),
): CommandDispatcher {
  return async (channel, input) => {
    if (!isCommandChannel(channel) || !Object.hasOwn(handlers, channel)) {
      return err(
        apiError(
          API_ERROR_CODES.unknownCommand,
          'unknown-command',
          `Unknown command ${JSON.stringify(String(channel))}.`,
        ),
      );
    }
    const contract = commandContract[channel];
    const parsed = contract.input.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
      // The first field at fault names what to correct: a field's path, never its value.
      const field = parsed.error.issues[0]?.path.join('.') || 'input';
      return err(
        apiError(API_ERROR_CODES.invalidRequest, 'request-invalid', `Invalid request for ${channel}: ${issues}`, {
          params: { field, issues: parsed.error.issues.length },
        }),
      );
    }
    try {
      const handler = handlers[channel as Channels] as (input: unknown) => Promise<unknown>;
      return ok(contract.output.parse(await handler(parsed.data)));
    } catch (error) {
      if (error instanceof CoreError) {
        const { code, reason, params, message, retryable } = error;
        return err(apiError(code, reason, message, { ...(params && { params }), retryable }));
      }
      if (error instanceof VaultUnavailableError) {
        return err(
          apiError(API_ERROR_CODES.keychainUnavailable, error.reason, `${error.message}. ${error.hint}`, {
            retryable: true,
          }),
        );
      }
      // Only the error class and where it was thrown reach the log: messages may quote data.
      log(`command ${channel} failed: ${error instanceof Error ? `${error.name}${thrownAt(error)}` : typeof error}`);
      return err(
        apiError(API_ERROR_CODES.internal, 'internal', 'The workstation could not complete this request.', {
          retryable: true,
        }),
      );
    }
  };
}
