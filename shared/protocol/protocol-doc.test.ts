import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import rhea from 'rhea';
import { describe, expect, it } from 'vitest';
import { bodyBytes, toRheaMessage } from '../../transport/index.ts';
import { ENROLMENT_FILE_EXTENSION, ENROLMENT_FORMAT, ENROLMENT_SIGNER_COMMON_NAME } from '../enrolment/enrolment.ts';
import { vhostHostname } from '../broker/rabbitmq-names.ts';
import type { VectorMessage } from './conformance.ts';
import { CONSULT_STATUS_UPDATES } from './consult-status.ts';
import { decodeMessage } from './message-codec.ts';
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

  it('lists in §9 the enrolment file, its signer and what it carries, the hub certificate among it', () => {
    const joining = doc.slice(doc.indexOf('## 9. Joining from another language'));
    for (const text of [
      ENROLMENT_FILE_EXTENSION,
      ENROLMENT_FORMAT,
      `CN=${ENROLMENT_SIGNER_COMMON_NAME}`,
      'hubCertificatePem',
      "**hub's certificate**",
      'caCertificatePem',
      'crlPem',
      'tlsCaPem',
    ]) {
      expect(joining).toContain(text);
    }
  });

  it('tells the open-frame hostname apart from the TLS server name', () => {
    const hostname = vhostHostname();
    for (const setting of [`hostname: '${hostname}'`, `virtual_host='${hostname}'`, `amqp.vhost=${hostname}`])
      expect(doc).toContain(setting);
    expect(doc).toContain(
      "The open-frame `hostname` selects the broker's virtual host; it is **not** the TLS server name.",
    );
  });
});

/** The AMQP type of an application property as encoded on the wire (the byte after its key), by family. */
function encodedTypeOf(encoded: Buffer, name: string): string {
  const key = Buffer.concat([Buffer.from([0xa1, name.length]), Buffer.from(name, 'utf8')]);
  const at = encoded.indexOf(key);
  expect(at).toBeGreaterThanOrEqual(0);
  const code = encoded[at + key.length]!;
  const families: Record<number, string> = {
    0x43: 'uint',
    0x52: 'uint',
    0x70: 'uint',
    0x54: 'int',
    0x71: 'int',
    0x55: 'long',
    0x81: 'long',
  };
  return families[code] ?? `0x${code.toString(16)}`;
}

describe('docs/protocol.md appendix A.2: the AMQP types of integer properties', () => {
  const vector = (dir: string) =>
    JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'conformance', dir, 'message.json'), 'utf8'),
    ) as VectorMessage;

  it('are what our senders write: long, whatever the value', () => {
    expect(doc).toContain('writes every integer property as **`long`**');
    const encoded = rhea.message.encode(
      toRheaMessage({
        properties: {
          message_id: '00000000-0000-4000-8000-000000000042',
          user_id: 'rts-hub',
          creation_time: 0,
          content_type: 'application/pkcs7-mime',
          application_properties: {
            rtsSequence: 1,
            rtsBatchCount: 300,
            rtsDirectoryVersion: 0,
            rtsDirectoryBaseVersion: 0,
          },
        },
        body: new Uint8Array([1]),
      }),
    );
    expect(
      ['rtsSequence', 'rtsBatchCount', 'rtsDirectoryVersion', 'rtsDirectoryBaseVersion'].map((name) =>
        encodedTypeOf(encoded, name),
      ),
    ).toEqual(['long', 'long', 'long', 'long']);
  });

  const wrappers = {
    int: (n: number) => rhea.types.wrap_int(n),
    long: (n: number) => rhea.types.wrap_long(n),
    uint: (n: number) => rhea.types.wrap_uint(n),
    ulong: (n: number) => rhea.types.wrap_ulong(n),
    ushort: (n: number) => rhea.types.wrap_ushort(n),
  };
  it.each(Object.entries(wrappers))('the reference receiver reads rtsSequence sent as %s', (_type, wrap) => {
    const message = vector('messages/07-consult-request');
    const sent = {
      ...message,
      user_id: Buffer.from(message.user_id),
      creation_time: new Date(message.creation_time),
      application_properties: { ...message.application_properties, rtsSequence: wrap(1) },
      body: rhea.message.data_section(Buffer.from([0x30, 0x00])),
    };
    const received = rhea.message.decode(rhea.message.encode(sent));
    const decoded = decodeMessage(
      { ...received, body: bodyBytes(received.body) },
      { now: new Date(message.creation_time) },
    );
    expect(decoded.ok ? decoded.value.metadata.properties : decoded.error).toMatchObject({ rtsSequence: 1 });
  });

  it('the reference receiver refuses an integer property that is not a whole number', () => {
    const message = vector('messages/07-consult-request');
    const decoded = decodeMessage(
      {
        ...message,
        user_id: new TextEncoder().encode(message.user_id),
        creation_time: new Date(message.creation_time),
        application_properties: { ...message.application_properties, rtsSequence: 1.5 },
        body: new Uint8Array([0x30, 0x00]),
      },
      { now: new Date(message.creation_time) },
    );
    expect(decoded.ok ? 'accepted' : decoded.error.code).toBe('malformed-properties');
  });
});
