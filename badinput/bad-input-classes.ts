import { randomBytes, randomUUID } from 'node:crypto';
import * as pkijs from 'pkijs';
import { COMMANDS } from '../shared/api/index.ts';
import { uplinkSendAddress } from '../shared/broker/index.ts';
import {
  PROTOCOL_LIMITS,
  CONTENT_TYPES,
  REASON_CODES as R,
  REASON_DESCRIPTIONS,
  sealMessage,
  PROTOCOL_VERSION,
} from '../shared/protocol/index.ts';
import { CONTENT_ENCRYPTION, OPENING_FAILED_MESSAGE } from '../shared/cms/index.ts';
import { LINK_MAX_MESSAGE_BYTES } from '../transport/index.ts';
import {
  buildReceipt,
  buildSnapshotRequest,
  buildDirectoryPublish,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { BROKER_KIND_ENV, expertEntry, hospital } from '../testkit/index.ts';
import { endpointCredentials } from '../scripts/test-env/index.ts';
import { WS, until, type BadInputRegion, type RawFields } from './bad-input-region.ts';

/**
 * The bad-input classes: for each, what is sent to the hub (on the uplink, as clinic-b) and to the workstation core
 * (straight onto its downlink, as the hub's broker user would, so the workstation defends itself without the hub),
 * where the class makes sense for that receiver, and the outcome each variant must end in. A probe sends its bad
 * message and returns `observe`, which reports what the receiver recorded for it, or undefined while nothing is
 * recorded yet:
 *   hub          its dead-letter record, and the rejected receipt to the sender where the message can be answered
 *                (or that no receipt came, where none can);
 *   workstation  its refused-message record (inbox:list-rejections);
 *   broker       the broker's refusal of the transfer, and no trace at the receiver.
 */
export type Receiver = 'hub' | 'workstation';

/** The broker under test (testkit/broker-under-test.ts): a few classes differ because Artemis does not check user_id. */
const ON_ARTEMIS = process.env[BROKER_KIND_ENV] === 'artemis';

export interface Probe {
  /** Where the outcome was read, for the report. */
  readonly evidence: string;
  observe(): Promise<string | undefined>;
}

export interface Variant {
  readonly name: string;
  readonly expected: string;
  send(region: BadInputRegion): Promise<Probe>;
}

export interface BadInputClass {
  readonly name: string;
  readonly hub?: readonly Variant[];
  readonly workstation?: readonly Variant[];
}

// --- observing ------------------------------------------------------------------------------------------------------

const reasons = (records: readonly { reason: string }[]) =>
  records.length === 0 ? undefined : records.map((x) => x.reason).join('+');

/**
 * What the hub tells the sender of a message it refuses: `rejected`, a rejected receipt naming the reason it
 * dead-lettered the message with (every permanent failure it can answer); `none`, no receipt at all (receipts are never
 * answered, and a message_id that is no UUID cannot be named by one).
 */
type HubAnswer = 'rejected' | 'none';

/**
 * The hub's dead letter and its answer to clinic-b. Observed after the hub answered the good message sent behind it on
 * the same link, so a receipt for this one would have reached clinic-b by then.
 */
function atHub(region: BadInputRegion, messageId: string, answer: HubAnswer): Probe {
  return {
    evidence: answer === 'rejected' ? 'dead letter + rejected receipt' : 'dead letter, no receipt',
    async observe() {
      const letters = await region.hubDeadLetters({ messageId });
      if (letters.length === 0) return undefined;
      const reason = letters.map((l) => l.reason).join('+');
      const receipts = region.receiptsAtClinicB(messageId);
      const answered = receipts
        .map((m) => `${String(m.properties.rtsReceipt)}:${String(m.properties.rtsReason)}`)
        .join('+');
      if (answer === 'none') return receipts.length === 0 ? reason : `${reason} (receipt ${answered}, none expected)`;
      if (receipts.length === 0) return undefined;
      return answered === `rejected:${reason}` ? reason : `${reason} (receipt ${answered})`;
    },
  };
}

function atWorkstation(region: BadInputRegion, messageId: string): Probe {
  return {
    evidence: 'refused list',
    observe: async () => reasons(await region.workstationRefusals({ messageId })),
  };
}

async function toHub(
  region: BadInputRegion,
  fields: RawFields & { message_id: string },
  answer: HubAnswer,
): Promise<Probe> {
  const outcome = await region.sendToHub(fields);
  if (outcome !== 'accepted') return { evidence: 'broker', observe: async () => `broker ${outcome}` };
  return atHub(region, fields.message_id, answer);
}

/** A publish payload edit: the delta upserts `resources` instead of what it carried. */
function directoryEntries(resources: readonly DirectoryResource[]): (bundle: Record<string, unknown>) => void {
  return (bundle) => {
    const built = buildDirectoryPublish(
      { messageId: randomUUID(), timestamp: new Date(), sender: 'clinic-b' },
      { delta: resources.map((upsert) => ({ upsert })) },
    );
    const inner = (bundle.entry as { resource: { entry: unknown[] } }[])[1]!.resource;
    inner.entry = (built.entry as { resource: { entry: unknown[] } }[])[1]!.resource.entry;
  };
}

async function toWorkstation(region: BadInputRegion, fields: RawFields & { message_id: string }): Promise<Probe> {
  const outcome = await region.sendToWorkstation(fields);
  if (outcome !== 'accepted') return { evidence: 'broker', observe: async () => `broker ${outcome}` };
  return atWorkstation(region, fields.message_id);
}

/**
 * A variant that fails in the AMQP properties. The hub dead-letters it and answers its broker-verified sender (clinic-b,
 * registered) with a rejected receipt of the same reason, unless no receipt can name it (`hubAnswer` none: a message_id
 * that is no UUID); the workstation refuses it.
 */
function unreadable(
  name: string,
  expected: string,
  fields: (region: BadInputRegion) => RawFields & { message_id: string },
  hubAnswer: HubAnswer = 'rejected',
): { hub: Variant; workstation: Variant } {
  return {
    hub: {
      name,
      expected,
      send: (region) => toHub(region, { ...fields(region), user_id: Buffer.from('clinic-b') }, hubAnswer),
    },
    workstation: { name, expected, send: (region) => toWorkstation(region, fields(region)) },
  };
}

// --- damaging bodies -------------------------------------------------------------------------------------------------

/** Every occurrence of `from` replaced by `to` (same length): algorithm identifiers inside a valid envelope. */
function replaceAll(bytes: Uint8Array, from: readonly number[], to: readonly number[]): Uint8Array {
  const out = Buffer.from(bytes);
  const needle = Buffer.from(from);
  let replaced = 0;
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) {
    Buffer.from(to).copy(out, at);
    replaced += 1;
  }
  if (replaced === 0) throw new Error('nothing to replace: the envelope layout changed');
  return new Uint8Array(out);
}

