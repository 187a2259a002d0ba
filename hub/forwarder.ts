import type { BrokerConnection, SettlingSender } from '../transport/index.ts';
import type { Outbound } from './uplink-processor.ts';

/**
 * Forwarding by reference: a transaction's forwards are sent to the endpoints' downlinks through the settling sender,
 * and this resolves only once the broker has accepted every one of them. Anything else rejects, so that the caller's
 * transaction rolls back and the uplink delivery is released: a forward the broker did not take is never lost, at
 * worst sent again with the same message_id, which the receiving endpoint's inbox absorbs.
 *   rejected / released / lost  → rejects at once (what was not sent yet is not sent)
 *   the connection drops        → rejects (the uplink deliveries went with it)
 *   not settled in `timeoutMs`  → rejects (a downlink without credit must not hold the transaction forever)
 */
export type Forwarder = (forwards: readonly Outbound[]) => Promise<void>;

export interface ForwarderOptions {
  readonly connection: BrokerConnection;
  readonly sender: SettlingSender;
  readonly timeoutMs?: number;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const { connection, sender } = options;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return (forwards) => {
    const sends = forwards.flatMap((outbound) =>
      outbound.endpoints.map((endpoint) => ({ endpoint, message: outbound.message })),
    );
    if (sends.length === 0) return Promise.resolve();
    if (connection.state.status !== 'online') return Promise.reject(new Error('the broker connection is not open'));
    return new Promise<void>((resolve, reject) => {
      let next = 0;
      let open = sends.length;
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        offSendable();
        offDisconnected();
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const pump = () => {
        while (!ended && next < sends.length) {
          const { endpoint, message } = sends[next]!;
          const address = connection.adapter.downlinkTarget(endpoint);
          if (!sender.canSend(address, message.body.byteLength)) return; // onSendable pumps again
          next += 1;
          sender.send(address, message, (outcome) => {
            if (outcome.kind !== 'accepted') {
              const id = message.properties.message_id;
              end(new Error(`forward of ${id} to ${endpoint} ${outcome.kind}: ${outcome.reason}`));
            } else if ((open -= 1) === 0) end();
          });
        }
      };
      const offSendable = sender.onSendable(pump);
      const offDisconnected = connection.onDisconnected(() =>
        end(new Error('the broker connection dropped before every forward was accepted')),
      );
      const timer = setTimeout(
        () => end(new Error(`${open} of ${sends.length} forwards not accepted within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pump();
    });
  };
}
