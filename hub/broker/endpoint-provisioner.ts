/**
 * Gives an admitted endpoint its place on the broker: its downlink queue, and permissions to read only that queue and
 * write only to the uplink as itself (RabbitMQ: rabbitmq-provisioner.ts; Artemis: artemis-provisioner.ts). The
 * endpoint's broker user is the administrator's (rts region add-endpoint). Idempotent, so a repeated registration (or
 * two hub instances) provisions the same thing twice without harm.
 */
export interface EndpointProvisioner {
  provision(endpointId: string): Promise<void>;
  /**
   * Closes every broker connection of the endpoint's user; resolves with whether it had any. A receiver attached before
   * `rts region suspend` took its rights away goes on reading its downlink until its connection closes: measured on
   * Artemis 2.40 (a message 14 s after the role went, its sends refused after 9 s), and RabbitMQ documents that it may
   * cache rights until the client reconnects. The endpoint reconnects by itself and gets only what it may now have.
   * (RabbitMQ 3's AMQP 1.0 plugin ends the endpoint's session; its TCP connection stays and its links re-attach.)
   */
  disconnect(endpointId: string): Promise<boolean>;
}

export class ProvisioningError extends Error {
  /** Permanent: the broker refused for a reason a retry will not change (e.g. the endpoint has no broker user). */
  readonly permanent: boolean;
  /** No answer at all (refused, unresolvable, TLS failed, timed out), as opposed to an answer refusing the request. */
  readonly unreachable: boolean;
  constructor(message: string, permanent: boolean, unreachable = false) {
    super(message);
    this.name = 'ProvisioningError';
    this.permanent = permanent;
    this.unreachable = unreachable;
  }
}