function flipBit(bytes: Uint8Array, at: number, mask: number): Uint8Array {
  const out = bytes.slice();
  out[at] = out[at]! ^ mask;
  return out;
}

const flipAt = (bytes: Uint8Array, at: number) => flipBit(bytes, at, 0x01);

/** The first byte of `needle` in `bytes`, which must be there. */
function find(bytes: Uint8Array, needle: Uint8Array): number {
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle));
  if (at < 0) throw new Error('marker not found in the message');
  return at;
}

const OID_BYTES = {
  sha256: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
  sha384: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
  aes256Gcm: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2e],
  aes128Gcm: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x06],
};

/** SEQUENCE { GeneralizedTime "" }: DER that asn1js throws on (found by fuzzing; fixed in shared/cms/der.ts). */
const UNREADABLE_TIME = Uint8Array.of(0x30, 0x02, 0x18, 0x00);

/** The signed message with one byte of the signer certificate's EC point changed: no point on P-256 (found by fuzzing). */
function offCurve(signed: Uint8Array, certificate: Uint8Array): Uint8Array {
  const point = pkijs.Certificate.fromBER(certificate).subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  return flipAt(signed, find(signed, point) + 10);
}

/** The receipt text every failure after the key unwrap gets (docs/protocol.md §3 step 2). */
const OPENING_FAILED = `receipt rejected:decrypt-failed "${REASON_DESCRIPTIONS['decrypt-failed']} ${OPENING_FAILED_MESSAGE}."`;
const CBC_REFUSED = `cms-unsupported-algorithm; receipt rejected:cms-unsupported-algorithm "${REASON_DESCRIPTIONS['cms-unsupported-algorithm']} EnvelopedData with AES-256-CBC is not accepted (unauthenticated encryption); the sender must use AuthEnvelopedData with AES-256-GCM"`;

const MARKER = new TextEncoder().encode('Sørvik Health Centre');
const CONSULT_MARKER = new TextEncoder().encode('Rash on both forearms');

function patientOf(bundle: Record<string, unknown>): Record<string, unknown> {
  return (bundle.entry as { resource: Record<string, unknown> }[]).find((e) => e.resource.resourceType === 'Patient')!
    .resource;
}

function innerEntries(bundle: Record<string, unknown>): { resource: Record<string, unknown> }[] {
  return (bundle.entry as { resource: { entry: { resource: Record<string, unknown> }[] } }[])[1]!.resource.entry;
}

// --- the classes -----------------------------------------------------------------------------------------------------

const old = () => new Date(Date.now() - (PROTOCOL_LIMITS.deduplicationWindowDays + 1) * 86_400_000);
const ahead = () => new Date(Date.now() + 3_600_000);
/** Inside the validity of the `expired` signer (it ended a day ago), 36 hours before the message is made. */
const backDated = () => new Date(Date.now() - 36 * 3_600_000);

const notUuid = unreadable(
  'message_id not a UUID',
  R.malformedProperties,
  (r) => r.bareConsult(randomBytes(64), { message_id: `not-a-uuid-${randomUUID()}` }),
  'none',
);
const notDurable = unreadable('not durable', R.malformedProperties, (r) =>
  r.bareConsult(randomBytes(64), { durable: false }),
);
const wrongContentType = unreadable('signed content type on a consult', R.malformedProperties, (r) =>
  r.bareConsult(randomBytes(64), { content_type: CONTENT_TYPES.signed }),
);
const valueBody = unreadable('body an amqp-value string, not binary', R.malformedProperties, (r) =>
  r.bareConsult(new Uint8Array(), { body: 'not binary' }),
);
const badSequence = unreadable('rtsSequence a string', R.malformedProperties, (r) =>
  r.bareConsult(randomBytes(64), {}, { rtsSequence: 'one' }),
);
const noType = unreadable('no rtsType', R.missingProperty, (r) =>
  r.bareConsult(randomBytes(64), {}, { rtsType: undefined }),
);
const noCreationTime = unreadable('no creation_time', R.missingProperty, (r) =>
  r.bareConsult(randomBytes(64), { creation_time: undefined }),
);
/** Without a message id nothing can be de-duplicated or answered; the record is found by the case it names. */
const noMessageId: { hub: Variant; workstation: Variant } = {
  hub: {
    name: 'no message_id',
    expected: R.missingProperty,
    send: async (r) => {
      const caseId = randomUUID();
      const outcome = await r.sendToHub({
        ...r.bareConsult(randomBytes(64), { message_id: undefined }, { rtsCase: caseId }),
        user_id: Buffer.from('clinic-b'),
      });
      return {
        evidence: 'dead letter',
        observe: async () =>
          outcome === 'accepted' ? reasons(await r.hubDeadLetters({ caseId })) : `broker ${outcome}`,
      };
    },
  },
  workstation: {
    name: 'no message_id',
    expected: R.missingProperty,
    send: async (r) => {
      const caseId = randomUUID();
      const outcome = await r.sendToWorkstation(
        r.bareConsult(randomBytes(64), { message_id: undefined }, { rtsCase: caseId }),
      );
      return {
        evidence: 'refused list',
        observe: async () =>
          outcome === 'accepted' ? reasons(await r.workstationRefusals({ caseId })) : `broker ${outcome}`,
      };
    },
  },
};
const noCase = unreadable('no rtsCase', R.missingProperty, (r) =>
  r.bareConsult(randomBytes(64), {}, { rtsCase: undefined }),
);
const unknownType = unreadable('rtsType consult.gossip', R.unknownType, (r) =>
  r.bareConsult(randomBytes(64), {}, { rtsType: 'consult.gossip' }),
);
const majorOne = unreadable('rtsVersion 1.0 (the major before the signed binding of §4)', R.unsupportedVersion, (r) =>
  r.bareConsult(randomBytes(64), {}, { rtsVersion: '1.0' }),
);
const oversized = unreadable('body of 32 MiB + 1 byte', R.tooLarge, (r) =>
  r.bareConsult(new Uint8Array(PROTOCOL_LIMITS.maxBodyBytes + 1)),
);
const tooOld = unreadable(`creation_time ${PROTOCOL_LIMITS.deduplicationWindowDays + 1} days ago`, R.replay, (r) =>
  r.bareConsult(randomBytes(64), { creation_time: old() }),
);
const tooNew = unreadable('creation_time an hour ahead', R.replay, (r) =>
  r.bareConsult(randomBytes(64), { creation_time: ahead() }),
);

