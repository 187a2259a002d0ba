import { afterEach, describe, expect, it, vi } from 'vitest';
import { UUID_PATTERN } from '../shared/protocol/index.ts';
import { newMessageId } from './message-ids.ts';

describe('newMessageId', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('makes UUIDs the protocol accepts, version 7, with the time in their first 48 bits', () => {
    const before = Date.now();
    const id = newMessageId();
    const after = Date.now();
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('7');
    const ms = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('makes ids that sort in the order they were made, many within a millisecond, none twice', () => {
    const ids = Array.from({ length: 20_000 }, () => newMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps increasing when the clock goes back', () => {
    const first = newMessageId();
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.now() - 60_000);
    const later = [newMessageId(), newMessageId()];
    expect(now).toHaveBeenCalled();
    expect([first, ...later].sort()).toEqual([first, ...later]);
    expect(new Set([first, ...later]).size).toBe(3);
  });
});
