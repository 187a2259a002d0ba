import rhea from 'rhea';
import { describe, expect, it } from 'vitest';
import { encodeHeader, MessageDecodeError, parseMessage } from './amqp-sections.ts';

const encode = (message: Record<string, unknown>) => rhea.message.encode(message);

describe('message sections', () => {
  it('takes the header apart and keeps everything after it as sent', () => {
    const bytes = encode({
      durable: true,
      priority: 7,
      ttl: 600_000,
      message_annotations: { 'x-opt-a': 'b' },
      message_id: 'm1',
      user_id: Buffer.from('clinic-a'),
      subject: 'subj',
      application_properties: { rtsType: 'receipt', n: 3 },
      body: rhea.message.data_section(Buffer.from([1, 2, 3])),
    });
    const parsed = parseMessage(bytes);
    expect(parsed).toMatchObject({
      durable: true,
      priority: 7,
      ttl: 600_000,
      hasDeliveryAnnotations: false,
      subject: 'subj',
    });
    expect(parsed.userId?.toString()).toBe('clinic-a');
    const headerLength = bytes.length - parsed.tail.length;
    expect(bytes.subarray(headerLength).equals(parsed.tail)).toBe(true);
    expect(rhea.message.decode(parsed.tail)).toMatchObject({
      message_id: 'm1',
      message_annotations: { 'x-opt-a': 'b' },
      application_properties: { rtsType: 'receipt', n: 3 },
    });
  });

  it('notices delivery annotations, and reads a message without a header as not durable', () => {
    expect(parseMessage(encode({ delivery_annotations: { 'x-opt-d': 1 }, body: 'x' })).hasDeliveryAnnotations).toBe(
      true,
    );
    const bare = parseMessage(encode({ message_id: 'm', body: 'x' }));
    expect(bare).toMatchObject({ durable: false, hasDeliveryAnnotations: false });
    expect(bare.priority).toBeUndefined();
  });

  it('refuses what is not a message', () => {
    expect(() => parseMessage(Buffer.from([0x00, 0x53, 0x70, 0xff]))).toThrow(MessageDecodeError);
    expect(() => parseMessage(Buffer.from('hello'))).toThrow(MessageDecodeError);
  });

  it('writes the header as RabbitMQ 3.10 does (bytes measured from it), delivery-count left unset', () => {
    expect(encodeHeader({ durable: true, priority: 7, ttl: 600_000, firstAcquirer: true }).toString('hex')).toBe(
      '005370c00b0541500770000927c04140',
    );
    expect(encodeHeader({ durable: true, priority: 7, ttl: 600_000, firstAcquirer: false }).toString('hex')).toBe(
      '005370c00b0541500770000927c04240',
    );
    expect(rhea.message.decode(encodeHeader({ durable: false, firstAcquirer: false }))).toMatchObject({
      durable: false,
      first_acquirer: false,
    });
  });
});
