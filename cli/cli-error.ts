import { CommanderError } from 'commander';
import { isCmsError } from '../shared/cms/index.ts';
import { isPkiError } from '../shared/pki/index.ts';

/** Codes of failures the CLI itself detects; library errors keep their own codes (pki-…). */
export const CLI_ERROR_CODES = {
  usage: 'usage',
  notFound: 'not-found',
  dirNotEmpty: 'dir-not-empty',
  unknownIdentity: 'unknown-identity',
  badManifest: 'bad-manifest',
  noCertificate: 'no-certificate',
  noRequest: 'no-request',
  /** A file the command would replace, e.g. a private key; --force replaces it. */
  fileExists: 'file-exists',
  io: 'io-error',
  /** The hub's operator API could not be reached, or answered with an error. */
  hubUnreachable: 'hub-unreachable',
  hub: 'hub-error',
  /** The broker's management API could not be reached, or refused a request (rts region sync-broker). */
  brokerUnreachable: 'broker-unreachable',
  broker: 'broker-error',
  /** A workstation's store cannot be opened (keychain missing or changed). */
  storeUnavailable: 'store-unavailable',
  /** An enrolment file that does not verify against the trusted region CA, or cannot be read. */
  enrolmentRefused: 'enrolment-refused',
  /** A region administration step that the region's state does not allow, e.g. adding back a removed endpoint. */
  regionRefused: 'region-refused',
  /** The audit log's hash chain is broken: an entry was changed, removed or inserted. */
  auditBroken: 'audit-broken',
  /** The clinic connector's API could not be reached, refused the request, or the hub refused what it sent. */
  connectorUnreachable: 'connector-unreachable',
  connector: 'connector-error',
  internal: 'internal',
} as const;

export type CliErrorCode = (typeof CLI_ERROR_CODES)[keyof typeof CLI_ERROR_CODES];

export const EXIT_CODES = { ok: 0, failure: 1, usage: 2 } as const;

export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

export function usageError(message: string): CliError {
  return new CliError(CLI_ERROR_CODES.usage, message);
}

/** The one stderr line and the exit code for anything a command threw. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  const line = (code: string, message: string) => `rts: ${code}: ${message.replace(/\s*\n\s*/g, ' ')}`;
  if (error instanceof CommanderError) {
    // Help for a group without its subcommand goes nowhere (see rts.ts); say what is missing instead.
    const message =
      error.code === 'commander.help'
        ? 'a command is missing or unknown; see --help'
        : error.message.replace(/^error: /, '');
    return { line: line(CLI_ERROR_CODES.usage, message), exitCode: EXIT_CODES.usage };
  }
  if (error instanceof CliError) {
    const exitCode = error.code === CLI_ERROR_CODES.usage ? EXIT_CODES.usage : EXIT_CODES.failure;
    return { line: line(error.code, error.message), exitCode };
  }
  if (isPkiError(error) || isCmsError(error))
    return { line: line(error.code, error.message), exitCode: EXIT_CODES.failure };
  const message = error instanceof Error ? error.message : String(error);
  return { line: line(CLI_ERROR_CODES.internal, message), exitCode: EXIT_CODES.failure };
}