/** A signed directory publish to the hub and a sealed consult to the workstation, both built with the same damage. */
function envelopeClass(
  name: string,
  expected: string,
  damage: {
    hub?: Parameters<BadInputRegion['publish']>[0] | ((r: BadInputRegion) => Parameters<BadInputRegion['publish']>[0]);
    workstation?:
      Parameters<BadInputRegion['consult']>[0] | ((r: BadInputRegion) => Parameters<BadInputRegion['consult']>[0]);
  },
  names: { hub?: string; workstation?: string } = {},
): BadInputClass {
  const resolve = <T>(option: T | ((r: BadInputRegion) => T), region: BadInputRegion): T =>
    typeof option === 'function' ? (option as (r: BadInputRegion) => T)(region) : option;
  return {
    name,
    ...(damage.hub && {
      hub: [
        {
          name: names.hub ?? 'signed directory.publish',
          expected,
          send: async (r: BadInputRegion) => toHub(r, await r.publish(resolve(damage.hub, r)), 'rejected'),
        },
      ],
    }),
    ...(damage.workstation && {
      workstation: [
        {
          name: names.workstation ?? 'sealed consult.request',
          expected,
          send: async (r: BadInputRegion) => toWorkstation(r, await r.consult(resolve(damage.workstation, r))),
        },
      ],
    }),
  };
}

/**
 * 2 KiB of random bytes that are not CMS: a primitive element with a short length, then random trailing bytes. Wholly
 * random bytes declare lengths or node counts over the limits often enough (287 of 20,000 in parseBer) for the parser
 * to say, rightly, too-large rather than malformed; with three such inputs a run, that failed a few CI runs in a hundred (once on 4 Dec 2026).
 */
function garbage(): Uint8Array {
  const bytes = randomBytes(2048);
  bytes[0] = 0x04;
  bytes[1] = bytes[1]! & 0x7f;
  return bytes;
}

