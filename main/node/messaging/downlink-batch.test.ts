import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDownlinkBench, type DownlinkBench } from './downlink-bench.ts';

/**
 * Issue #16 item 2 (inbox batch poisoning): messages that arrive together are committed together, and each is judged
 * against what the earlier messages of its batch will write. Two valid messages that cannot both hold (a second
 * request for the same case, a second step from the same state) must cost the loser alone a refusal with a receipt —
 * never the batch's commit, which used to send every message of it back to the broker until its delivery limit
 * dead-lettered them unseen.
 */
let bench: DownlinkBench;
beforeEach(async () => {
  bench = await createDownlinkBench();
}, 30_000);
afterEach(async () => bench.close());

const id = (message: { message_id?: unknown }) => String(message.message_id);

describe('inbox batches at the workstation', () => {
  it('applies the first of two requests for one case, refuses the second out-of-order with a receipt, and keeps the STAT consult of the same batch', async () => {
    const lead = await bench.request();
    const first = await bench.request();
    const second = await bench.request({ caseId: first.caseId });
    const stat = await bench.request({ priority: 'stat' });
    const settled = await bench.deliver([lead, first, second, stat]);

    // The premise: the three arrived in one batch.
    expect(new Set(settled.slice(1).map((s) => s.batch)).size).toBe(1);
    expect(settled.map((s) => s.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(bench.cases.get(stat.caseId)).toMatchObject({ priority: 'stat', status: 'requested' });
    expect(bench.cases.messages(first.caseId).map((m) => [m.messageId, m.state, m.reason])).toEqual([
      [id(first), 'verified', undefined],
      [id(second), 'rejected', 'out-of-order'],
    ]);
    expect(bench.receipts()).toEqual([
      { correlationId: id(lead), outcome: 'processed' },
      { correlationId: id(first), outcome: 'processed' },
      { correlationId: id(second), outcome: 'rejected', reason: 'out-of-order' },
      { correlationId: id(stat), outcome: 'processed' },
    ]);
    expect(bench.transport.deadLetters.list({ state: 'held' }).map((l) => [l.messageId, l.reason])).toEqual([
      [id(second), 'out-of-order'],
    ]);
    expect(bench.announced.filter((a) => a.includes('failed'))).toEqual([]);
  });

  it('applies the first of two steps from the same state and refuses the second out-of-order, leaving the rest of the batch alone', async () => {
    const request = await bench.request();
    await bench.deliver([request]);
    const lead = await bench.request();
    const cancel = await bench.status({
      caseId: request.caseId,
      status: 'cancelled',
      sequence: 2,
      note: 'Sent to the wrong expert.',
    });
    // The applicant's second workstation cancelled too, from the same state (its sequence number is the same).
    const again = await bench.status({
      caseId: request.caseId,
      status: 'cancelled',
      sequence: 2,
      note: 'Patient transferred.',
    });
    const other = await bench.request();
    const settled = await bench.deliver([lead, cancel, again, other]);

    expect(new Set(settled.slice(1).map((s) => s.batch)).size).toBe(1);
    expect(settled.map((s) => s.outcome)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(bench.cases.get(request.caseId)).toMatchObject({ status: 'cancelled', peerSequence: 2 });
    expect(bench.cases.messages(request.caseId).map((m) => [m.messageId, m.status, m.state, m.reason])).toEqual([
      [id(request), 'requested', 'verified', undefined],
      [id(cancel), 'cancelled', 'verified', undefined],
      [id(again), 'cancelled', 'rejected', 'out-of-order'],
    ]);
    expect(bench.cases.get(other.caseId)?.status).toBe('requested');
    expect(bench.receipts().slice(-3)).toEqual([
      { correlationId: id(cancel), outcome: 'processed' },
      { correlationId: id(again), outcome: 'rejected', reason: 'out-of-order' },
      { correlationId: id(other), outcome: 'processed' },
    ]);
  });

  it('lets a later step of the same batch follow an earlier one (a request and its cancellation together)', async () => {
    const lead = await bench.request();
    const request = await bench.request();
    const cancel = await bench.status({
      caseId: request.caseId,
      status: 'cancelled',
      sequence: 2,
      note: 'Resolved locally.',
    });
    const settled = await bench.deliver([lead, request, cancel]);

    expect(settled[1]!.batch).toBe(settled[2]!.batch);
    expect(bench.cases.get(request.caseId)).toMatchObject({ status: 'cancelled', peerSequence: 2 });
    expect(
      bench
        .receipts()
        .slice(-2)
        .map((r) => r.outcome),
    ).toEqual(['processed', 'processed']);
    expect(bench.announced).toContain(`case-changed ${request.caseId}`);
  });
});
