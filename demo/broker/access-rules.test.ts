import { describe, expect, it } from 'vitest';
import {
  isValidPattern,
  parseSource,
  parseTarget,
  resourceAllowed,
  topicAllowed,
  topicMatches,
} from './access-rules.ts';

describe('topic matching (AMQP 0-9-1 rules)', () => {
  it.each([
    ['#', 'clinic-a', true],
    ['#', '', true],
    ['#', 'a.b.c', true],
    ['*', 'clinic-a', true],
    ['*', 'a.b', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.#', 'a', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c', false],
    ['rts.uplink', 'rts.uplink', true],
    ['rts.uplink', 'rts.uplinks', false],
  ])('%s against %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('addresses of the AMQP 1.0 plugin', () => {
  it('reads publisher targets', () => {
    expect(parseTarget('/exchange/rts.uplink/clinic-a')).toEqual({
      kind: 'exchange',
      exchange: 'rts.uplink',
      routingKey: 'clinic-a',
    });
    expect(parseTarget('/exchange/rts.uplink')).toEqual({ kind: 'exchange', exchange: 'rts.uplink' });
    expect(parseTarget('/topic/a.b')).toEqual({ kind: 'exchange', exchange: 'amq.topic', routingKey: 'a.b' });
    expect(parseTarget('/amq/queue/rts.uplink')).toEqual({ kind: 'exchange', exchange: '', routingKey: 'rts.uplink' });
    expect(parseTarget('/queue/q')).toEqual({ kind: 'declare', queue: 'q' });
    expect(parseTarget('q')).toEqual({ kind: 'declare', queue: 'q' });
    expect(parseTarget(undefined)).toEqual({ kind: 'invalid' });
    expect(parseTarget('/nonsense/x')).toEqual({ kind: 'invalid', address: '/nonsense/x' });
  });

  it('reads consumer sources', () => {
    expect(parseSource('/amq/queue/rts.downlink.clinic-a')).toEqual({ kind: 'queue', queue: 'rts.downlink.clinic-a' });
    expect(parseSource('/queue/q')).toEqual({ kind: 'declare', queue: 'q' });
    expect(parseSource('/exchange/rts.uplink/x')).toEqual({ kind: 'temporary' });
    expect(parseSource(undefined)).toEqual({ kind: 'invalid' });
  });
});

describe('permissions (the internal backend)', () => {
  const endpoint = { configure: '^$', write: '^rts\\.uplink$', read: '^rts\\.downlink\\.clinic-a$' };

  it('matches resource names against the regexes; an empty pattern allows nothing; no entry allows nothing', () => {
    expect(resourceAllowed(endpoint, 'write', 'rts.uplink')).toBe(true);
    expect(resourceAllowed(endpoint, 'write', 'rts.downlink')).toBe(false);
    expect(resourceAllowed(endpoint, 'read', 'rts.downlink.clinic-a')).toBe(true);
    expect(resourceAllowed(endpoint, 'read', 'rts.downlink.clinic-b')).toBe(false);
    expect(resourceAllowed({ ...endpoint, configure: '' }, 'configure', 'anything')).toBe(false);
    expect(resourceAllowed(undefined, 'read', 'rts.uplink')).toBe(false);
  });

  it('checks topic permissions only where there is one, with {username} and {vhost} expanded', () => {
    const vars = { username: 'clinic-a', vhost: 'rts' };
    expect(topicAllowed(undefined, 'write', 'anything', vars)).toBe(true);
    expect(topicAllowed({ exchange: 'rts.uplink', write: '^clinic-a$', read: '^$' }, 'write', 'clinic-a', vars)).toBe(
      true,
    );
    expect(topicAllowed({ exchange: 'rts.uplink', write: '^clinic-a$', read: '^$' }, 'write', 'clinic-b', vars)).toBe(
      false,
    );
    expect(topicAllowed({ exchange: 'rts.uplink', write: '^{username}$', read: '' }, 'write', 'clinic-a', vars)).toBe(
      true,
    );
    expect(topicAllowed({ exchange: 'rts.uplink', write: '', read: '' }, 'write', 'clinic-a', vars)).toBe(false);
  });

  it('tells an invalid regex', () => {
    expect(isValidPattern('(')).toBe(false);
    expect(isValidPattern('^rts\\.uplink$')).toBe(true);
  });
});
