import type { Message } from 'rhea';
import { describe, expect, it } from 'vitest';
import type { TrustConfig } from '../../../shared/cms/index.ts';
import { NO_LOGGER } from '../../../shared/index.ts';
import type { PayloadValidationPool } from '../../../shared-node/index.ts';
import { createValidationAhead, VALIDATE_AHEAD_MIN_BYTES } from './validate-ahead.ts';

/** What the inbox receiver's arrivals start on the worker: large directory messages only, under the current trust. */
describe('validation ahead', () => {
  function recording() {
    const calls: (['prefetch', string, number] | ['trust', TrustConfig])[] = [];
    const pool = {
      prefetch: (fields) => calls.push(['prefetch', String(fields.message_id), (fields.body as Uint8Array).byteLength]),
      useTrust: (trust) => calls.push(['trust', trust]),
    } as Partial<PayloadValidationPool> as PayloadValidationPool;
    return { calls, pool };
  }
  const arrival = (id: string, rtsType: string, bytes: number): Message => ({
    message_id: id,
    application_properties: { rtsType },
    // As rhea hands a data section over.
    body: { typecode: 0x75, content: Buffer.alloc(bytes) },
  });

  it('starts large directory updates and snapshots, and nothing else', () => {
    const { calls, pool } = recording();
    const trust: TrustConfig = { anchors: [], crls: [] };
    const ahead = createValidationAhead({ trust: () => trust, logger: NO_LOGGER, pool });
    ahead.onArrival(arrival('big-update', 'directory.update', VALIDATE_AHEAD_MIN_BYTES));
    ahead.onArrival(arrival('big-snapshot', 'directory.snapshot', 2 * 1024 * 1024));
    ahead.onArrival(arrival('small-update', 'directory.update', VALIDATE_AHEAD_MIN_BYTES - 1));
    ahead.onArrival(arrival('big-consult', 'consult.request', 1024 * 1024));
    ahead.onArrival({ message_id: 'no-properties', body: Buffer.alloc(VALIDATE_AHEAD_MIN_BYTES) });
    expect(calls).toEqual([
      ['prefetch', 'big-update', VALIDATE_AHEAD_MIN_BYTES],
      ['prefetch', 'big-snapshot', 2 * 1024 * 1024],
    ]);
  });

  it('gives the worker a new trust before the first message after it changed', () => {
    const { calls, pool } = recording();
    let trust: TrustConfig = { anchors: [], crls: [] };
    const ahead = createValidationAhead({ trust: () => trust, logger: NO_LOGGER, pool });
    ahead.onArrival(arrival('before', 'directory.update', VALIDATE_AHEAD_MIN_BYTES));
    const renewed: TrustConfig = { anchors: [], crls: [new Uint8Array([1])] };
    trust = renewed;
    ahead.onArrival(arrival('after', 'directory.update', VALIDATE_AHEAD_MIN_BYTES));
    ahead.onArrival(arrival('later', 'directory.update', VALIDATE_AHEAD_MIN_BYTES));
    expect(calls.map((call) => call[1])).toEqual(['before', renewed, 'after', 'later']);
  });
});
