import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, decodeMessage, encodeMessage, type AmqpMessageFields } from './message-codec.ts';
import { PROTOCOL_VERSION } from './protocol-version.ts';
import { REASON_CODES } from './reason-codes.ts';

const now = new Date('2026-11-20T10:00:00.000Z');
const body = new Uint8Array([0x30, 0x80]);

function valid(): AmqpMessageFields & { application_properties: Record<string, unknown> } {
  return {
    message_id: '00000000-0000-4000-8000-000000000001',
    user_id: new TextEncoder().encode('ws-applicant-1'),
    creation_time: now,
    content_type: CONTENT_TYPES.authEnveloped,
    durable: true,
    application_properties: {
      rtsType: 'consult.request',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: 'ws-applicant-1',
      rtsCase: '6f1c0d52-2a7e-4c61-9b1e-3f5d2a8c7e01',
      rtsFromPractitioner: 'clinic-a.dr-rahman',
      rtsToPractitioner: 'clinic-b.dr-okafor',
      rtsSequence: 1,
    },
    body,
  };
}

describe('AMQP message codec', () => {
  it('decodes a valid message into typed metadata', () => {
    const result = decodeMessage(valid(), { now });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.metadata).toMatchObject({
      messageId: '00000000-0000-4000-8000-000000000001',
      userId: 'ws-applicant-1',
      properties: { rtsType: 'consult.request', rtsSequence: 1 },
    });
    expect(result.value.body).toBe(body);
  });

  it('round-trips through encodeMessage', () => {
    const v = valid();
    const encoded = encodeMessage({
      messageId: v.message_id as string,
      creationTime: now,
      userId: 'ws-applicant-1',
      contentType: CONTENT_TYPES.authEnveloped,
      properties: v.application_properties as never,
      body,
    });
    expect(decodeMessage(encoded, { now })).toMatchObject({ ok: true });
  });

  it('refuses AES-CBC EnvelopedData (cms-unsupported-algorithm, since 2.0) and a signed-only body for a patient-data type', () => {
    expect(decodeMessage({ ...valid(), content_type: CONTENT_TYPES.enveloped }, { now })).toMatchObject({
      ok: false,
      error: { code: 'cms-unsupported-algorithm' },
    });
    expect(decodeMessage({ ...valid(), content_type: CONTENT_TYPES.signed }, { now })).toMatchObject({
      ok: false,
      error: { code: 'malformed-properties' },
    });
  });

  const props = (change: Record<string, unknown>) => ({
    ...valid(),
    application_properties: { ...valid().application_properties, ...change },
  });
  it.each<[string, AmqpMessageFields, string]>([
    ['body not binary', { ...valid(), body: 'text' }, REASON_CODES.malformedProperties],
    ['oversized body', { ...valid(), body: new Uint8Array(32 * 1024 * 1024 + 1) }, REASON_CODES.tooLarge],
    ['no message_id', { ...valid(), message_id: undefined }, REASON_CODES.missingProperty],
    ['message_id not a UUID', { ...valid(), message_id: 'abc' }, REASON_CODES.malformedProperties],
    ['no creation_time', { ...valid(), creation_time: undefined }, REASON_CODES.missingProperty],
    ['creation_time not a timestamp', { ...valid(), creation_time: 'yesterday' }, REASON_CODES.malformedProperties],
    ['not durable', { ...valid(), durable: false }, REASON_CODES.malformedProperties],
    ['no content_type', { ...valid(), content_type: undefined }, REASON_CODES.missingProperty],
    ['no application properties', { ...valid(), application_properties: undefined }, REASON_CODES.missingProperty],
    ['no rtsType', props({ rtsType: undefined }), REASON_CODES.missingProperty],
    ['unknown rtsType', props({ rtsType: 'consult.gossip' }), REASON_CODES.unknownType],
    [
      'unsupported version (the previous major: 2.0 changed the envelope binding)',
      props({ rtsVersion: '1.0' }),
      REASON_CODES.unsupportedVersion,
    ],
    ['unsupported version (a later major)', props({ rtsVersion: '3.0' }), REASON_CODES.unsupportedVersion],
    [
      'unsupported version (a later major, three digits)',
      props({ rtsVersion: '300.1' }),
      REASON_CODES.unsupportedVersion,
    ],
    ['malformed version (not a number)', props({ rtsVersion: 'abc' }), REASON_CODES.malformedProperties],
    ['malformed version (major only)', props({ rtsVersion: '2' }), REASON_CODES.malformedProperties],
    ['malformed version (four parts)', props({ rtsVersion: '2.0.0.1' }), REASON_CODES.malformedProperties],
    ['malformed version (empty)', props({ rtsVersion: '' }), REASON_CODES.malformedProperties],
    ['malformed version (a number, not a string)', props({ rtsVersion: 2 }), REASON_CODES.malformedProperties],
    ['missing case id', props({ rtsCase: undefined }), REASON_CODES.missingProperty],
    ['malformed sender', props({ rtsSender: 'WS 1' }), REASON_CODES.malformedProperties],
    ['sequence not a number', props({ rtsSequence: '1' }), REASON_CODES.malformedProperties],
    ['too old (replay)', { ...valid(), creation_time: new Date(now.getTime() - 31 * 86_400_000) }, REASON_CODES.replay],
    ['from the future', { ...valid(), creation_time: new Date(now.getTime() + 10 * 60_000) }, REASON_CODES.replay],
  ])('rejects %s', (_name, message, code) => {
    expect(decodeMessage(message, { now })).toMatchObject({ ok: false, error: { code } });
  });

  it('accepts a newer minor version and ignores unknown properties', () => {
    expect(decodeMessage(props({ rtsVersion: '2.7', rtsFutureHint: 'x' }), { now }).ok).toBe(true);
  });

  it('refuses to encode what it would reject', () => {
    expect(() =>
      encodeMessage({
        messageId: 'not-a-uuid',
        creationTime: now,
        userId: 'x',
        contentType: CONTENT_TYPES.signed,
        properties: { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: 'ws-1' },
        body,
      }),
    ).toThrow(/message_id/);
  });
});
