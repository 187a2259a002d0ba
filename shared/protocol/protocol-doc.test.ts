import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSULT_STATUS_UPDATES } from './consult-status.ts';
import { PROTOCOL_LIMITS } from './limits.ts';
import { MESSAGE_TYPES, MESSAGE_TYPE_SPECS } from './message-types.ts';
import { PROTOCOL_VERSION } from './protocol-version.ts';
import { REASON_CODES, REASON_DESCRIPTIONS, failureClass } from './reason-codes.ts';

/** docs/protocol.md is written by hand: these checks keep it saying what the code does. */
const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

describe('docs/protocol.md', () => {
  it('states the protocol version', () => {
    expect(doc).toContain(`# RTS protocol, version ${PROTOCOL_VERSION}`);
  });

  it.each(Object.values(REASON_CODES))('lists reason code %s with its class and description', (code) => {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row?.replaceAll('`', '')).toBe(`| ${code} | ${failureClass(code)} | ${REASON_DESCRIPTIONS[code]} |`);
  });

  it.each(Object.values(MESSAGE_TYPES))('describes message type %s with its envelope', (type) => {
    expect(doc).toMatch(new RegExp(`\\| \`${type.replace('.', '\\.')}\` \\| ${MESSAGE_TYPE_SPECS[type].envelope} \\|`));
  });

  it.each(CONSULT_STATUS_UPDATES)('explains consult status %s', (status) => {
    expect(doc).toContain(`| \`${status}\` |`);
  });

  it('gives the size limits the code enforces', () => {
    expect(doc).toContain(`| AMQP body (the CMS message) | ${PROTOCOL_LIMITS.maxBodyBytes / 1024 / 1024} MiB |`);
    expect(doc).toContain(`| decrypted FHIR payload | ${PROTOCOL_LIMITS.maxPayloadBytes / 1024 / 1024} MiB |`);
    expect(doc).toContain(`${PROTOCOL_LIMITS.deduplicationWindowDays} days`);
  });
});
