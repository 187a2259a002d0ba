import { z } from 'zod';
import { COMMANDS, EVENTS, type CommandChannel, type EventChannel } from './channels.ts';
import { connectionStateSchema } from './connection-state.ts';

/**
 * Payload schemas of every bridge channel. The main process validates each command's input against them before any
 * handler runs; their inferred types are what the renderer sees.
 */
const noInput = z.undefined();

export const appInfoSchema = z.object({
  productName: z.string(),
  version: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const commandContract = {
  [COMMANDS.getAppInfo]: { input: noInput, output: appInfoSchema },
  [COMMANDS.getConnectionState]: { input: noInput, output: connectionStateSchema },
} as const satisfies Record<CommandChannel, { input: z.ZodType; output: z.ZodType }>;

export const eventContract = {
  [EVENTS.connectionStateChanged]: connectionStateSchema,
} as const satisfies Record<EventChannel, z.ZodType>;

export type CommandInput<C extends CommandChannel> = z.input<(typeof commandContract)[C]['input']>;
export type CommandOutput<C extends CommandChannel> = z.output<(typeof commandContract)[C]['output']>;
export type EventPayload<E extends EventChannel> = z.output<(typeof eventContract)[E]>;
