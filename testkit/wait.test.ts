import { describe, expect, it } from 'vitest';
import { until } from './wait.ts';

describe('until', () => {
  it('returns the first value that is neither undefined nor false, and names what it waited for on timeout', async () => {
    let n = 0;
    await expect(until(async () => (++n >= 3 ? n : false), 'three probes', 1_000, 1)).resolves.toBe(3);
    await expect(until(async () => undefined, 'nothing', 20, 1)).rejects.toThrow(
      'timed out after 20 ms waiting for nothing',
    );
  });
});
