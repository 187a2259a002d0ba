import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rhea, { type Connection, type EventContext, type Message, type Sender } from 'rhea';
import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import { CONTENT_ENCRYPTION, encrypt, sign, type CmsSigner, type ContentEncryption } from '../shared/cms/index.ts';
import { CONTENT_TYPES, type ApplicationProperties, type AmqpMessageFields } from '../shared/protocol/index.ts';
import {
  buildConsultRequest,
  buildConsultStatus,
  buildDirectoryPublish,
  type MessageContext,
} from '../shared/protocol/fhir/index.ts';
import { hubStore } from '../hub/index.ts';
import {
  createTestRegion,
  expertEntry,
  hospital,
  until as waitUntil,
  type ReceivedMessage,
  type TestIdentity,
  type TestPractitioner,
  type BrokerUnderTest,
} from '../testkit/index.ts';
import { createWorkstationCore, type WorkstationCore } from '../main/node/index.ts';
import { PROTOCOL_V, startRegionHarness, type RegionHarness } from '../integration/testing/region-harness.ts';

/**
 * The region the bad-input classes run against: the region harness (private broker, hub on its embedded database,
 * clinic-a and clinic-b as bare endpoints), one real workstation core (ws-expert-1, dr-ahmed), and a raw sender as the
 * hub's broker user onto that workstation's downlink, so that bad input can reach the workstation without the hub
 * having seen it. Good traffic for each receiver, and the signers every class needs, are made here too.
 */
export const WS = 'ws-expert-1';
const WAIT_MS = 45_000;

/** Raw AMQP fields as a test sends them; `body` as a string is sent as an amqp-value section (not binary data). */
export type RawFields = Omit<AmqpMessageFields, 'body'> & { body: Uint8Array | string };

export function toRhea(fields: RawFields): Message {
  const { body, ...rest } = fields;
  const section: unknown = typeof body === 'string' ? body : rhea.message.data_section(Buffer.from(body));
  return { ...rest, body: section } as unknown as Message;
}

export interface Signers {
  readonly clinicA: TestIdentity;
  readonly clinicB: TestIdentity;
  readonly applicant: TestPractitioner;
  readonly expert: TestPractitioner;
  /** Valid, trusted, but nobody the messages claim. */
  readonly stranger: TestPractitioner;
  readonly expired: TestIdentity;
  readonly notYetValid: TestIdentity;
  readonly revoked: TestIdentity;
  /** From another region's CA. */
  readonly foreign: TestIdentity;
  /** An encryption profile (keyAgreement only) on a key that can sign. */
  readonly wrongUsage: TestIdentity;
}

export interface ConsultOptions {
  readonly messageId?: string;
  readonly creationTime?: Date;
  readonly caseId?: string;
  readonly status?: 'accepted' | 'information-provided';
  readonly sequence?: number;
  readonly to?: string;
  readonly signer?: CmsSigner;
  readonly signingTime?: Date;
  readonly recipients?: readonly Uint8Array[];
  readonly contentEncryption?: ContentEncryption;
  /** The AMQP content_type, when it is to differ from what the content encryption calls for. */
  readonly contentType?: string;
  /** The payload as it will be signed: edit the Bundle, or replace the bytes altogether. */
  readonly payload?: (bundle: Record<string, unknown>) => void;
  readonly content?: Uint8Array;
  readonly payloadMessageId?: string;
  /** What the signed payload says, where the hub changed the clear-text property after signing. */
  readonly payloadSequence?: number;
  readonly payloadTimestamp?: Date;
  /** Edits of the SignedData before it is encrypted, and of the final body. */
  readonly signed?: (signed: Uint8Array) => Uint8Array;
  readonly body?: (body: Uint8Array) => Uint8Array;
  readonly userId?: string;
}

export interface PublishOptions {
  readonly messageId?: string;
  readonly creationTime?: Date;
  readonly signer?: CmsSigner;
  readonly signingTime?: Date;
  readonly payload?: (bundle: Record<string, unknown>) => void;
  readonly content?: Uint8Array;
  readonly payloadMessageId?: string;
  /** What the signed Bundle.timestamp says, where the clear-text creation_time was changed after signing. */
  readonly payloadTimestamp?: Date;
  readonly resourceId?: string;
  readonly body?: (body: Uint8Array) => Uint8Array;
}

