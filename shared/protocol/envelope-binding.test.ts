import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_ENCRYPTION,
  encrypt,
  importDecryptionKey,
  importSigningKey,
  sign,
  type ContentEncryption,
} from '../cms/index.ts';
import { pemToDer } from '../pki/index.ts';
import { protocolExamples, type ProtocolExample } from './examples.ts';
import { CONTENT_TYPES, type AmqpMessageFields } from './message-codec.ts';
import { openMessage, sealMessage, type OpenResult } from './message-envelope.ts';
import { loadFhirDefinitions } from '../../shared-node/index.ts';

/**
 * Issue #16 items 6 and 11: what a forwarding hub can learn from a receipt, and what it can change in transit.
 *   6.  Past the key unwrap, every failure of an encrypted message gets one code and one text on the wire, and CBC
 *       (where padding made that an oracle) is refused before any key is touched.
 *   11. rtsSequence, creation_time and a receipt's outcome and reason are bound into the signed payload.
 */
const pki = join(import.meta.dirname, '..', '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));
const trust = { anchors: [der('ca.pem')], crls: [der('ca.crl.pem')] };
const examples = protocolExamples({ signing: btoa('s'), encryption: btoa('e') });
const example = (title: RegExp) => examples.find((e) => title.test(e.title))!;
const request = example(/chest pain/);
const now = new Date(request.amqp.creation_time);
const RECIPIENTS = ['clinic-b.dr-okafor.encryption', 'clinic-a.dr-rahman.encryption'];

async function signerOf(name: string) {
  const certificate = der(`${name}.cert.pem`);
  return { certificate, privateKey: await importSigningKey(der(`${name}.key.pem`), certificate) };
}

async function expertIdentity() {
  const certificate = der('clinic-b.dr-okafor.encryption.cert.pem');
  return {
    certificate,
    privateKey: await importDecryptionKey(der('clinic-b.dr-okafor.encryption.key.pem'), certificate),
  };
}

/** The consult request as the expert's workstation receives it, its body made by `body` from the signed payload. */
async function consult(
  body: (signed: Uint8Array) => Promise<Uint8Array>,
  contentType: string = CONTENT_TYPES.authEnveloped,
): Promise<AmqpMessageFields> {
  const fields = await sealMessage({
    messageId: request.amqp.message_id,
    creationTime: now,
    userId: 'rts-hub',
    properties: request.applicationProperties,
    payload: request.payload,
    signer: await signerOf('clinic-a.dr-rahman.signing'),
    recipientCertificates: RECIPIENTS.map((n) => der(`${n}.cert.pem`)),
  });
  const signed = await sign(
    new TextEncoder().encode(JSON.stringify(request.payload)),
    await signerOf('clinic-a.dr-rahman.signing'),
    { signingTime: now },
  );
  return { ...fields, content_type: contentType, body: await body(signed) };
}

const encryptedAs = (cipher: ContentEncryption) => (content: Uint8Array) =>
  encrypt(
    content,
    RECIPIENTS.map((n) => der(`${n}.cert.pem`)),
    { contentEncryption: cipher },
  );

function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at] = out[at]! ^ mask;
  return out;
}

async function openAsExpert(fields: AmqpMessageFields): Promise<OpenResult> {
  const identity = await expertIdentity();
  return openMessage(fields, {
    trust,
    now,
    recipientFor: () => identity,
    expectedSigners: () => [der('clinic-a.dr-rahman.signing.cert.pem')],
  });
}

/** What the receipt would say (code and text), and what the receiver keeps for itself. */
function answerOf(result: OpenResult) {
  if (result.ok) return { wire: 'accepted', local: 'accepted' };
  return {
    wire: `${result.error.code}: ${result.error.detail}`,
    local: result.error.withheld?.code ?? result.error.code,
  };
}

beforeAll(() => loadFhirDefinitions(), 30_000);

