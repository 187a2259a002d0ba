import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogFields, Logger } from '../shared/index.ts';

/**
 * A Logger (shared/logger.ts) that writes one JSON object per line, as the hub does: `at`, `level`, `event`, then the
 * fields. Where the lines go is the caller's: a file, stdout or stderr.
 */
export function createJsonLinesLogger(write: (line: string) => void, now: () => Date = () => new Date()): Logger {
  const line =
    (level: 'info' | 'warn' | 'error') =>
    (code: string, fields: LogFields = {}) => {
      write(`${JSON.stringify({ ...fields, at: now().toISOString(), level, event: code })}\n`);
    };
  return { info: line('info'), warn: line('warn'), error: line('error') };
}

export interface JsonLinesLogFile extends Logger {
  /** Writes what is buffered and closes the file; lines logged after it are dropped. */
  close(): Promise<void>;
}

/** JSON lines appended to `path` (its folder is made if missing); a file that cannot be written is reported once on stderr. */
export function openJsonLinesLogFile(path: string): JsonLinesLogFile {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  let failed = false;
  stream.on('error', (error) => {
    if (!failed) console.error(`log file ${path}: ${error.message}`);
    failed = true;
  });
  const logger = createJsonLinesLogger((line) => {
    if (!failed && !stream.closed && !stream.writableEnded) stream.write(line);
  });
  return {
    ...logger,
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.writableEnded) resolve();
        else stream.end(resolve);
      }),
  };
}
