import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './broker-connection.ts';

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