describe('one answer for every failure after the key unwrap (padding oracle, #16 item 6)', () => {
  it('gives a broken GCM tag, good GCM around garbage, a bad inner signature and a non-JSON payload the same code and text', async () => {
    const gcm = encryptedAs(CONTENT_ENCRYPTION.gcm);
    const variants = {
      'GCM tag broken': await consult(async (signed) => {
        const body = await gcm(signed);
        return flip(body, body.byteLength - 1);
      }),
      // Fixed, not random: random bytes now and then read as a DER header declaring a huge length: too-large (1 run in 3, 4 Dec).
      'good tag, garbage content': await consult(() => gcm(new Uint8Array(2048).fill(0x5a))),
      'bad inner signature': await consult((signed) =>
        gcm(flip(signed, Buffer.from(signed).indexOf(Buffer.from('chest pain')) + 2)),
      ),
      'signed payload not JSON': await consult(async () =>
        gcm(
          await sign(Uint8Array.of(0xff, 0xfe, 0x7b), await signerOf('clinic-a.dr-rahman.signing'), {
            signingTime: now,
          }),
        ),
      ),
    };
    const answers = Object.fromEntries(
      await Promise.all(
        Object.entries(variants).map(async ([name, fields]) => [name, answerOf(await openAsExpert(fields))] as const),
      ),
    );
    const wire = new Set(Object.values(answers).map((a) => a.wire));
    expect([...wire]).toEqual(['decrypt-failed: The message could not be opened.']);
    // The receiver itself still knows which it was (its refused list).
    expect(Object.fromEntries(Object.entries(answers).map(([name, a]) => [name, a.local]))).toEqual({
      'GCM tag broken': 'decrypt-failed',
      'good tag, garbage content': 'cms-malformed',
      'bad inner signature': 'bad-signature',
      'signed payload not JSON': 'invalid-json',
    });
  });

  it('gives a validly signed consult from the wrong signer and one whose payload breaks its profile the same answer', async () => {
    const identity = await expertIdentity();
    const fields = await consult(encryptedAs(CONTENT_ENCRYPTION.gcm));
    const mismatch = await openMessage(fields, {
      trust,
      now,
      recipientFor: () => identity,
      expectedSigners: () => [der('clinic-a.dr-other.signing.cert.pem')],
    });
    const noPatient = structuredClone(request.payload);
    noPatient.entry!.splice(3, 1);
    const invalid = await consult(async () =>
      encryptedAs(CONTENT_ENCRYPTION.gcm)(
        await sign(new TextEncoder().encode(JSON.stringify(noPatient)), await signerOf('clinic-a.dr-rahman.signing'), {
          signingTime: now,
        }),
      ),
    );
    expect([answerOf(mismatch), answerOf(await openAsExpert(invalid))]).toEqual([
      { wire: 'decrypt-failed: The message could not be opened.', local: 'signer-mismatch' },
      { wire: 'decrypt-failed: The message could not be opened.', local: 'schema-invalid' },
    ]);
  });

  it('refuses AES-CBC EnvelopedData before decrypting it: bad and good padding get the same answer', async () => {
    const cbc = encryptedAs(CONTENT_ENCRYPTION.cbc);
    // The top bit of the byte before the last block lands in the padding length, which can then never be valid.
    const badPadding = async (signed: Uint8Array) => {
      const body = await cbc(signed);
      return flip(body, body.byteLength - 17, 0x80);
    };
    const goodPaddingBadContent = () => cbc(new Uint8Array(randomBytes(2048)));
    const answers = [];
    for (const contentType of [CONTENT_TYPES.enveloped, CONTENT_TYPES.authEnveloped]) {
      for (const body of [badPadding, goodPaddingBadContent, cbc])
        answers.push(answerOf(await openAsExpert(await consult(body, contentType))));
    }
    // Labelled as CBC, the properties alone refuse it; labelled as GCM, the envelope does, before any key is unwrapped.
    expect(new Set(answers.slice(0, 3).map((a) => a.wire)).size).toBe(1);
    expect(new Set(answers.slice(3).map((a) => a.wire)).size).toBe(1);
    expect(answers.map((a) => a.local)).toEqual(Array(6).fill('cms-unsupported-algorithm'));
    expect(answers[0]!.wire).toMatch(
      /^cms-unsupported-algorithm: content_type: AES-256-CBC EnvelopedData is not accepted/,
    );
  });
});

