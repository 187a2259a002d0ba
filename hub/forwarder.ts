import type { BrokerConnection, SettlingSender } from '../transport/index.ts';
import type { Outbound } from './uplink-processor.ts';

/**
 * Forwarding by reference: a transaction's forwards are sent to the endpoints' downlinks through the settling sender
 * as soon as each message is routed, in the order added, while the next messages are still being processed; the hub's
 * `delivered` receipts go as soon as each is sealed (in any order: each is about another message). The batch is
 * settled only once the broker has accepted every one of them. Anything else fails it, so that the caller's
 * transaction rolls back and the uplink delivery is released: a forward the broker did not take is never lost, at
 * worst sent again with the same message_id, which the receiving endpoint's inbox absorbs.
 *   rejected / released / lost   → fails at once (what was not sent yet is not sent)
 *   the connection drops or is not open → fails (the uplink deliveries went with it)
 *   not settled in `timeoutMs` after `settled` was asked → fails (a downlink without credit must not hold the
 *                                  transaction forever)
 */
export interface ForwardBatch {
  /** Sends these too: `forwards` after those added before, as the sender has room; `sealed` as each is sealed. */
  add(forwards: readonly Outbound[], sealed: readonly Promise<Outbound>[]): void;
  /** Resolves once the broker has accepted everything added; rejects at the first forward it did not accept. */
  settled(): Promise<void>;
  /** Sends nothing more (call when done with the batch, settled or not). */
  close(): void;
}

export type Forwarder = () => ForwardBatch;

export interface ForwarderOptions {
  readonly connection: BrokerConnection;
  readonly sender: SettlingSender;
  readonly timeoutMs?: number;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { connection, sender } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return () => {
    const sends: { endpoint: string; outbound: Outbound }[] = [];
    let next = 0;
    let open = 0;
    let failure: Error | undefined;
    let ended = false;
    /** Receipts still being sealed. */
    const sealing = new Set<Promise<void>>();
    let waiter: { resolve: () => void; reject: (error: Error) => void } | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offSendable: (() => void) | undefined;
    let offDisconnected: (() => void) | undefined;

    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      failure = error;
      offSendable?.();
      offDisconnected?.();
      clearTimeout(timer);
      if (error) waiter?.reject(error);
      else waiter?.resolve();
    };
    const allAccepted = () => next === sends.length && open === 0 && sealing.size === 0;
    const queue = (outbounds: readonly Outbound[]) => {
      for (const outbound of outbounds) for (const endpoint of outbound.endpoints) sends.push({ endpoint, outbound });
      if (outbounds.length > 0) pump();
    };

    const pump = () => {
      if (ended) return;
      if (connection.state.status !== 'online') return end(new Error('the broker connection is not open'));
      while (!ended && next < sends.length) {
        const { endpoint, outbound } = sends[next]!;
        const { message } = outbound;
        const address = connection.adapter.downlinkTarget(endpoint);
        if (!sender.canSend(address, message.body.byteLength)) return; // onSendable pumps again
        next += 1;
        open += 1;
        sender.send(address, message, (outcome) => {
          if (outcome.kind !== 'accepted') {
            const id = message.properties.message_id;
            return end(new Error(`forward of ${id} to ${endpoint} ${outcome.kind}: ${outcome.reason}`));
          }
          open -= 1;
          if (waiter && allAccepted()) end();
        });
      }
    };

    return {
      add(forwards, sealed) {
        if ((forwards.length === 0 && sealed.length === 0) || ended) return;
        if (!offSendable) {
          offSendable = sender.onSendable(pump);
          offDisconnected = connection.onDisconnected(() =>
            end(new Error('the broker connection dropped before every forward was accepted')),
          );
        }
        queue(forwards);
        for (const receipt of sealed) {
          const done: Promise<void> = receipt.then(
            (outbound) => {
              sealing.delete(done);
              queue([outbound]);
            },
            (error: unknown) => end(error instanceof Error ? error : new Error(String(error))),
          );
          sealing.add(done);
        }
      },
      async settled() {
        while (sealing.size > 0 && !ended) await Promise.all(sealing);
        if (failure) throw failure;
        if (ended || allAccepted()) return end();
        await new Promise<void>((resolve, reject) => {
          waiter = { resolve, reject };
          timer = setTimeout(
            () =>
              end(
                new Error(
                  `${sends.length - next + open} of ${sends.length} forwards not accepted within ${timeoutMs} ms`,
                ),
              ),
            timeoutMs,
          );
        });
      },
      close() {
        if (!ended) end(allAccepted() ? undefined : new Error('closed before every forward was accepted'));
      },
    };
  };
}
