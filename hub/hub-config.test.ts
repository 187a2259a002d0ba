import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubConfigError, loadHubConfig } from './hub-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'rts-hub-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = {
  broker: {
    hosts: [{ host: 'broker.example', port: 5671 }],
    tls: { caFile: 'broker-ca.pem' },
    password: { env: 'HUB_PW' },
    management: { url: 'https://broker.example:15671', username: 'rts-admin', password: { file: 'secrets/admin' } },
  },
  database: { kind: 'embedded', path: 'data' },
  identity: { certificateFile: 'hub.pem', privateKeyFile: 'hub.key' },
  trust: { anchorFiles: ['ca.pem'] },
};

function write(name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('hub configuration', () => {
  it('fills defaults, resolves paths against the file, and reads secrets from the environment or a file', () => {
    const loaded = loadHubConfig(write('hub.json', valid), { HUB_PW: 's3cret' });
    expect(loaded.config.broker).toMatchObject({ vhost: 'rts', username: 'rts-hub', credit: 200 });
    expect(loaded.config.claimMs).toBe(30_000);
    expect(loaded.path('hub.pem')).toBe(join(dir, 'hub.pem'));
    expect(loaded.secret(loaded.config.broker.password)).toBe('s3cret');
    writeFileSync(join(dir, 'admin-secret'), 'admin-pw\n');
    expect(loaded.secret({ file: 'admin-secret' })).toBe('admin-pw');
  });

  it('takes RabbitMQ when no broker kind is named; Artemis is managed over AMQP, without a URL or a delivery limit', () => {
    expect(loadHubConfig(write('kind-default.json', valid)).config.broker.kind).toBe('rabbitmq');
    const { url: _url, ...overAmqp } = valid.broker.management;
    const artemis = { ...valid, broker: { ...valid.broker, kind: 'artemis', management: overAmqp } };
    expect(loadHubConfig(write('artemis.json', artemis)).config.broker.kind).toBe('artemis');
    const withUrl = { ...artemis, broker: { ...artemis.broker, management: valid.broker.management } };
    expect(() => loadHubConfig(write('artemis-url.json', withUrl))).toThrow(
      /broker\.management\.url: Artemis is managed over AMQP on broker\.hosts/,
    );
    const withLimit = { ...artemis, broker: { ...artemis.broker, management: { ...overAmqp, deliveryLimit: 3 } } };
    expect(() => loadHubConfig(write('artemis-limit.json', withLimit))).toThrow(/max-delivery-attempts in broker\.xml/);
    const rabbitWithoutUrl = { ...valid, broker: { ...valid.broker, management: overAmqp } };
    expect(() => loadHubConfig(write('rabbit-no-url.json', rabbitWithoutUrl))).toThrow(/broker\.management\.url/);
    expect(() =>
      loadHubConfig(write('kind-other.json', { ...valid, broker: { ...valid.broker, kind: 'activemq-classic' } })),
    ).toThrow(/broker\.kind/);
  });

  it('refuses a secret written into the file, naming the field', () => {
    const file = write('inline.json', { ...valid, broker: { ...valid.broker, password: 'in-clear' } });
    expect(() => loadHubConfig(file)).toThrow(/broker\.password/);
  });

  it('says which secret is missing', () => {
    const loaded = loadHubConfig(write('hub2.json', valid), {});
    expect(() => loaded.secret(loaded.config.broker.password)).toThrow(
      new HubConfigError('hub configuration: environment variable HUB_PW is not set'),
    );
    expect(() => loaded.secret({ file: 'nowhere' })).toThrow(/cannot read secret file nowhere/);
  });

  it('refuses plain AMQP and plain HTTP to a broker that is not on this computer, in one line naming the field', () => {
    const { tls: _tls, ...withoutTls } = valid.broker;
    const plain = { ...valid, broker: { ...withoutTls, hosts: [{ host: 'broker.example', port: 5672 }] } };
    expect(() => loadHubConfig(write('plain-amqp.json', plain))).toThrow(
      /^hub configuration \S+: broker\.tls: plain AMQP \(no TLS\) to broker\.example is refused: .*set broker\.tls\.caFile to the CA of the broker's certificate$/,
    );
    const http = {
      ...valid,
      broker: { ...valid.broker, management: { ...valid.broker.management, url: 'http://broker.example:15672' } },
    };
    expect(() => loadHubConfig(write('plain-http.json', http))).toThrow(
      /^hub configuration \S+: broker\.management\.url: plain HTTP to broker\.example is refused: .*; use https$/,
    );
    for (const error of [() => loadHubConfig(write('p1.json', plain)), () => loadHubConfig(write('p2.json', http))]) {
      expect(error).toThrow(expect.objectContaining({ message: expect.not.stringContaining('\n') }));
    }
  });

  it("allows plain AMQP and HTTP on loopback (a broker on this computer, or a TLS tunnel's local end)", () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) {
      const { tls: _tls, ...withoutTls } = valid.broker;
      const local = {
        ...valid,
        broker: {
          ...withoutTls,
          hosts: [{ host, port: 5672 }],
          management: { ...valid.broker.management, url: 'http://localhost:15672' },
        },
      };
      expect(loadHubConfig(write('local.json', local)).config.broker.hosts[0]!.host).toBe(host);
    }
  });

  it('refuses unknown keys and unreadable files', () => {
    expect(() => loadHubConfig(write('typo.json', { ...valid, databse: {} }))).toThrow(/databse|Unrecognized key/);
    expect(() => loadHubConfig(join(dir, 'missing.json'))).toThrow(HubConfigError);
  });
});
