import { describe, expect, it } from 'vitest';
import {
  rabbitmq3Adapter,
  type BrokerConnection,
  type SendOutcome,
  type SettlingSender,
  type StoredMessage,
} from '../transport/index.ts';
import { createForwarder } from './forwarder.ts';

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

describe('forwarder', () => {
  it('sends each forward to each endpoint, waits for credit, and resolves only when the broker accepted all', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    broker.setCredit(1);
    let done = false;
    const forwarding = forward([
      { endpoints: ['clinic-a', 'ws-berg'], message: message('m1') },
      { endpoints: ['clinic-b'], message: message('m2') },
    ]).then(() => (done = true));
    expect(broker.sent).toEqual(['m1>clinic-a']);
    broker.setCredit(5);
    expect(broker.sent).toEqual(['m1>clinic-a', 'm1>ws-berg', 'm2>clinic-b']);
    await Promise.resolve();
    expect(done).toBe(false);
    broker.settleAll({ kind: 'accepted' });
    await forwarding;
    expect(broker.listeners()).toBe(0);
  });

  it('rejects when one forward is not accepted, naming the message and the endpoint, and sends no more', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    broker.setCredit(1);
    const forwarding = forward([{ endpoints: ['clinic-a', 'ws-berg'], message: message('m1') }]);
    broker.settleAll({ kind: 'released', reason: 'released by the broker' });
    await expect(forwarding).rejects.toThrow('forward of m1 to clinic-a released: released by the broker');
    broker.setCredit(5);
    expect(broker.sent).toEqual(['m1>clinic-a']);
  });

  it('rejects when the connection drops or is not open, and when the broker does not settle in time', async () => {
    const broker = standIns();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender, timeoutMs: 20 });
    const dropped = forward([{ endpoints: ['clinic-a'], message: message('m1') }]);
    broker.drop();
    await expect(dropped).rejects.toThrow('the broker connection dropped before every forward was accepted');
    await expect(forward([{ endpoints: ['clinic-a'], message: message('m2') }])).rejects.toThrow(
      'the broker connection is not open',
    );

    const stalled = standIns();
    const slow = createForwarder({ connection: stalled.connection, sender: stalled.sender, timeoutMs: 20 });
    await expect(slow([{ endpoints: ['clinic-a'], message: message('m3') }])).rejects.toThrow(
      '1 of 1 forwards not accepted within 20 ms',
    );
    expect(stalled.listeners()).toBe(0);
  });

  it('has nothing to wait for without forwards, online or not', async () => {
    const broker = standIns();
    broker.offline();
    const forward = createForwarder({ connection: broker.connection, sender: broker.sender });
    await expect(forward([])).resolves.toBeUndefined();
    expect(broker.sent).toEqual([]);
  });
});