/** 10,000 nested arrays in a Bundle: JSON.parse takes them, the recursive checks after it overflowed the stack. */
const DEEP_JSON = new TextEncoder().encode(
  `{"resourceType":"Bundle","type":"message","deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
);

/** Above the max_message_size the workstation's link announces, which RabbitMQ 3.10 sends all the same. */
const overTheLink: Variant = {
  name: `a transfer of ${LINK_MAX_MESSAGE_BYTES + 1} bytes`,
  expected: `${R.tooLarge} (at the link)`,
  send: async (r) => {
    const fields = r.bareConsult(new Uint8Array(LINK_MAX_MESSAGE_BYTES + 1));
    const outcome = await r.sendToWorkstation(fields);
    if (outcome !== 'accepted') return { evidence: 'broker', observe: async () => `broker ${outcome}` };
    return {
      evidence: 'refused list',
      async observe() {
        const refusals = (await r.workstationRefusals({ messageId: fields.message_id })) as {
          reason: string;
          detail?: string;
        }[];
        if (refusals.length === 0) return undefined;
        return refusals
          .map((x) => `${x.reason}${x.detail?.includes('max_message_size') ? ' (at the link)' : ` (${x.detail})`}`)
          .join('+');
      },
    };
  },
};

export const BAD_INPUT_CLASSES: readonly BadInputClass[] = [
  {
    name: 'malformed AMQP properties',
    hub: [notUuid.hub, notDurable.hub, wrongContentType.hub, valueBody.hub, badSequence.hub],
    workstation: [
      notUuid.workstation,
      notDurable.workstation,
      wrongContentType.workstation,
      valueBody.workstation,
      badSequence.workstation,
    ],
  },
  {
    name: 'missing headers',
    hub: [noMessageId.hub, noType.hub, noCreationTime.hub, noCase.hub],
    workstation: [noMessageId.workstation, noType.workstation, noCreationTime.workstation, noCase.workstation],
  },
  { name: 'unknown message type', hub: [unknownType.hub], workstation: [unknownType.workstation] },
  { name: 'unsupported version', hub: [majorOne.hub], workstation: [majorOne.workstation] },
  { name: 'oversized body', hub: [oversized.hub], workstation: [oversized.workstation] },
  { name: "oversized transfer (above the link's max_message_size)", workstation: [overTheLink] },
  envelopeClass('deep JSON (10,000 nested arrays)', R.tooLarge, {
    hub: { content: DEEP_JSON },
    workstation: { content: DEEP_JSON },
  }),
  {
    name: 'replay (old or future creation_time)',
    hub: [tooOld.hub, tooNew.hub],
    workstation: [tooOld.workstation, tooNew.workstation],
  },
  envelopeClass('invalid JSON', R.invalidJson, {
    hub: { content: new TextEncoder().encode('{"resourceType": "Bundle", ') },
    workstation: { content: new Uint8Array([0xff, 0xfe, 0x7b]) },
  }),
  envelopeClass('schema-invalid FHIR (RTS profile)', R.schemaInvalid, {
    hub: {
      payload: (b) => {
        b.type = 'collection';
      },
    },
    workstation: {
      payload: (b) => {
        b.type = 'collection';
      },
    },
  }),
  envelopeClass('FHIR-invalid (base R4)', R.fhirInvalid, {
    hub: {
      payload: (b) => {
        innerEntries(b)[0]!.resource.favouriteColour = 'blue';
      },
    },
    workstation: {
      payload: (b) => {
        patientOf(b).birthDate = '1961-13-45';
      },
    },
  }),
  envelopeClass('header mismatch (payload vs AMQP properties)', R.headerMismatch, {
    hub: { payloadMessageId: randomUUID() },
    workstation: { payloadMessageId: randomUUID() },
  }),
  envelopeClass('CMS garbage', R.cmsMalformed, { hub: { body: garbage }, workstation: { body: garbage } }),
  envelopeClass('truncated CMS', R.cmsMalformed, {
    hub: { body: (b) => b.slice(0, Math.floor(b.byteLength * 0.6)) },
    workstation: { body: (b) => b.slice(0, Math.floor(b.byteLength * 0.6)) },
  }),
  envelopeClass('CMS with an unreadable time value (asn1js exception)', R.cmsMalformed, {
    hub: { body: () => UNREADABLE_TIME },
    workstation: { body: () => UNREADABLE_TIME },
  }),
  envelopeClass('signer certificate with an EC key off the curve', R.cmsMalformed, {
    hub: (r) => ({ body: (b) => offCurve(b, r.signers.clinicB.certificate) }),
    workstation: (r) => ({ signed: (s) => offCurve(s, r.signers.applicant.signing.certificate) }),
  }),
  envelopeClass('bad signature (content altered after signing)', R.badSignature, {
    hub: { body: (b) => flipAt(b, find(b, MARKER) + 2) },
    workstation: { signed: (s) => flipAt(s, find(s, CONSULT_MARKER) + 2) },
  }),
  envelopeClass('signer not matching the claimed sender', R.signerMismatch, {
    hub: (r) => ({ signer: r.signers.clinicA }),
    workstation: (r) => ({ signer: r.signers.stranger.signing }),
  }),
  envelopeClass('expired certificate', R.certificateExpired, {
    hub: (r) => ({ signer: r.signers.expired }),
    workstation: (r) => ({ signer: r.signers.expired }),
  }),
  envelopeClass('not-yet-valid certificate', R.certificateNotYetValid, {
    hub: (r) => ({ signer: r.signers.notYetValid }),
    workstation: (r) => ({ signer: r.signers.notYetValid }),
  }),
  envelopeClass('revoked certificate', R.certificateRevoked, {
    hub: (r) => ({ signer: r.signers.revoked }),
    workstation: (r) => ({ signer: r.signers.revoked }),
  }),
  envelopeClass('untrusted chain (another CA)', R.untrustedChain, {
    hub: (r) => ({ signer: r.signers.foreign }),
    workstation: (r) => ({ signer: r.signers.foreign }),
  }),
  envelopeClass('wrong key usage (encryption certificate signs)', R.wrongKeyUsage, {
    hub: (r) => ({ signer: r.signers.wrongUsage }),
    workstation: (r) => ({ signer: r.signers.wrongUsage }),
  }),
  envelopeClass('signing time in the future', R.signingTimeInvalid, {
    hub: { signingTime: ahead() },
    workstation: { signingTime: ahead() },
  }),
  // An expired certificate signs a new message, its signing time set back into the certificate's validity.
  envelopeClass('back-dated signature (expired certificate)', R.signingTimeInvalid, {
    hub: (r) => ({ signer: r.signers.expired, signingTime: backDated() }),
    workstation: (r) => ({ signer: r.signers.expired, signingTime: backDated() }),
  }),
  envelopeClass(
    'unsupported CMS algorithm',
    R.cmsUnsupportedAlgorithm,
    {
      hub: { body: (b) => replaceAll(b, OID_BYTES.sha256, OID_BYTES.sha384) },
      workstation: { body: (b) => replaceAll(b, OID_BYTES.aes256Gcm, OID_BYTES.aes128Gcm) },
    },
    { hub: 'digest SHA-384', workstation: 'content encryption AES-128-GCM' },
  ),
  // The hub cannot decrypt consults (end-to-end encryption): the classes below are the workstation's alone.
  envelopeClass('tampered ciphertext', R.decryptFailed, { workstation: { body: (b) => flipAt(b, b.byteLength - 20) } }),
  {
    // docs/protocol.md §3: CBC is refused before any key is unwrapped, so good and bad padding get the same receipt.
    name: 'AES-256-CBC EnvelopedData (padding oracle)',
    workstation: [
      // The top bit of the byte before the last block lands in the padding length, which can then never be valid.
      // Labelled AuthEnvelopedData, so that the hub (which cannot look inside) routes it and the workstation must refuse it.
      {
        name: 'padding broken',
        expected: CBC_REFUSED,
        send: async (r) =>
          viaHub(
            r,
            await r.consult({
              contentEncryption: CONTENT_ENCRYPTION.cbc,
              contentType: CONTENT_TYPES.authEnveloped,
              body: (b) => flipBit(b, b.byteLength - 17, 0x80),
            }),
          ),
      },
      {
        name: 'padding good, content garbage',
        expected: CBC_REFUSED,
        send: async (r) =>
          viaHub(
            r,
            await r.consult({
              contentEncryption: CONTENT_ENCRYPTION.cbc,
              contentType: CONTENT_TYPES.authEnveloped,
              signed: () => randomBytes(2048),
            }),
          ),
      },
    ],
  },
  {
    // docs/protocol.md §3 step 2: past the key unwrap, one code and one text in the receipt the hub forwards.
    name: 'one answer after the key unwrap',
    workstation: [
      {
        name: 'GCM tag broken',
        expected: `decrypt-failed; ${OPENING_FAILED}`,
        send: async (r) => viaHub(r, await r.consult({ body: (b) => flipAt(b, b.byteLength - 1) })),
      },
      {
        name: 'GCM good, content garbage',
        expected: `cms-malformed; ${OPENING_FAILED}`,
        send: async (r) => viaHub(r, await r.consult({ signed: garbage })),
      },
      {
        name: 'inner signature bad',
        expected: `bad-signature; ${OPENING_FAILED}`,
        send: async (r) => viaHub(r, await r.consult({ signed: (s) => flipAt(s, find(s, CONSULT_MARKER) + 2) })),
      },
      {
        name: 'signed payload not JSON',
        expected: `invalid-json; ${OPENING_FAILED}`,
        send: async (r) => viaHub(r, await r.consult({ content: new Uint8Array([0xff, 0xfe, 0x7b]) })),
      },
    ],
  },
  {
    // docs/protocol.md §4: what a forwarding hub could change is in the signed payload too.
    name: 'bound property changed in transit',
    hub: [
      {
        name: 'publish whose creation_time differs from the signed Bundle.timestamp',
        expected: R.headerMismatch,
        send: async (r) => toHub(r, await r.publish({ payloadTimestamp: new Date(Date.now() - 1000) }), 'rejected'),
      },
    ],
    workstation: [
      {
        name: 'consult whose rtsSequence the hub changed',
        expected: R.headerMismatch,
        send: async (r) => toWorkstation(r, await r.consult({ sequence: 2, payloadSequence: 1 })),
      },
      {
        name: 'consult whose creation_time the hub changed',
        expected: R.headerMismatch,
        send: async (r) => toWorkstation(r, await r.consult({ payloadTimestamp: new Date(Date.now() - 1000) })),
      },
      {
        name: "peer's processed receipt relabelled rejected",
        expected: R.headerMismatch,
        send: async (r) => relabelledReceipt(r, { rtsReceipt: 'rejected', rtsReason: R.outOfOrder }),
      },
      {
        name: "peer's processed receipt relabelled delivered",
        expected: R.headerMismatch,
        send: async (r) => relabelledReceipt(r, { rtsReceipt: 'delivered' }),
      },
    ],
  },
  envelopeClass('not a recipient (encrypted to others only)', R.notARecipient, {
    workstation: (r) => ({ recipients: [r.signers.applicant.encryption.certificate] }),
  }),
  envelopeClass(
    'not addressed to me',
    R.notAddressedToMe,
    { workstation: { to: 'clinic-a.dr-lund' } },
    { workstation: 'consult.request for another practitioner' },
  ),
  {
    name: 'forged sender (rtsSender differs from user_id)',
    hub: [
      {
        name: 'rtsSender clinic-a from clinic-b',
        expected: R.forgedSender,
        send: async (r) => toHub(r, forgedSender(await r.publish()), 'rejected'),
      },
    ],
  },
  {
    name: 'forged user_id',
    hub: [
      ON_ARTEMIS
        ? {
            // Artemis delivers any user_id as written: the hub compares it with the sender the address vouches for.
            name: 'clinic-b sends as user_id clinic-a',
            expected: R.forgedSender,
            send: async (r) => toHub(r, { ...(await r.publish()), user_id: Buffer.from('clinic-a') }, 'rejected'),
          }
        : {
            name: 'clinic-b sends as user_id clinic-a',
            expected: 'broker: session ended: amqp:precondition-failed',
            send: async (r) => {
              const fields = await r.publish();
              const outcome = await r.publishOnce(
                endpointCredentials(r.broker.rabbitmq!, 'clinic-b'),
                uplinkSendAddress('clinic-b'),
                { ...fields, user_id: Buffer.from('clinic-a') },
              );
              return {
                evidence: 'broker refusal, no dead letter',
                observe: async () =>
                  (await r.hubDeadLetters({ messageId: fields.message_id })).length === 0
                    ? `broker: ${outcome}`
                    : 'reached the hub',
              };
            },
          },
    ],
    // On Artemis only the hub's role may write a downlink, whatever user_id a message carries: no forgery to refuse.
    ...(!ON_ARTEMIS && {
      workstation: [
        {
          name: 'hub user sends as user_id clinic-a',
          expected: 'broker: session ended: amqp:precondition-failed',
          send: async (r: BadInputRegion) => {
            const fields = await r.consult({ userId: 'clinic-a' });
            const outcome = await r.publishOnce(r.broker.hub, r.broker.adapter.downlinkTarget(WS), fields);
            return {
              evidence: 'broker refusal, no refusal or case',
              observe: async () =>
                (await r.workstationRefusals({ messageId: fields.message_id })).length === 0 &&
                !(await caseExists(r, fields.caseId))
                  ? `broker: ${outcome}`
                  : 'reached the workstation',
            };
          },
        },
      ],
    }),
  },
  {
    name: 'not authorized',
    hub: [
      {
        name: 'clinic-b publishes an entry of clinic-a',
        expected: R.notAuthorized,
        send: async (r) => toHub(r, await r.publish({ resourceId: 'clinic-a.sorvik' }), 'rejected'),
      },
      {
        name: 'clinic-b sends a hub-only type (directory.update)',
        expected: R.notAuthorized,
        send: async (r) => {
          const fields = await r.publish();
          return toHub(
            r,
            {
              ...fields,
              application_properties: {
                rtsType: 'directory.update',
                rtsVersion: PROTOCOL_VERSION,
                rtsSender: 'clinic-b',
                rtsDirectoryBaseVersion: 4,
                rtsDirectoryVersion: 5,
              },
            },
            'rejected',
          );
        },
      },
    ],
    workstation: [
      {
        name: 'the applicant marks the case accepted',
        expected: R.notAuthorized,
        send: async (r) => toWorkstation(r, await r.consult({ caseId: r.knownCase, status: 'accepted', sequence: 2 })),
      },
    ],
  },
  {
    // A clinic lists another clinic's expert under its own directory id: the real signing certificate (so reports
    // would verify) beside an encryption certificate whose key the clinic holds. docs/protocol.md §5.1.
    name: "impostor directory entry (another clinic's expert)",
    hub: [
      {
        name: "clinic-b lists clinic-b.dr-ahmed with clinic-a.dr-ahmed's signing certificate",
        expected: R.notAuthorized,
        send: async (r) => {
          const own = await r.harness.region.practitioner('clinic-b.dr-ahmed');
          const impostor = expertEntry(
            { ...own, signing: r.harness.expert.signing },
            { organizationId: 'clinic-b.sorvik', endpoints: ['clinic-b'] },
          );
          return toHub(
            r,
            await r.publish({
              payload: directoryEntries([hospital('clinic-b.sorvik', 'Sørvik Health Centre'), ...impostor]),
            }),
            'rejected',
          );
        },
      },
      {
        name: "clinic-b places its entry under clinic-a's hospital",
        expected: R.notAuthorized,
        send: async (r) => {
          const own = await r.harness.region.practitioner('clinic-b.dr-ahmed');
          return toHub(
            r,
            await r.publish({
              payload: directoryEntries(
                expertEntry(own, { organizationId: 'clinic-a.riverside', endpoints: ['clinic-b'] }),
              ),
            }),
            'rejected',
          );
        },
      },
    ],
  },
  {
    name: 'unknown recipient',
    hub: [
      {
        name: 'consult to clinic-a.dr-nobody',
        expected: R.unknownRecipient,
        send: async (r) =>
          toHub(r, r.bareConsult(randomBytes(256), {}, { rtsToPractitioner: 'clinic-a.dr-nobody' }), 'rejected'),
      },
      {
        // Receipts are never answered by receipts: the dead letter is all there is.
        name: 'receipt to an unregistered endpoint',
        expected: R.unknownRecipient,
        send: async (r) =>
          toHub(
            r,
            r.bareConsult(
              randomBytes(256),
              { content_type: CONTENT_TYPES.signed, correlation_id: randomUUID() },
              {
                rtsType: 'receipt',
                rtsReceipt: 'processed',
                rtsToEndpoint: 'ws-nowhere',
                rtsCase: undefined,
                rtsFromPractitioner: undefined,
                rtsToPractitioner: undefined,
                rtsSequence: undefined,
              },
            ),
            'none',
          ),
      },
    ],
  },
  {
    name: 'retired expert',
    hub: [
      {
        name: 'consult to retired clinic-a.dr-lund',
        expected: R.retiredExpert,
        send: async (r) =>
          toHub(r, r.bareConsult(randomBytes(256), {}, { rtsToPractitioner: 'clinic-a.dr-lund' }), 'rejected'),
      },
    ],
  },
  {
    name: 'out-of-order status',
    workstation: [
      {
        name: 'information-provided while requested',
        expected: R.outOfOrder,
        send: async (r) =>
          toWorkstation(r, await r.consult({ caseId: r.knownCase, status: 'information-provided', sequence: 2 })),
      },
      {
        name: 'a second request for a known case',
        expected: R.outOfOrder,
        send: async (r) => toWorkstation(r, await r.consult({ caseId: r.knownCase })),
      },
    ],
  },
  {
    // Issue #16 item 2: two valid requests for one case arriving together used to break the inbox batch's commit, and
    // the whole batch (a STAT consult in it) went back to the broker until its delivery limit dead-lettered it unseen.
    name: 'two requests for one case in one inbox batch',
    workstation: [
      {
        name: 'a second request for the case, then a STAT consult, in one burst',
        expected: `${R.outOfOrder} (first kept, STAT consult stored)`,
        send: sameCaseBurst,
      },
    ],
  },
  {
    // docs/protocol.md §7.1: a repeat is settled without effect and the first outcome stands (and is answered again).
    name: 'duplicate message_id',
    hub: [
      {
        name: 'a refused consult sent twice',
        expected: `${R.unknownRecipient} (answered twice, dead-lettered once)`,
        send: async (r) => {
          const fields = r.bareConsult(randomBytes(256), {}, { rtsToPractitioner: 'clinic-a.dr-nobody' });
          for (let i = 0; i < 2; i++) await r.sendToHub({ ...fields, user_id: Buffer.from('clinic-b') });
          return {
            evidence: 'dead letters + rejected receipts',
            async observe() {
              const letters = await r.hubDeadLetters({ messageId: fields.message_id });
              const receipts = r
                .receiptsAtClinicB(fields.message_id)
                .filter((m) => m.properties.rtsReceipt === 'rejected');
              if (letters.length === 0 || receipts.length < 2) return undefined;
              const reasons = new Set([
                ...letters.map((l) => l.reason),
                ...receipts.map((m) => String(m.properties.rtsReason)),
              ]);
              return `${[...reasons].join('+')} (answered ${receipts.length === 2 ? 'twice' : `${receipts.length} times`}, dead-lettered ${letters.length === 1 ? 'once' : `${letters.length} times`})`;
            },
          };
        },
      },
    ],
    workstation: [
      {
        name: 'a good consult sent twice',
        expected: 'processed (applied once, not refused)',
        send: async (r) => {
          const fields = await r.consult();
          for (let i = 0; i < 2; i++) await r.sendToWorkstation(fields);
          return {
            evidence: 'case messages + refused list',
            async observe() {
              if (!(await caseExists(r, fields.caseId))) return undefined;
              const copies = (await r.call(COMMANDS.openCase, { caseId: fields.caseId })).messages.filter(
                (m) => m.messageId === fields.message_id,
              ).length;
              const refused = (await r.workstationRefusals({ messageId: fields.message_id })).length;
              return `processed (applied ${copies === 1 ? 'once' : `${copies} times`}, ${refused === 0 ? 'not refused' : `refused ${refused} times`})`;
            },
          };
        },
      },
      {
        name: 'a refused message sent twice',
        expected: `${R.unknownType} (recorded once)`,
        send: async (r) => {
          const fields = r.bareConsult(randomBytes(64), {}, { rtsType: 'consult.gossip' });
          for (let i = 0; i < 2; i++) await r.sendToWorkstation(fields);
          return {
            evidence: 'refused list',
            async observe() {
              const refusals = await r.workstationRefusals({ messageId: fields.message_id });
              return refusals.length === 0
                ? undefined
                : `${refusals[0]!.reason} (recorded ${refusals.length === 1 ? 'once' : `${refusals.length} times`})`;
            },
          };
        },
      },
    ],
  },
  {
    // The hub forwards a receipt only about a message it routed from the addressee to the receipt's sender
    // (docs/protocol.md §6.1); receipts are never answered by receipts, so the dead letter is all there is.
    name: 'receipt to an unrelated endpoint',
    hub: [
      {
        name: 'receipt to clinic-a about nothing routed between them',
        expected: R.notAuthorized,
        send: async (r) => toHub(r, receiptTo('clinic-a', r, randomBytes(256)), 'none'),
      },
      {
        name: 'receipt of 32 MiB to clinic-a',
        expected: R.tooLarge,
        send: async (r) => toHub(r, receiptTo('clinic-a', r, new Uint8Array(PROTOCOL_LIMITS.maxBodyBytes)), 'none'),
      },
    ],
  },
  {
    // docs/protocol.md §2.3: a registration, snapshot request or receipt is refused on its size before it is parsed.
    name: 'oversized for its type',
    hub: [
      {
        name: 'endpoint.register of 1 MiB',
        expected: R.tooLarge,
        send: async (r) => toHub(r, bareOf(r, { rtsType: 'endpoint.register' }, randomBytes(1024 * 1024)), 'rejected'),
      },
      {
        name: 'directory.snapshot-request of 1 MiB',
        expected: R.tooLarge,
        send: async (r) =>
          toHub(r, bareOf(r, { rtsType: 'directory.snapshot-request' }, randomBytes(1024 * 1024)), 'rejected'),
      },
    ],
  },
  {
    // docs/protocol.md §5.1: at most one snapshot per endpoint per interval; every request is answered, and those
    // that came too soon share one snapshot when the interval is over.
    name: 'snapshot request flood',
    hub: [
      {
        name: '20 snapshot requests from clinic-b at once',
        expected: 'processed x20, at most one snapshot built, one more waiting',
        send: snapshotFlood,
      },
    ],
  },
];

/** Fields of a hub-bound message of clinic-b with these properties (not a consult's) and any body. */
function bareOf(
  r: BadInputRegion,
  properties: Record<string, unknown>,
  body: Uint8Array,
  overrides: Partial<RawFields> = {},
): RawFields & { message_id: string } {
  return r.bareConsult(
    body,
    { content_type: CONTENT_TYPES.signed, ...overrides },
    {
      rtsCase: undefined,
      rtsFromPractitioner: undefined,
      rtsToPractitioner: undefined,
      rtsSequence: undefined,
      ...properties,
    },
  );
}

function receiptTo(endpoint: string, r: BadInputRegion, body: Uint8Array): RawFields & { message_id: string } {
  return bareOf(r, { rtsType: 'receipt', rtsReceipt: 'processed', rtsToEndpoint: endpoint }, body, {
    correlation_id: randomUUID(),
  });
}

async function snapshotFlood(r: BadInputRegion): Promise<Probe> {
  const clinicB = r.harness.clinics['clinic-b'];
  const snapshots = () =>
    new Set(
      clinicB.received.filter((m) => m.properties.rtsType === 'directory.snapshot').map((m) => m.properties.rtsBatchId),
    );
  const before = snapshots();
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const messageId = randomUUID();
    const creationTime = new Date();
    const fields = await sealMessage({
      messageId,
      creationTime,
      userId: 'clinic-b',
      signer: r.signers.clinicB,
      properties: { rtsType: 'directory.snapshot-request', rtsVersion: PROTOCOL_VERSION, rtsSender: 'clinic-b' },
      payload: buildSnapshotRequest({ messageId, timestamp: creationTime, sender: 'clinic-b' }, { knownVersion: 0 }),
    });
    const outcome = await r.sendToHub(fields);
    if (outcome !== 'accepted') return { evidence: 'broker', observe: async () => `broker ${outcome}` };
    ids.push(messageId);
  }
  return {
    evidence: "receipts + snapshots at clinic-b + the hub's snapshot state",
    async observe() {
      const processed = ids.filter((id) =>
        r.receiptsAtClinicB(id).some((m) => m.properties.rtsReceipt === 'processed'),
      ).length;
      if (processed < ids.length) return undefined;
      const built = [...snapshots()].filter((id) => !before.has(id)).length;
      const [state] = await r.harness.hub.sql.query<{ pending: boolean }>(
        "select pending from snapshot_state where endpoint = 'clinic-b'",
      );
      return `processed x${processed}, ${built <= 1 ? 'at most one snapshot built' : `${built} snapshots built`}, ${state?.pending ? 'one more waiting' : 'none waiting'}`;
    },
  };
}

function forgedSender(fields: RawFields & { message_id: string }): RawFields & { message_id: string } {
  return {
    ...fields,
    application_properties: { ...(fields.application_properties as Record<string, unknown>), rtsSender: 'clinic-a' },
  };
}

/** The first issue's text of a receipt (a signed FHIR Bundle), read without verifying: the test only compares it. */
function receiptText(body: Uint8Array): string {
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(body).content });
  const payload = JSON.parse(new TextDecoder().decode(signed.encapContentInfo.eContent!.getValue())) as {
    entry: { resource: { resourceType: string; issue?: { details?: { text?: string } }[] } }[];
  };
  return (
    payload.entry.find((e) => e.resource.resourceType === 'OperationOutcome')?.resource.issue?.[0]?.details?.text ?? ''
  );
}

/**
 * Sent by clinic-b through the hub, which routes it to the workstation (it cannot look inside): what the workstation
 * recorded for itself, and the receipt the hub forwarded back to clinic-b (code and text).
 */
async function viaHub(region: BadInputRegion, fields: RawFields & { message_id: string }): Promise<Probe> {
  const outcome = await region.sendToHub({ ...fields, user_id: Buffer.from('clinic-b') });
  if (outcome !== 'accepted') return { evidence: 'broker', observe: async () => `broker ${outcome}` };
  return {
    evidence: 'refused list + receipt at clinic-b',
    async observe() {
      const local = reasons(await region.workstationRefusals({ messageId: fields.message_id }));
      const receipts = region
        .receiptsAtClinicB(fields.message_id)
        .filter((m) => m.properties.rtsReceipt === 'rejected');
      if (!local || receipts.length === 0) return undefined;
      return `${local}; ${receipts.map((m) => `receipt ${String(m.properties.rtsReceipt)}:${String(m.properties.rtsReason)} "${receiptText(m.body)}"`).join(' + ')}`;
    },
  };
}

/**
 * A case the workstation accepts, then the applicant's signed `processed` receipt about that step with its clear-text
 * outcome changed, as a forwarding hub could (docs/protocol.md §4).
 */
async function relabelledReceipt(r: BadInputRegion, change: Record<string, unknown>): Promise<Probe> {
  const request = await r.consult();
  await r.sendToWorkstation(request);
  await until(() => caseExists(r, request.caseId), 'the case at the workstation');
  await r.call(COMMANDS.actOnCase, { caseId: request.caseId, action: 'accept' });
  const step = (await r.call(COMMANDS.openCase, { caseId: request.caseId })).messages.find(
    (m) => m.direction === 'out',
  )!;
  const creationTime = new Date();
  const messageId = randomUUID();
  const fields = await sealMessage({
    messageId,
    creationTime,
    userId: r.broker.hub.name,
    correlationId: step.messageId,
    signer: r.signers.applicant.signing,
    properties: {
      rtsType: 'receipt',
      rtsVersion: PROTOCOL_VERSION,
      rtsSender: 'clinic-b',
      rtsReceipt: 'processed',
      rtsToEndpoint: WS,
    },
    payload: buildReceipt(
      { messageId, timestamp: creationTime, sender: 'clinic-b' },
      { toEndpoint: WS, originalMessageId: step.messageId, outcome: 'processed' },
    ),
  });
  return toWorkstation(r, {
    ...fields,
    message_id: messageId,
    application_properties: { ...fields.application_properties, ...change },
  });
}

async function caseExists(region: BadInputRegion, caseId: string): Promise<boolean> {
  return (await region.call(COMMANDS.listCases, { limit: 100_000 })).some((c) => c.caseId === caseId);
}

/**
 * Four consults sent back to back: while the workstation handles the first, the other three arrive and are handled as
 * one batch (a request, a second request for its case, a STAT consult).
 */
async function sameCaseBurst(r: BadInputRegion): Promise<Probe> {
  const stat = (bundle: Record<string, unknown>) => {
    (bundle.entry as { resource: Record<string, unknown> }[])[1]!.resource.priority = 'stat';
  };
  const lead = await r.consult();
  const first = await r.consult();
  const second = await r.consult({ caseId: first.caseId });
  const urgent = await r.consult({ payload: stat });
  const outcomes = await Promise.all([lead, first, second, urgent].map((fields) => r.sendToWorkstation(fields)));
  const refused = outcomes.find((o) => o !== 'accepted');
  if (refused) return { evidence: 'broker', observe: async () => `broker ${refused}` };
  return {
    evidence: 'refused list + cases',
    async observe() {
      const refusals = await r.workstationRefusals({ messageId: second.message_id });
      if (refusals.length === 0 || !(await caseExists(r, urgent.caseId))) return undefined;
      const kept = (await r.call(COMMANDS.openCase, { caseId: first.caseId })).messages.some(
        (m) => m.messageId === first.message_id && m.state === 'verified',
      );
      return `${refusals.map((x) => x.reason).join('+')} (${kept ? 'first kept' : 'first lost'}, STAT consult stored)`;
    },
  };
}
