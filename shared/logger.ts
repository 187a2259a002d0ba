/**
 * What the transport and the workstation core log, and nothing else: an event code (`inbox.handler-failed`) with ids,
 * counts, states and error codes. Never a payload, a message body, an error's message, a name or anything of a
 * patient: a log file leaves the encrypted store and the audit log's care. The hub's JSON lines are the model; the
 * JSON-lines writer for Node is shared-node/json-lines-logger.ts, and a component given no logger logs nothing.
 */

/** Ids, counts, states and codes only (see above). */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export interface Logger {
  /** Something worth knowing happened (connected, a message given up as the protocol says). */
  info(code: string, fields?: LogFields): void;
  /** Something failed that is retried or healed by itself (a handler threw, a commit failed, a link dropped). */
  warn(code: string, fields?: LogFields): void;
  /** Something failed that needs someone to look. */
  error(code: string, fields?: LogFields): void;
}

export const NO_LOGGER: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * An error as a code fit for the log: an AMQP condition, a Node or SQLite code, a CMS error code, else the error's
 * class name. Never its message, which may quote what it failed on.
 */
export function errorCodeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { condition, code, name } = error as Record<string, unknown>;
    if (typeof condition === 'string') return condition;
    if (typeof code === 'string') return code;
    if (typeof name === 'string') return name;
  }
  return typeof error;
}
