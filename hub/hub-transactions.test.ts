import { describe, expect, it } from 'vitest';
import {
  rabbitmq3Adapter,
  type Arrival,
  type BrokerConnection,
  type SendOutcome,
  type SettlingSender,
} from '../transport/index.ts';
import type { DownlinkSender } from './downlink-sender.ts';
import { createForwarder } from './forwarder.ts';
import { createHubTransactions, type MessageWork } from './hub-transactions.ts';
import type { SqlClient, SqlQueryable } from './store/sql-client.ts';
import type { UplinkProcessor } from './uplink-processor.ts';

/**
 * runGroup with forwards by reference, on stand-ins: a settling sender whose outcomes the test chooses, a database
 * whose commit the test can make fail, and uplink deliveries that record how they were settled.
 */
function standIns() {
  const events: string[] = [];
  /** What the broker answers to a forward, by message id; accepted unless told. */
  const outcomes = new Map<string, SendOutcome['kind']>();
  const sender: SettlingSender = {
    canSend: () => true,
    send: (address, message, onSettled) => {
      const id = message.properties.message_id;
      events.push(`forward ${id} to ${address.split('/').pop()!}`);
      const kind = outcomes.get(id) ?? 'accepted';
      setImmediate(() => onSettled(kind === 'accepted' ? { kind } : { kind, reason: `${kind} by the broker` }));
    },
    inFlight: 0,
    onSendable: () => () => undefined,
    close: () => undefined,
  };
  const connection = {
    state: { status: 'online' },
    adapter: rabbitmq3Adapter,
    onDisconnected: () => () => undefined,
  } as unknown as BrokerConnection;
  let failCommits = 0;
  const tx: SqlQueryable = { query: () => Promise.resolve([]), exec: () => Promise.resolve() };
  const sql = {
    transaction: async <T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> => {
      const result = await work(tx);
      if (failCommits > 0) {
        failCommits -= 1;
        events.push('commit failed');
        throw new Error('connection terminated');
      }
      events.push('commit');
      return result;
    },
  } as unknown as SqlClient;
  const processor = {
    claimAll: () => Promise.resolve(),
    flush: () => Promise.resolve(),
  } as unknown as UplinkProcessor;
  const downlink: DownlinkSender = { enqueue: () => undefined, pending: 0, stop: () => Promise.resolve() };
  const transactions = createHubTransactions({
    sql,
    adapter: rabbitmq3Adapter,
    processor,
    sender: downlink,
    forward: createForwarder({ connection, sender }),
    instanceId: 'hub-1',
    claimMs: 60_000,
    log: () => undefined,
  });
  const arrival = (id: string): Arrival => ({
    message: { message_id: id, application_properties: { rtsType: 'consult.request' }, body: new Uint8Array(3) },
    delivery: { accept: () => events.push(`accept ${id}`), release: () => events.push(`release ${id}`) },
  });
  return {
    events,
    outcomes,
    failNextCommits: (n: number) => void (failCommits = n),
    runGroup: transactions.runGroup,
    arrival,
  };
}

/** Routes every consult to clinic-a's downlink, by reference. */
const routeToClinicA: MessageWork = (context, message) => {
  context.forwards.push({ endpoints: ['clinic-a'], message: message.stored });
  return Promise.resolve({ outcome: 'delivered' });
};

describe('hub transactions: forwards by reference', () => {
  it('forwards before the commit and accepts the uplink delivery only after it', async () => {
    const { events, runGroup, arrival } = standIns();
    await runGroup([arrival('m1'), arrival('m2')], routeToClinicA, 'uplink');
    expect(events).toEqual(['forward m1 to clinic-a', 'forward m2 to clinic-a', 'commit', 'accept m1', 'accept m2']);
  });

  it('a forward the broker released: nothing committed, the delivery released (redelivered later)', async () => {
    const { events, outcomes, runGroup, arrival } = standIns();
    outcomes.set('m1', 'released');
    await runGroup([arrival('m1')], routeToClinicA, 'uplink');
    expect(events).toEqual(['forward m1 to clinic-a', 'release m1']);
  });

  it('forward accepted, then the commit fails: released, and the redelivery forwards the same message_id again', async () => {
    const { events, failNextCommits, runGroup, arrival } = standIns();
    failNextCommits(1);
    await runGroup([arrival('m1')], routeToClinicA, 'uplink');
    expect(events).toEqual(['forward m1 to clinic-a', 'commit failed', 'release m1']);
    events.length = 0;
    await runGroup([arrival('m1')], routeToClinicA, 'uplink');
    // The endpoint's inbox absorbs the second copy by its message_id.
    expect(events).toEqual(['forward m1 to clinic-a', 'commit', 'accept m1']);
  });

  it('in a group, one forward refused: each message again alone, and only that one is released', async () => {
    const { events, outcomes, runGroup, arrival } = standIns();
    outcomes.set('m2', 'rejected');
    await runGroup([arrival('m1'), arrival('m2'), arrival('m3')], routeToClinicA, 'uplink');
    expect(events.filter((e) => !e.startsWith('forward'))).toEqual([
      'commit',
      'accept m1',
      'release m2',
      'commit',
      'accept m3',
    ]);
    // m1 went twice (in the group, and alone): the same message_id, absorbed by the receiver.
    expect(events.filter((e) => e === 'forward m1 to clinic-a')).toHaveLength(2);
  });
});
