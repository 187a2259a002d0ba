/**
 * The only channels that cross the preload bridge. Kept free of schemas so the sandboxed preload stays tiny;
 * `contract.ts` gives each channel its payload schema.
 */
export const COMMANDS = {
  getAppInfo: 'app:get-info',
  getConnectionState: 'connection:get-state',
} as const;

export const EVENTS = {
  connectionStateChanged: 'connection:state-changed',
} as const;

export type CommandChannel = (typeof COMMANDS)[keyof typeof COMMANDS];
export type EventChannel = (typeof EVENTS)[keyof typeof EVENTS];

const commandChannels: ReadonlySet<string> = new Set(Object.values(COMMANDS));
const eventChannels: ReadonlySet<string> = new Set(Object.values(EVENTS));

export function isCommandChannel(value: unknown): value is CommandChannel {
  return typeof value === 'string' && commandChannels.has(value);
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && eventChannels.has(value);
}
