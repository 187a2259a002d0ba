import { describe, expect, it } from 'vitest';
import { LOCALES } from '../../shared/i18n/index.ts';
import { intlFor } from '../i18n/intl.ts';

const broker = (locale: (typeof LOCALES)[number], kind: string) =>
  intlFor(locale).formatMessage(
    { id: 'setup.enrolment.brokerValue' },
    { kind, hosts: 'broker.example:5671', vhost: 'rts-vhost', tls: 'yes', serverName: '' },
  );

describe("the enrolment file's broker, as the user checks it before joining", () => {
  it('names RabbitMQ with its virtual host, and Artemis without one (it has none)', () => {
    expect(broker('en', 'rabbitmq')).toBe('RabbitMQ at broker.example:5671, virtual host rts-vhost, TLS');
    expect(broker('en', 'artemis')).toBe('ActiveMQ Artemis at broker.example:5671, TLS');
  });

  it('does so in every language', () => {
    for (const locale of LOCALES) {
      expect(broker(locale, 'rabbitmq')).toContain('rts-vhost');
      expect(broker(locale, 'artemis')).toContain('ActiveMQ Artemis');
      expect(broker(locale, 'artemis')).not.toContain('rts-vhost');
    }
  });
});
