import type { EventContext, Receiver, Sender } from 'rhea';
import { artemisDownlinkAddress } from '../../shared/broker/index.ts';
import { artemisAdapter, createBrokerConnection, type BrokerConnection } from '../../transport/index.ts';
import { addSecuritySettingsArguments, endpointDownlinkSecurity } from './artemis-configuration.ts';
import { ProvisioningError, type EndpointProvisioner } from './endpoint-provisioner.ts';

/**
 * ActiveMQ Artemis 2.x provisioning through its management address over AMQP (no web console or Jolokia needed):
 * a request names a resource (`broker`, `queue.<name>`) and an operation or attribute of its control interface
 * (ActiveMQServerControl), carries the arguments as a JSON array, and is answered on its reply-to address with
 * `_AMQ_OperationSucceeded` and the result, also a JSON array. The management user needs the `manage` permission (the
 * region's administrator role has it, artemis-configuration.ts). What is created this way is kept in the broker's
 * journal (addresses, queues, security settings), so it survives a restart and reaches a replicating backup.
 */
const ARTEMIS_MANAGEMENT_ADDRESS = 'activemq.management';

export interface ArtemisManagementOptions {
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  readonly vhost: string;
  readonly username: string;
  readonly password: string;
  readonly tls?: { readonly ca: string; readonly servername?: string };
  /** How long to wait for the broker, and then for each answer; default 10 s. */
  readonly timeoutMs?: number;
}

export interface ArtemisManagement {
  /** Runs an operation; resolves with its result, fails with a ProvisioningError carrying the broker's words. */
  invoke(resource: string, operation: string, args: readonly unknown[]): Promise<unknown>;
  /** Reads an attribute (e.g. the broker's `addressNames`). */
  read(resource: string, attribute: string): Promise<unknown>;
  close(): Promise<void>;
}

/** Artemis's "address already exists": another hub instance provisioned the same endpoint a moment before. */
const ADDRESS_EXISTS = 'AMQ229204';

function once<T>(register: (done: (value: T) => void) => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new ProvisioningError(`Artemis management: no answer to ${what} in ${timeoutMs} ms`, false)),
      timeoutMs,
    );
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Connects as the management user and opens the reply address; one request at a time. */
export async function createArtemisManagement(options: ArtemisManagementOptions): Promise<ArtemisManagement> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const connection: BrokerConnection = createBrokerConnection({
    hosts: options.hosts,
    vhost: options.vhost,
    username: options.username,
    password: async () => options.password,
    adapter: artemisAdapter,
    containerId: `rts-hub-management-${process.pid}`,
    reconnectDelayMs: { initial: 200, max: 1_000 },
    ...(options.tls && { tls: options.tls }),
  });
  const opened = new Promise<void>((resolve) => connection.onOpened(resolve));
  // The first refusal says why (e.g. amqp:unauthorized-access); what follows it is the socket closing.
  let refusal: string | undefined;
  connection.onStateChanged((state) => {
    if (state.status === 'offline' && state.reason && state.reason !== 'stopped') refusal ??= state.reason;
  });
  await connection.start();
  const timedOut = Symbol('timed out');
  const first = await Promise.race([
    opened,
    new Promise<typeof timedOut>((resolve) => setTimeout(() => resolve(timedOut), timeoutMs)),
  ]);
  if (first === timedOut) {
    const reason = refusal ?? connection.state.reason ?? 'no answer';
    await connection.stop();
    throw new ProvisioningError(`Artemis management: broker unreachable: ${reason}`, false, true);
  }
  const amqp = connection.amqp!;
  const replies: Receiver = amqp.open_receiver({
    // A temporary queue the broker names; rhea's types want an address even for a dynamic source.
    source: { dynamic: true } as unknown as { address: string },
    credit_window: 10,
  });
  await once<void>((done) => replies.once('receiver_open', () => done()), timeoutMs, 'opening the reply address');
  const requests: Sender = amqp.open_sender({ target: { address: ARTEMIS_MANAGEMENT_ADDRESS } });
  await once<void>((done) => requests.once('sendable', () => done()), timeoutMs, 'opening the management address');
  const replyTo = replies.source.address;

  let queue: Promise<unknown> = Promise.resolve();
  const request = (what: string, properties: Record<string, string>, args: readonly unknown[]): Promise<unknown> => {
    const run = async () => {
      const answer = once<EventContext | string>(
        (done) => {
          replies.once('message', done);
          requests.once('rejected', (context: EventContext) => done(refusalOf(context.delivery?.remote_state)));
        },
        timeoutMs,
        what,
      );
      requests.send({ reply_to: replyTo, application_properties: properties, body: JSON.stringify(args) });
      const reply = await answer;
      replies.removeAllListeners('message');
      requests.removeAllListeners('rejected');
      if (typeof reply === 'string') throw new ProvisioningError(`Artemis management refused ${what}: ${reply}`, false);
      const succeeded = reply.message!.application_properties?._AMQ_OperationSucceeded === true;
      const body: unknown = reply.message!.body;
      const result = typeof body === 'string' ? (JSON.parse(body) as unknown[])[0] : undefined;
      // Not permanent: our requests are well-formed, so a failing one meets the broker's state (its journal, a race).
      if (!succeeded) throw new ProvisioningError(`Artemis management: ${what}: ${String(result)}`, false);
      return result;
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  return {
    invoke: (resource, operation, args) =>
      request(`${operation} on ${resource}`, { _AMQ_ResourceName: resource, _AMQ_OperationName: operation }, args),
    read: (resource, attribute) =>
      request(`${attribute} of ${resource}`, { _AMQ_ResourceName: resource, _AMQ_Attribute: attribute }, []),
    close: () => connection.stop(),
  };
}

function refusalOf(state: unknown): string {
  const error = (state as { error?: { condition?: string; description?: string } } | undefined)?.error;
  return error ? `${error.condition ?? 'rejected'}${error.description ? `: ${error.description}` : ''}` : 'rejected';
}

const names = (value: unknown): Set<string> => new Set(Array.isArray(value) ? value.map(String) : []);

/**
 * Gives an admitted endpoint its downlink on Artemis, as broker.xml does for the endpoints an administrator listed
 * (artemis-configuration.ts): the anycast address and durable queue, then who may read and write it. Its user, role,
 * uplink address and divert are the administrator's, so that it could send its registration at all.
 */
export function createArtemisProvisioner(options: ArtemisManagementOptions): EndpointProvisioner {
  return {
    async provision(endpointId) {
      const management = await createArtemisManagement(options);
      try {
        const downlink = artemisDownlinkAddress(endpointId);
        const addresses = names(await management.read('broker', 'addressNames'));
        if (!addresses.has(downlink)) {
          await management.invoke('broker', 'createAddress', [downlink, 'ANYCAST']).catch((error: unknown) => {
            if (!(error instanceof ProvisioningError && error.message.includes(ADDRESS_EXISTS))) throw error;
          });
        }
        const queue = { name: downlink, address: downlink, 'routing-type': 'ANYCAST', durable: true };
        await management.invoke('broker', 'createQueue', [JSON.stringify(queue), true]);
        const security = addSecuritySettingsArguments(endpointDownlinkSecurity(endpointId));
        await management.invoke('broker', 'addSecuritySettings', security);
      } finally {
        await management.close();
      }
    },
    async disconnect(endpointId) {
      const management = await createArtemisManagement(options);
      try {
        return (await management.invoke('broker', 'closeConnectionsForUser', [endpointId])) === true;
      } finally {
        await management.close();
      }
    },
  };
}