export type Match = { readonly messageId: string } | { readonly caseId: string };

type Call = <C extends CommandChannel>(
  command: C,
  ...input: CommandInput<C> extends undefined ? [] : [CommandInput<C>]
) => Promise<CommandOutput<C>>;

export interface BadInputRegion {
  readonly harness: RegionHarness;
  readonly broker: BrokerUnderTest;
  readonly signers: Signers;
  readonly call: Call;
  /** A case the workstation holds as expert, still `requested`: the target of lifecycle classes. */
  readonly knownCase: string;
  /** A consult.request (or status) from dr-berg (clinic-b) to dr-ahmed as the hub forwards it, built as told. */
  consult(options?: ConsultOptions): Promise<RawFields & { message_id: string; caseId: string }>;
  /** A directory.publish delta of clinic-b that changes nothing when valid, built as told. */
  publish(options?: PublishOptions): Promise<RawFields & { message_id: string }>;
  /** Fields of a message with properties of a consult.request but any body. */
  bareConsult(
    body: Uint8Array,
    overrides?: Partial<RawFields>,
    properties?: Record<string, unknown>,
  ): RawFields & { message_id: string };
  sendToHub(fields: RawFields): Promise<string>;
  sendToWorkstation(fields: RawFields): Promise<string>;
  /** One transfer on a connection of its own (refusals end the session), with its outcome or the broker's condition. */
  publishOnce(user: { name: string; password: string }, address: string, fields: RawFields): Promise<string>;
  /** Sends a good message to the receiver and resolves once it was processed there (rejects after a time-out). */
  good(receiver: 'hub' | 'workstation'): Promise<void>;
  /** The hub's dead letters of one message, or (for messages without an id) of one case. */
  hubDeadLetters(match: Match): Promise<hubStore.DeadLetterRecord[]>;
  receiptsAtClinicB(messageId: string): ReceivedMessage[];
  workstationRefusals(match: Match): Promise<{ reason: string }[]>;
  stop(): Promise<void>;
}

