import { describe, expect, it } from 'vitest';
import { assertEndpointId, isEndpointId } from './endpoint-id.ts';

describe('endpoint id', () => {
  it.each(['clinic-a', 'ws-expert-1', 'a', 'h1', 'x'.repeat(63)])('accepts %s', (id) =>
    expect(isEndpointId(id)).toBe(true),
  );
  it.each(['', '-a', 'a-', 'Clinic', 'a.b', 'a b', 'a*', '^a$', 'x'.repeat(64), 'a/b'])('refuses %j', (id) => {
    expect(isEndpointId(id)).toBe(false);
    expect(() => assertEndpointId(id)).toThrow(/invalid endpoint id/);
  });
});
