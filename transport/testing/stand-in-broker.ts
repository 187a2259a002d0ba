import { EventEmitter } from 'node:events';
import type { Message } from 'rhea';
import { rabbitmq3Adapter } from '../broker-adapter.ts';
import type { BrokerConnection } from '../broker-connection.ts';

// For the senders' unit tests (outbox-sender.test.ts): a broker connection and its links, played by the test.

/**
 * A stand-in for the broker connection and its rhea sender links, with exactly what outbox-sender.ts uses: the test
 * sees every send and decides how and when each delivery is settled, or drops the connection or a link.
 */
export function standInBroker() {
  const opened = new Set<() => void>();
  const disconnected = new Set<() => void>();
  const state = { status: 'online' };
  const links: (EventEmitter & { address: string; closed: boolean; error: { condition: string } | undefined })[] = [];
  const sent: { messageId: string; delivery: { link: unknown; remote_state?: unknown }; settled: boolean }[] = [];
  // New links get credit at once, unless a test says the broker is slow to give it.
  let withCredit = true;
  const openSender = (options: { target: { address: string } }) => {
    const link = Object.assign(new EventEmitter(), {
      address: options.target.address,
      closed: false,
      credit: 100,
      session: new EventEmitter(),
      error: undefined as { condition: string } | undefined,
      is_closed: () => link.closed,
      sendable: () => !link.closed && withCredit,
      close: () => void (link.closed = true),
      send: (message: Message) => {
        const delivery = { link };
        sent.push({ messageId: String(message.message_id), delivery, settled: false });
        return delivery;
      },
    });
    links.push(link);
    return link;
  };
  const connection = {
    state,
    amqp: { open_sender: openSender, is_open: () => state.status === 'online' },
    adapter: rabbitmq3Adapter,
    onOpened: (listener: () => void) => (opened.add(listener), () => void opened.delete(listener)),
    onDisconnected: (listener: () => void) => (disconnected.add(listener), () => void disconnected.delete(listener)),
  } as unknown as BrokerConnection;

  /** Settles the latest unsettled send of `messageId` as the broker would. */
  const settle = (
    messageId: string,
    outcome: 'accepted' | 'rejected' | 'released' | 'modified',
    error?: { condition: string; description?: string },
  ) => {
    const send = sent.find((s) => s.messageId === messageId && !s.settled);
    if (!send) throw new Error(`${messageId} is not in flight`);
    send.settled = true;
    if (error) send.delivery.remote_state = { error };
    (send.delivery.link as EventEmitter).emit(outcome, { delivery: send.delivery });
  };
  return {
    connection,
    sent: () => sent.map((s) => s.messageId),
    unsettled: () => sent.filter((s) => !s.settled).map((s) => s.messageId),
    settle,
    links,
    listeners: () => opened.size + disconnected.size,
    /** The connection drops: rhea forgets the unsettled deliveries without a word. */
    drop: () => {
      state.status = 'connecting';
      for (const s of sent) s.settled = true;
      for (const listener of [...disconnected]) listener();
    },
    reopen: () => {
      state.status = 'online';
      for (const listener of [...opened]) listener();
    },
    /** Links attached from now on get no credit (true) or get it at once (false). */
    withholdCredit: (withhold: boolean) => void (withCredit = !withhold),
    /** One link is detached with an error, the connection stays. */
    detach: (condition: string) => {
      const link = links.at(-1)!;
      link.error = { condition };
      link.closed = true;
      for (const s of sent) if (s.delivery.link === link) s.settled = true;
      link.emit('sender_error', { sender: link });
    },
  };
}
