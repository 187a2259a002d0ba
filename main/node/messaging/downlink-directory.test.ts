import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDownlinkBench, type DownlinkBench } from './downlink-bench.ts';

/**
 * A directory gap asks the hub for one snapshot, not one per update that arrives while it is on its way; the hub's
 * answer that no snapshot follows (`directory-up-to-date`, docs/protocol.md §5.1) ends that wait, so the next gap
 * asks again.
 */
let bench: DownlinkBench;
beforeEach(async () => {
  bench = await createDownlinkBench();
}, 30_000);
afterEach(async () => bench.close());

/** The snapshot requests queued since the last call, taken out of the outbox and confirmed as its sender would. */
function newSnapshotRequests(): string[] {
  const { outbox } = bench.transport;
  const taken = outbox.queuedAfter(0, 1_000);
  const requests = taken.filter(
    (t) => outbox.load(t.messageId)?.properties.application_properties.rtsType === 'directory.snapshot-request',
  );
  outbox.confirmMany(taken.map((t) => t.messageId));
  return requests.map((t) => t.messageId);
}

describe('snapshot requests after a directory gap', () => {
  it('asks once per gap, and again after the hub answered that no snapshot follows', async () => {
    for (const message of [await bench.hubUpdate(4, 5), await bench.hubUpdate(5, 6)]) {
      expect((await bench.deliver([message])).map((s) => s.outcome)).toEqual(['accepted']);
    }
    expect(newSnapshotRequests()).toHaveLength(1);

    const upToDate = await bench.hubNotice({
      notice: 'directory-up-to-date',
      text: 'Directory version 6 is the current one: no snapshot follows.',
    });
    expect((await bench.deliver([upToDate])).map((s) => s.outcome)).toEqual(['accepted']);
    expect((await bench.deliver([await bench.hubUpdate(8, 9)])).map((s) => s.outcome)).toEqual(['accepted']);
    expect(newSnapshotRequests()).toHaveLength(1);
  });
});
