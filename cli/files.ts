import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLI_ERROR_CODES, CliError } from './cli-error.ts';

/** File access that turns Node's errno errors into one-line CLI errors naming the path. */

function fail(path: string, error: unknown): never {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT') {
    throw new CliError(CLI_ERROR_CODES.notFound, `${path}: no such file or directory`, { cause: error });
  }
  throw new CliError(CLI_ERROR_CODES.io, `${path}: ${errno ?? String(error)}`, { cause: error });
}

export function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    fail(path, error);
  }
}

export function readText(path: string): string {
  return new TextDecoder().decode(readBytes(path));
}

/** Write beside, then rename: a crash never leaves a half-written CRL or manifest. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const temporary = join(dirname(path), `.${Date.now()}-${process.pid}.tmp`);
  try {
    writeFileSync(temporary, data, { mode });
    renameSync(temporary, path);
  } catch (error) {
    fail(path, error);
  }
}

/** Creates the directory if needed; true if it already holds anything. */
export function prepareDirectory(path: string): { nonEmpty: boolean } {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new CliError(CLI_ERROR_CODES.io, `${path} exists and is not a directory`);
    }
    mkdirSync(path, { recursive: true });
    return { nonEmpty: readdirSync(path).length > 0 };
  } catch (error) {
    if (error instanceof CliError) throw error;
    fail(path, error);
  }
}
