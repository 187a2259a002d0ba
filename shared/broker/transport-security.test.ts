import { describe, expect, it } from 'vitest';
import { isLoopbackHost, plainAmqpProblem, plainHttpProblem } from './transport-security.ts';

describe('transport security', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    'db.localhost',
    '127.0.0.1',
    '127.1.2.3',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('takes %s for this computer', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    'broker.example',
    '10.0.0.5',
    '128.0.0.1',
    '127.0.0.256',
    'localhost.example',
    '::2',
    '::',
    '0.0.0.0',
    '127.0.0.1.nip.io',
  ])('takes %s for another computer', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('says in one line why plain AMQP or HTTP to another computer is refused, and what to do', () => {
    expect(
      plainAmqpProblem([{ host: '127.0.0.1' }, { host: 'b1.example' }, { host: 'b2.example' }], 'use amqps'),
    ).toMatch(/^plain AMQP \(no TLS\) to b1\.example, b2\.example is refused: [^\n]*; use amqps$/);
    expect(plainAmqpProblem([{ host: 'localhost' }], 'use amqps')).toBeUndefined();
    expect(plainHttpProblem('http://broker.example:15672/')).toMatch(
      /^plain HTTP to broker\.example is refused: [^\n]*; use https$/,
    );
    expect(plainHttpProblem('https://broker.example:15671')).toBeUndefined();
    expect(plainHttpProblem('http://127.0.0.1:15672')).toBeUndefined();
    expect(plainHttpProblem('http://[::1]:15672')).toBeUndefined();
    expect(plainHttpProblem('ftp://broker.example')).toMatch(/not supported/);
  });
});