describe('clear-text properties bound into the signed payload (#16 item 11)', () => {
  /** The example sealed as sent, then changed in transit as a forwarding hub could. */
  async function sealed(
    e: ProtocolExample,
    signer: string,
    change: (fields: AmqpMessageFields & { application_properties: Record<string, unknown> }) => AmqpMessageFields,
  ) {
    const encrypted = e.type.startsWith('consult.');
    const fields = await sealMessage({
      messageId: e.amqp.message_id,
      creationTime: new Date(e.amqp.creation_time),
      userId: 'rts-hub',
      properties: e.applicationProperties,
      payload: e.payload,
      signer: await signerOf(signer),
      ...(e.amqp.correlation_id && { correlationId: e.amqp.correlation_id }),
      ...(encrypted && { recipientCertificates: RECIPIENTS.map((n) => der(`${n}.cert.pem`)) }),
    });
    const identity = await expertIdentity();
    return openMessage(change(fields), {
      trust,
      now: new Date(e.amqp.creation_time),
      recipientFor: () => identity,
      expectedSigners: () => [der(`${signer}.cert.pem`)],
    });
  }
  const withProperties =
    (change: Record<string, unknown>) =>
    (fields: AmqpMessageFields & { application_properties: Record<string, unknown> }) => {
      const properties = { ...fields.application_properties, ...change };
      for (const [name, value] of Object.entries(change)) if (value === undefined) delete properties[name];
      return { ...fields, application_properties: properties };
    };
  const unchanged = (fields: AmqpMessageFields) => fields;
  const processed = example(/confirms it processed/);
  const rejected = example(/rejects a consult to a retired expert/);

  it('accepts each message as it was sent', async () => {
    expect(answerOf(await sealed(request, 'clinic-a.dr-rahman.signing', unchanged)).wire).toBe('accepted');
    expect(answerOf(await sealed(processed, 'clinic-b.dr-okafor.signing', unchanged)).wire).toBe('accepted');
    expect(answerOf(await sealed(rejected, 'hub', unchanged)).wire).toBe('accepted');
  });

  it('refuses a consult whose rtsSequence or creation_time the hub changed', async () => {
    const resequenced = await sealed(request, 'clinic-a.dr-rahman.signing', withProperties({ rtsSequence: 7 }));
    expect(resequenced.ok ? 'accepted' : resequenced.error.withheld).toEqual({
      code: 'header-mismatch',
      detail: 'MessageHeader sequence extension differs from rtsSequence',
    });
    const retimed = await sealed(request, 'clinic-a.dr-rahman.signing', (fields) => ({
      ...fields,
      creation_time: new Date(now.getTime() + 1000),
    }));
    expect(retimed.ok ? 'accepted' : retimed.error.withheld).toEqual({
      code: 'header-mismatch',
      detail: 'Bundle.timestamp differs from creation_time',
    });
  });

  it("refuses a peer's receipt whose outcome, reason or creation_time the hub changed", async () => {
    const outcomes = await Promise.all([
      sealed(
        processed,
        'clinic-b.dr-okafor.signing',
        withProperties({ rtsReceipt: 'rejected', rtsReason: 'out-of-order' }),
      ),
      sealed(processed, 'clinic-b.dr-okafor.signing', withProperties({ rtsReceipt: 'delivered' })),
      sealed(processed, 'clinic-b.dr-okafor.signing', withProperties({ rtsReason: 'duplicate' })),
      sealed(rejected, 'hub', withProperties({ rtsReceipt: 'processed', rtsReason: undefined })),
      sealed(rejected, 'hub', withProperties({ rtsReason: 'unknown-recipient' })),
      sealed(processed, 'clinic-b.dr-okafor.signing', (fields) => ({
        ...fields,
        creation_time: new Date(new Date(processed.amqp.creation_time).getTime() - 60_000),
      })),
    ]);
    expect(outcomes.map((o) => (o.ok ? 'accepted' : `${o.error.code}: ${o.error.detail}`))).toEqual([
      'header-mismatch: MessageHeader.response.code differs from rtsReceipt',
      "header-mismatch: the OperationOutcome's first code differs from rtsReceipt",
      'header-mismatch: rtsReason on a receipt that is not rejected',
      'header-mismatch: MessageHeader.response.code differs from rtsReceipt',
      "header-mismatch: the OperationOutcome's first code differs from rtsReason",
      'header-mismatch: Bundle.timestamp differs from creation_time',
    ]);
  });
});