export async function startBadInputRegion(): Promise<BadInputRegion> {
  const harness = await startRegionHarness();
  const { region, broker } = harness;
  const foreignDir = mkdtempSync(join(tmpdir(), 'rts-foreign-'));
  const foreignRegion = await createTestRegion(foreignDir);
  const hour = 3_600_000;
  const signers: Signers = {
    clinicA: harness.clinicIdentities['clinic-a'],
    clinicB: harness.clinicIdentities['clinic-b'],
    applicant: harness.applicant,
    expert: harness.expert,
    stranger: await region.practitioner('clinic-b.dr-stranger'),
    expired: await region.issue('practitioner-signing', 'clinic-b.dr-berg', {
      notBefore: new Date(Date.now() - 48 * hour),
      validityDays: 1,
    }),
    notYetValid: await region.issue('practitioner-signing', 'clinic-b.dr-berg', {
      notBefore: new Date(Date.now() + 48 * hour),
    }),
    revoked: region.revoked,
    foreign: (await foreignRegion.practitioner('clinic-b.dr-berg')).signing,
    wrongUsage: await region.issue('practitioner-encryption', 'clinic-b.dr-berg'),
  };

  // dr-lund is published and retired again: the target of retired-expert.
  const lund = await region.practitioner('clinic-a.dr-lund');
  const listed = await harness.publishDelta(
    'clinic-a',
    expertEntry(lund, { organizationId: 'clinic-a.nordby', endpoints: [WS] }).map((upsert) => ({ upsert })),
  );
  await harness.clinics['clinic-a'].waitFor(
    (m) => m.correlationId === listed && m.properties.rtsReceipt === 'processed',
    'dr-lund listed',
    WAIT_MS,
  );
  const retired = await harness.publishDelta('clinic-a', [
    { retire: 'Practitioner/clinic-a.dr-lund' },
    { retire: 'PractitionerRole/clinic-a.dr-lund' },
  ]);
  await harness.clinics['clinic-a'].waitFor(
    (m) => m.correlationId === retired && m.properties.rtsReceipt === 'processed',
    'dr-lund retired',
    WAIT_MS,
  );

  const core: WorkstationCore = createWorkstationCore(harness.coreOptions(WS));
  await core.start();
  const call = (async (command: CommandChannel, input?: unknown) => {
    const result = await core.dispatch(command, input);
    if (!result.ok) throw new Error(`${WS} ${command}: ${result.error.code}: ${result.error.message}`);
    return result.value;
  }) as Call;
  await harness.setUpWorkstation(core, WS, harness.expert);
  await until(
    async () => (await call(COMMANDS.getSetupState)).registration.state === 'accepted',
    'the workstation registered',
  );
  await until(async () => {
    const state = await call(COMMANDS.getDirectoryState);
    return state.version === 4 && !state.behind;
  }, 'the workstation mirrors directory version 4');

  const downlink = await connect(broker, broker.hub);
  const downlinkSender = await openSender(downlink, broker.adapter.downlinkTarget(WS));

  const consult: BadInputRegion['consult'] = async (options = {}) => {
    const messageId = options.messageId ?? randomUUID();
    const creationTime = options.creationTime ?? new Date();
    const caseId = options.caseId ?? randomUUID();
    const to = options.to ?? harness.expert.id;
    const context: MessageContext = {
      messageId: options.payloadMessageId ?? messageId,
      timestamp: options.payloadTimestamp ?? creationTime,
      sender: 'clinic-b',
    };
    const bundle = (options.status
      ? buildConsultStatus(context, {
          caseId,
          from: harness.applicant.id,
          to,
          sequence: options.payloadSequence ?? options.sequence ?? 2,
          status: options.status,
          note: 'Troponin T 180 ng/L.',
        })
      : buildConsultRequest(context, {
          caseId,
          from: harness.applicant.id,
          to,
          sequence: options.payloadSequence ?? options.sequence ?? 1,
          priority: 'routine',
          reason: 'Rash on both forearms',
          patient: {
            family: 'Nilsen',
            given: ['Kari'],
            gender: 'female',
            birthDate: '1961-04-12',
            identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '12046112345' }],
          },
        })) as unknown as Record<string, unknown>;
    options.payload?.(bundle);
    const content = options.content ?? new TextEncoder().encode(JSON.stringify(bundle));
    const signed = await sign(content, options.signer ?? harness.applicant.signing, {
      signingTime: options.signingTime ?? creationTime,
    });
    const recipients = options.recipients ?? [
      harness.expert.encryption.certificate,
      harness.applicant.encryption.certificate,
    ];
    const contentEncryption = options.contentEncryption ?? CONTENT_ENCRYPTION.gcm;
    let body = await encrypt(options.signed ? options.signed(signed) : signed, recipients, { contentEncryption });
    if (options.body) body = options.body(body);
    const properties: ApplicationProperties = options.status
      ? {
          rtsType: 'consult.status',
          rtsVersion: PROTOCOL_V,
          rtsSender: 'clinic-b',
          rtsCase: caseId,
          rtsFromPractitioner: harness.applicant.id,
          rtsToPractitioner: to,
          rtsSequence: options.sequence ?? 2,
          rtsStatus: options.status,
        }
      : {
          rtsType: 'consult.request',
          rtsVersion: PROTOCOL_V,
          rtsSender: 'clinic-b',
          rtsCase: caseId,
          rtsFromPractitioner: harness.applicant.id,
          rtsToPractitioner: to,
          rtsSequence: options.sequence ?? 1,
        };
    return {
      message_id: messageId,
      user_id: Buffer.from(options.userId ?? broker.hub.name),
      creation_time: creationTime,
      durable: true,
      content_type:
        options.contentType ??
        (contentEncryption === CONTENT_ENCRYPTION.gcm ? CONTENT_TYPES.authEnveloped : CONTENT_TYPES.enveloped),
      application_properties: properties,
      body,
      caseId,
    };
  };

  const publish: BadInputRegion['publish'] = async (options = {}) => {
    const messageId = options.messageId ?? randomUUID();
    const creationTime = options.creationTime ?? new Date();
    const bundle = buildDirectoryPublish(
      {
        messageId: options.payloadMessageId ?? messageId,
        timestamp: options.payloadTimestamp ?? creationTime,
        sender: 'clinic-b',
      },
      {
        delta: [{ upsert: hospital(options.resourceId ?? 'clinic-b.sorvik', 'Sørvik Health Centre') }],
      },
    ) as unknown as Record<string, unknown>;
    options.payload?.(bundle);
    const content = options.content ?? new TextEncoder().encode(JSON.stringify(bundle));
    let body = await sign(content, options.signer ?? signers.clinicB, {
      signingTime: options.signingTime ?? creationTime,
    });
    if (options.body) body = options.body(body);
    return {
      message_id: messageId,
      user_id: Buffer.from('clinic-b'),
      creation_time: creationTime,
      durable: true,
      content_type: CONTENT_TYPES.signed,
      application_properties: {
        rtsType: 'directory.publish',
        rtsVersion: PROTOCOL_V,
        rtsSender: 'clinic-b',
        rtsDirectoryMode: 'delta',
        rtsBatchId: randomUUID(),
        rtsBatchIndex: 1,
        rtsBatchCount: 1,
      },
      body,
    };
  };

  // An override of undefined removes the field or property (rhea would send a null, which is not the same as absent).
  const defined = (record: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
  const bareConsult: BadInputRegion['bareConsult'] = (body, overrides = {}, properties = {}) =>
    defined({
      message_id: randomUUID(),
      creation_time: new Date(),
      durable: true,
      content_type: CONTENT_TYPES.authEnveloped,
      application_properties: defined({
        rtsType: 'consult.request',
        rtsVersion: PROTOCOL_V,
        rtsSender: 'clinic-b',
        rtsCase: randomUUID(),
        rtsFromPractitioner: harness.applicant.id,
        rtsToPractitioner: harness.expert.id,
        rtsSequence: 1,
        ...properties,
      }),
      body,
      ...overrides,
    }) as unknown as RawFields & { message_id: string };

  const sendToHub = (fields: RawFields) =>
    harness.clinics['clinic-b'].sendRaw(toRhea({ user_id: Buffer.from('clinic-b'), ...fields }));
  const sendToWorkstation = (fields: RawFields) =>
    settle(downlinkSender, toRhea({ user_id: Buffer.from(broker.hub.name), ...fields }));

  const caseIds = async () => new Set((await call(COMMANDS.listCases, { limit: 100_000 })).map((c) => c.caseId));
  const good: BadInputRegion['good'] = async (receiver) => {
    if (receiver === 'hub') {
      const caseId = randomUUID();
      const messageId = await harness.sendAsClinic('clinic-b', {
        properties: {
          rtsType: 'consult.request',
          rtsVersion: PROTOCOL_V,
          rtsSender: 'clinic-b',
          rtsCase: caseId,
          rtsFromPractitioner: harness.applicant.id,
          rtsToPractitioner: harness.expert.id,
          rtsSequence: 1,
        },
        payload: (id, timestamp) =>
          buildConsultRequest(
            { messageId: id, timestamp, sender: 'clinic-b' },
            {
              caseId,
              from: harness.applicant.id,
              to: harness.expert.id,
              sequence: 1,
              priority: 'routine',
              reason: 'Good traffic',
              patient: { family: 'Berg', given: ['Ola'], gender: 'male', birthDate: '1970-01-01', identifiers: [] },
            },
          ),
        signer: harness.applicant,
        recipients: [harness.expert.encryption.certificate, harness.applicant.encryption.certificate],
      });
      await harness.clinics['clinic-b'].waitFor(
        (m) => m.correlationId === messageId && m.properties.rtsReceipt === 'delivered',
        'the good consult delivered by the hub',
        WAIT_MS,
      );
      return;
    }
    const fields = await consult();
    const outcome = await sendToWorkstation(fields);
    if (outcome !== 'accepted') throw new Error(`the broker ${outcome} the good consult to the workstation`);
    await until(async () => (await caseIds()).has(fields.caseId), 'the good consult at the workstation');
  };

  const first = await consult();
  if ((await sendToWorkstation(first)) !== 'accepted')
    throw new Error('the first consult was not accepted by the broker');
  await until(async () => (await caseIds()).has(first.caseId), 'the first case at the workstation');

  return {
    harness,
    broker,
    signers,
    call,
    knownCase: first.caseId,
    consult,
    publish,
    bareConsult,
    sendToHub,
    sendToWorkstation,
    good,
    publishOnce: async (user, address, fields) => {
      const connection = await connect(broker, user);
      try {
        return await transfer(connection, address, toRhea(fields));
      } finally {
        connection.close();
      }
    },
    hubDeadLetters: async (match) =>
      (await hubStore.listDeadLetters(harness.hub.sql, { limit: 10_000 })).filter((l) =>
        'messageId' in match
          ? l.messageId === match.messageId
          : (l.properties.application_properties as Record<string, unknown>).rtsCase === match.caseId,
      ),
    receiptsAtClinicB: (messageId) =>
      harness.clinics['clinic-b'].received.filter(
        (m) => m.properties.rtsType === 'receipt' && m.correlationId === messageId,
      ),
    workstationRefusals: async (match) =>
      (await call(COMMANDS.listRejections)).filter((r) =>
        'messageId' in match ? r.messageId === match.messageId : r.caseId === match.caseId,
      ),
    async stop() {
      downlink.close();
      await core.stop();
      await harness.stop();
      rmSync(foreignDir, { recursive: true, force: true });
    },
  };
}

