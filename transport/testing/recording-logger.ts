import type { LogFields, Logger } from '../../shared/index.ts';

/** Keeps what is logged, to compare. */
export function recordingLogger() {
  const lines: { level: string; code: string; fields: LogFields }[] = [];
  const at =
    (level: string) =>
    (code: string, fields: LogFields = {}) =>
      void lines.push({ level, code, fields });
  const logger: Logger = { info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}
