import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../../shared/api/index.ts';
import type { WorkstationCore } from '../../main/node/index.ts';

/** Dispatches a command to a core as the renderer would, and gives its value or throws its error code and message. */
export async function callCore<C extends CommandChannel>(
  core: WorkstationCore,
  command: C,
  ...input: CommandInput<C> extends undefined ? [] : [CommandInput<C>]
): Promise<CommandOutput<C>> {
  const result = await core.dispatch(command, input[0]);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<C>;
}

/**
 * What the outbox has not yet handed over for good: queued and in flight. `pending` alone excludes what is in flight,
 * and a message in flight when the broker goes comes back to the queue.
 */
export async function unsentCount(core: WorkstationCore): Promise<number> {
  const { pending, inFlight } = await callCore(core, COMMANDS.getOutboxState);
  return pending + inFlight;
}
