/**
 * Gives an admitted endpoint its place on the broker: its downlink queue, and permissions to read only that queue and
 * write only to the uplink as itself (RabbitMQ: rabbitmq-provisioner.ts; Artemis: artemis-provisioner.ts). The
 * endpoint's broker user is the administrator's (rts region add-endpoint). Idempotent, so a repeated registration (or
 * two hub instances) provisions the same thing twice without harm.
 */
export interface EndpointProvisioner {
  provision(endpointId: string): Promise<void>;
  /**
   * Closes every broker connection of the endpoint's user; resolves with whether it had any. Both brokers check a
   * link's rights when it attaches, not for each message it takes: a receiver attached before `rts region suspend`
   * took its rights away goes on reading its downlink until its connection closes (measured on Artemis 2.40: 14 s after
   * its role went, with sends long refused). The endpoint reconnects by itself and gets only what it may now have.
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
