import { describe, expect, it } from 'vitest';
import { createBrokerConnection, reconnectDelay } from './broker-connection.ts';

describe('reconnect delay', () => {
  it('grows exponentially up to the maximum', () => {
    const top = (attempt: number) => reconnectDelay(attempt, 500, 30_000, () => 1);
    expect([1, 2, 3, 4].map(top)).toEqual([500, 1000, 2000, 4000]);
    expect(top(20)).toBe(30_000);
  });

  it('spreads retries with jitter, never below half the initial delay', () => {
    expect(reconnectDelay(5, 500, 30_000, () => 0)).toBe(250);
    const samples = Array.from({ length: 200 }, () => reconnectDelay(6, 500, 30_000));
    expect(new Set(samples).size).toBeGreaterThan(100);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...samples)).toBeLessThanOrEqual(16_000);
  });
});

describe('transport security', () => {
  const options = { vhost: 'rts', username: 'ws-1', password: async () => 'pw' };
  it('refuses plain AMQP to a host that is not this computer, and allows it on loopback or with TLS', () => {
    expect(() =>
      createBrokerConnection({
        ...options,
        hosts: [
          { host: '127.0.0.1', port: 5672 },
          { host: 'broker.example', port: 5672 },
        ],
      }),
    ).toThrow('plain AMQP (no TLS) to broker.example is refused');
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]'])
      expect(createBrokerConnection({ ...options, hosts: [{ host, port: 5672 }] }).state.status).toBe('offline');
    expect(
      createBrokerConnection({ ...options, hosts: [{ host: 'broker.example', port: 5671 }], tls: { ca: 'PEM' } }).state
        .status,
    ).toBe('offline');
  });
});

describe('state events', () => {
  it('tells each listener until it unsubscribes, and "stopped" last', async () => {
    // Nothing listens on port 1: the connection fails at once and waits a minute before retrying.
    const connection = createBrokerConnection({
      hosts: [{ host: '127.0.0.1', port: 1 }],
      vhost: 'rts',
      username: 'ws-1',
      password: async () => 'pw',
      reconnectDelayMs: { initial: 60_000, max: 60_000 },
    });
    const heard: string[] = [];
    const unsubscribed: string[] = [];
    connection.onStateChanged((state) => heard.push(`${state.status} ${state.reason ?? ''}`.trim()));
    const off = connection.onStateChanged((state) => unsubscribed.push(state.status));
    off();
    await connection.start();
    await connection.stop();
    expect(heard.at(-1)).toBe('offline stopped');
    expect(unsubscribed).toEqual([]);
  });
});
