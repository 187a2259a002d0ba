import { describe, expect, it } from 'vitest';
import {
  rabbitmq3Adapter,
  type BrokerConnection,
  type SendOutcome,
  type SettlingSender,
  type StoredMessage,
} from '../transport/index.ts';
import { createForwarder, type Forwarder } from './forwarder.ts';
import type { Outbound } from './uplink-processor.ts';

/** A settling sender and a connection whose credit, outcomes and drops the test decides. */
function standIns() {
  const sendable = new Set<() => void>();
  const disconnected = new Set<() => void>();
  const state = { status: 'online' };
  const inFlight: { to: string; onSettled: (outcome: SendOutcome) => void }[] = [];
  const sent: string[] = [];
  let credit = 10;
  const sender: SettlingSender = {
    canSend: () => credit > 0,
    send: (address, message, onSettled) => {
      credit -= 1;
      const to = `${message.properties.message_id}>${address.split('/').pop()!}`;
      sent.push(to);
      inFlight.push({ to, onSettled });
    },
    get inFlight() {
      return inFlight.length;
    },
    onSendable: (listener) => (sendable.add(listener), () => void sendable.delete(listener)),
    close: () => undefined,
  };
  const connection = {
    state,
    adapter: rabbitmq3Adapter,
    onDisconnected: (listener: () => void) => (disconnected.add(listener), () => void disconnected.delete(listener)),
  } as unknown as BrokerConnection;
  return {
    sender,
    connection,
    sent,
    setCredit: (n: number) => {
      credit = n;
      for (const listener of [...sendable]) listener();
    },
    settleAll: (outcome: SendOutcome) => {
      for (const entry of inFlight.splice(0)) entry.onSettled(outcome);
    },
    drop: () => {
      state.status = 'connecting';
      for (const listener of [...disconnected]) listener();
    },
    offline: () => void (state.status = 'connecting'),
    listeners: () => sendable.size + disconnected.size,
  };
}

const message = (id: string): StoredMessage => ({
  properties: { message_id: id, user_id: 'rts-hub', creation_time: 0, content_type: 'x', application_properties: {} },
  body: new Uint8Array(8),
});

/** All of `outbounds` in one batch, settled and closed. */
async function forwardAll(forwarder: Forwarder, outbounds: readonly Outbound[]): Promise<void> {
  const batch = forwarder();
  batch.add(outbounds, []);
  try {
    await batch.settled();
  } finally {
    batch.close();
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('forwarder', () => {
  it('sends each forward to each endpoint, waits for credit, and settles only when the broker accepted all', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    broker.setCredit(1);
    let done = false;
    const forwarding = forwardAll(forward, [
      { endpoints: ['clinic-a', 'ws-berg'], message: message('m1') },
      { endpoints: ['clinic-b'], message: message('m2') },
    ]).then(() => (done = true));
    await tick();
    expect(broker.sent).toEqual(['m1>clinic-a']);
    broker.setCredit(5);
    expect(broker.sent).toEqual(['m1>clinic-a', 'm1>ws-berg', 'm2>clinic-b']);
    await tick();
    expect(done).toBe(false);
    broker.settleAll({ kind: 'accepted' });
    await forwarding;
    expect(broker.listeners()).toBe(0);
  });

  it('sends forwards at once in the order added, receipts as each is sealed, and settles when all are accepted', async () => {
    const broker = standIns();
    const batch = createForwarder({ connection: broker.connection, sender: broker.sender })();
    let sealR1 = (_: Outbound) => undefined as void;
    batch.add(
      [{ endpoints: ['clinic-a'], message: message('m1') }],
      [new Promise<Outbound>((resolve) => (sealR1 = resolve))],
    );
    batch.add(
      [{ endpoints: ['clinic-a'], message: message('m2') }],
      [Promise.resolve({ endpoints: ['clinic-c'], message: message('r2') })],
    );
    expect(broker.sent).toEqual(['m1>clinic-a', 'm2>clinic-a']);
    let settled = false;
    const settling = batch.settled().then(() => (settled = true));
    await tick();
    expect(broker.sent).toEqual(['m1>clinic-a', 'm2>clinic-a', 'r2>clinic-c']);
    broker.settleAll({ kind: 'accepted' });
    await tick();
    expect(settled).toBe(false); // r1 is still being sealed
    sealR1({ endpoints: ['clinic-b'], message: message('r1') });
    await tick();
    expect(broker.sent).toEqual(['m1>clinic-a', 'm2>clinic-a', 'r2>clinic-c', 'r1>clinic-b']);
    broker.settleAll({ kind: 'accepted' });
    await settling;
    batch.close();
    expect(broker.listeners()).toBe(0);
  });

  it('fails when one forward is not accepted, naming the message and the endpoint, and sends no more', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    broker.setCredit(1);
    const forwarding = forwardAll(forward, [{ endpoints: ['clinic-a', 'ws-berg'], message: message('m1') }]);
    await tick();
    broker.settleAll({ kind: 'released', reason: 'released by the broker' });
    await expect(forwarding).rejects.toThrow('forward of m1 to clinic-a released: released by the broker');
    broker.setCredit(5);
    expect(broker.sent).toEqual(['m1>clinic-a']);
  });

  it('fails when the connection drops or is not open, and when the broker does not settle in time', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender, timeoutMs: 20 });
    const dropped = forwardAll(forward, [{ endpoints: ['clinic-a'], message: message('m1') }]);
    await tick();
    broker.drop();
    await expect(dropped).rejects.toThrow('the broker connection dropped before every forward was accepted');
    await expect(forwardAll(forward, [{ endpoints: ['clinic-a'], message: message('m2') }])).rejects.toThrow(
      'the broker connection is not open',
    );

    const stalled = standIns();
    const slow = createForwarder({ connection: stalled.connection, sender: stalled.sender, timeoutMs: 20 });
    await expect(forwardAll(slow, [{ endpoints: ['clinic-a'], message: message('m3') }])).rejects.toThrow(
      '1 of 1 forwards not accepted within 20 ms',
    );
    expect(stalled.listeners()).toBe(0);
  });

  it('fails when a receipt could not be sealed, and has nothing to wait for without forwards, online or not', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    const batch = forward();
    batch.add([], [Promise.reject(new Error('the signing key is gone'))]);
    await expect(batch.settled()).rejects.toThrow('the signing key is gone');
    batch.close();

    broker.offline();
    await expect(forwardAll(forward, [])).resolves.toBeUndefined();
    expect(broker.sent).toEqual([]);
    expect(broker.listeners()).toBe(0);
  });
});
