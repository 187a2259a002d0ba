import type {
  CommandChannel,
  EventChannel,
  CommandInput,
  CommandOutput,
  EventPayload,
  Result,
} from '../shared/api/index.ts';

/** The whole surface the renderer gets, as `window.rts`. */
export interface RtsApi {
  invoke<C extends CommandChannel>(command: C, ...input: InputArgs<C>): Promise<Result<CommandOutput<C>>>;
  /** Returns the function that ends the subscription. */
  on<E extends EventChannel>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** Commands without input are called with the channel alone. */
type InputArgs<C extends CommandChannel> = CommandInput<C> extends undefined ? [] : [input: CommandInput<C>];

/** How a bridge reaches the main process: Electron IPC in the app, a Playwright binding in browser tests. */
export interface BridgeTransport {
  invoke(channel: CommandChannel, input: unknown): Promise<unknown>;
  on(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

export const RTS_API_GLOBAL = 'rts';