/** Waits as long as the rest of this harness does. */
export const until = <T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = WAIT_MS): Promise<T> =>
  waitUntil(probe, what, timeoutMs);

async function connect(broker: BrokerUnderTest, user: { name: string; password: string }): Promise<Connection> {
  const connection = rhea.create_container({ id: `badinput-${user.name}-${randomUUID().slice(0, 6)}` }).connect({
    host: '127.0.0.1',
    port: broker.hosts[0]!.port,
    hostname: broker.adapter.hostname(broker.vhost),
    username: user.name,
    password: user.password,
    reconnect: false,
  });
  for (const event of ['error', 'session_error', 'connection_error', 'protocol_error', 'sender_error'])
    connection.on(event, () => undefined);
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve());
    connection.once('disconnected', (context: EventContext) =>
      reject(new Error(`${user.name}: cannot connect: ${String(context.error ?? 'disconnected')}`)),
    );
  });
  return connection;
}

async function openSender(connection: Connection, address: string): Promise<Sender> {
  const sender = connection.open_sender({ target: { address } });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
  return sender;
}

function settle(sender: Sender, message: Message): Promise<string> {
  return new Promise((resolve) => {
    const delivery = sender.send(message);
    const done = (outcome: string) => (context: EventContext) => {
      if (context.delivery !== delivery) return;
      for (const [event, handler] of handlers) sender.removeListener(event, handler);
      resolve(outcome);
    };
    const handlers = (['accepted', 'rejected', 'released'] as const).map((event) => [event, done(event)] as const);
    for (const [event, handler] of handlers) sender.on(event, handler);
  });
}

/** What became of one transfer: its settlement, or how the broker ended the session. */
function transfer(connection: Connection, address: string, message: Message): Promise<string> {
  return new Promise((resolve) => {
    const sender = connection.open_sender({ target: { address } });
    const timer = setTimeout(() => resolve('no answer'), WAIT_MS);
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    sender.once('sendable', () => sender.send(message));
    for (const outcome of ['accepted', 'rejected', 'released']) sender.once(outcome, () => done(outcome));
    sender.session.once('session_error', (context: EventContext) =>
      done(`session ended: ${(context.session?.error as { condition?: string } | undefined)?.condition}`),
    );
    connection.once('disconnected', () => done('disconnected'));
  });
}
