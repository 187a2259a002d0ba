import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonLinesLogger, openJsonLinesLogFile } from './json-lines-logger.ts';

describe('JSON-lines logger', () => {
  it('writes one object per line with time, level and event code, which a field cannot override', () => {
    const lines: string[] = [];
    const logger = createJsonLinesLogger(
      (line) => lines.push(line),
      () => new Date('2026-01-02T03:04:05Z'),
    );
    logger.warn('inbox.handler-failed', { messageId: 'm1', event: 'forged', attempts: 2 });
    logger.info('broker.stopped');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { messageId: 'm1', attempts: 2, at: '2026-01-02T03:04:05.000Z', level: 'warn', event: 'inbox.handler-failed' },
      { at: '2026-01-02T03:04:05.000Z', level: 'info', event: 'broker.stopped' },
    ]);
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
  });

  it('appends to a file in a folder it makes, and drops what is logged after close()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-log-'));
    try {
      const path = join(dir, 'logs', 'workstation.jsonl');
      for (const code of ['first', 'second']) {
        const file = openJsonLinesLogFile(path);
        file.info(code);
        await file.close();
        file.info('after-close');
      }
      expect(
        readFileSync(path, 'utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { event: string }).event),
      ).toEqual(['first', 'second']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
