import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDownlinkBench, type DownlinkBench } from './downlink-bench.ts';

/**
 * The hub's signed directory updates are checked against their profile and properties, not base FHIR R4 again
 * (docs/protocol.md §4). A directory gap asks the hub for one snapshot, not one per update that arrives while it is on
 * its way; the hub's answer that no snapshot follows (`directory-up-to-date`, docs/protocol.md §5.1) ends that wait,
 * so the next gap asks again.
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

describe('what the hub validated on publish', () => {
  /** Base FHIR R4 refuses it (an instant is a date-time with a zone); the message profiles leave `meta` open. */
  const undated = (bundle: Record<string, unknown>) => {
    bundle.meta = { lastUpdated: 'yesterday' };
  };
  const deadLetter = (messageId: unknown) =>
    bench.transport.deadLetters.list({ limit: 100 }).find((l) => l.messageId === String(messageId));

  it("takes a directory update signed by the hub without base FHIR validation, and still validates the hub's notices", async () => {
    const before = bench.directoryVersion() ?? 0;
    const update = await bench.hubUpdate(before, before + 1, undated);
    expect((await bench.deliver([update])).map((s) => s.outcome)).toEqual(['accepted']);
    expect(deadLetter(update.message_id)).toBeUndefined();
    expect(bench.directoryVersion()).toBe(before + 1);

    const notice = await bench.hubNotice({ notice: 'directory-up-to-date', text: 'Version 1 is current.' }, undated);
    expect((await bench.deliver([notice])).map((s) => s.outcome)).toEqual(['accepted']);
    expect(deadLetter(notice.message_id)).toMatchObject({ reason: 'fhir-invalid' });
  });

  it('still refuses a hub update that breaks its profile', async () => {
    const before = bench.directoryVersion() ?? 0;
    const update = await bench.hubUpdate(before, before + 1, (bundle) => {
      bundle.type = 'collection';
    });
    expect((await bench.deliver([update])).map((s) => s.outcome)).toEqual(['accepted']);
    expect(deadLetter(update.message_id)).toMatchObject({ reason: 'schema-invalid' });
    expect(bench.directoryVersion()).toBe(before);
  });
});
