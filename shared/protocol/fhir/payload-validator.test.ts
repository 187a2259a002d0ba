import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type MessageMetadata } from '../message-codec.ts';
import { protocolExamples, type ProtocolExample } from '../examples.ts';
import { MESSAGE_TYPES } from '../message-types.ts';
import { buildHubNotice, readHubNotice } from './message-builders.ts';
import fc from 'fast-check';
import { validateFhirResource } from './fhir-base-validation.ts';
import { validatePayload, validatePayloadWith } from './payload-validator.ts';
import { loadFhirDefinitions } from '../../../shared-node/index.ts';

const certificates = { signing: btoa('signing certificate DER'), encryption: btoa('encryption certificate DER') };
const examples = protocolExamples(certificates);
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function metadataOf(example: ProtocolExample): MessageMetadata {
  const creationTime = new Date(example.amqp.creation_time);
  const fields = encodeMessage({
    messageId: example.amqp.message_id,
    creationTime,
    userId: example.amqp.user_id,
    contentType: example.amqp.content_type,
    properties: example.applicationProperties,
    body: new Uint8Array(1),
    ...(example.amqp.correlation_id && { correlationId: example.amqp.correlation_id }),
  });
  const decoded = decodeMessage(fields, { now: creationTime });
  if (!decoded.ok) throw new Error(decoded.error.detail);
  return decoded.value.metadata;
}

function example(type: string, index = 0): ProtocolExample {
  return examples.filter((e) => e.type === type)[index]!;
}

/** A deep copy of the example payload, changed by `mutate`. */
function mutated(e: ProtocolExample, mutate: (bundle: any) => void): Uint8Array {
  const copy = structuredClone(e.payload);
  mutate(copy);
  return encode(copy);
}

// As the workstation core and the hub do: the StructureDefinitions come from disk.
beforeAll(() => loadFhirDefinitions(), 30_000);

describe("a consult's files, which base validation sees without the data the profile checked", () => {
  const request = examples.filter((e) => e.type === MESSAGE_TYPES.consultRequest)[0]!;
  const withFile = (data: string) => {
    const bundle = structuredClone(request.payload) as { entry: unknown[] };
    bundle.entry.push({
      fullUrl: 'urn:uuid:0b8a3a52-3b7e-4c2a-9d7c-1f6f0c2f1a10',
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        // The Patient's entry.
        subject: { reference: (bundle.entry[3] as { fullUrl: string }).fullUrl },
        content: [{ attachment: { contentType: 'application/pdf', data, title: 'ECG' } }],
      },
    });
    return bundle;
  };

  it('is seen so by base validation done elsewhere too', async () => {
    const checked: unknown[] = [];
    const result = await validatePayloadWith(encode(withFile('QUJD')), metadataOf(request), async (resource) => {
      checked.push(resource);
      return [];
    });
    expect(result).toMatchObject({ ok: true });
    const file = (checked[0] as { entry: { resource: { content?: { attachment: object }[] } }[] }).entry.at(-1)!;
    expect(file.resource.content).toEqual([{ attachment: { contentType: 'application/pdf', title: 'ECG' } }]);
  });

  it('answers for every data string as validating the whole payload did', () => {
    const metadata = metadataOf(request);
    expect(validatePayload(encode(withFile('QUJD')), metadata)).toMatchObject({ ok: true });
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'QUJDab+/=-'), maxLength: 9 }), (data) => {
        const bundle = withFile(data);
        const result = validatePayload(encode(bundle), metadata);
        const code = result.ok ? 'ok' : result.error.code;
        // What the whole payload gave: the profile first, then base validation of everything as sent.
        const whole =
          code === 'schema-invalid' ? code : validateFhirResource(bundle).length > 0 ? 'fhir-invalid' : 'ok';
        expect(code).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });
});

describe('payload validation', () => {
  it('covers every message type with an example', () => {
    expect(new Set(examples.map((e) => e.type))).toEqual(new Set(Object.values(MESSAGE_TYPES)));
  });

  it.each(examples.map((e) => [e.title, e] as const))('accepts the example: %s', async (_title, e) => {
    const result = validatePayload(encode(e.payload), metadataOf(e));
    expect(result.ok ? 'ok' : result.error).toBe('ok');
    const checked: unknown[] = [];
    const elsewhere = await validatePayloadWith(encode(e.payload), metadataOf(e), async (resource) => {
      checked.push(resource);
      return validateFhirResource(resource);
    });
    expect(elsewhere).toEqual(result);
    expect(checked).toHaveLength(1);
  });

  const request = () => example(MESSAGE_TYPES.consultRequest);
  it.each<[string, () => Uint8Array, string]>([
    ['bytes that are not UTF-8', () => new Uint8Array([0xff, 0xfe, 0x7b]), 'invalid-json'],
    ['text that is not JSON', () => new TextEncoder().encode('{"resourceType": "Bundle",'), 'invalid-json'],
    ['a bundle without its Patient', () => mutated(request(), (b) => b.entry.splice(3, 1)), 'schema-invalid'],
    [
      'a MedicationRequest in a request',
      () => mutated(request(), (b) => b.entry.push(example(MESSAGE_TYPES.consultReport).payload.entry![3])),
      'schema-invalid',
    ],
    [
      'an unknown priority',
      () =>
        mutated(request(), (b) => {
          b.entry[1].resource.priority = 'whenever';
        }),
      'schema-invalid',
    ],
    [
      'an element FHIR R4 does not have',
      () =>
        mutated(request(), (b) => {
          b.entry[3].resource.favouriteColour = 'blue';
        }),
      'fhir-invalid',
    ],
    [
      'a wrong FHIR data type outside the profile',
      () =>
        mutated(request(), (b) => {
          b.entry[3].resource.deceasedBoolean = 'no';
        }),
      'fhir-invalid',
    ],
    [
      'another message id in the signed bundle',
      () =>
        mutated(request(), (b) => {
          b.identifier.value = 'urn:uuid:00000000-0000-4000-8000-0000000000ff';
        }),
      'header-mismatch',
    ],
    [
      'another case id in the signed bundle',
      () =>
        mutated(request(), (b) => {
          for (const i of [1, 2]) b.entry[i].resource.identifier[0].value = '11111111-2222-4333-8444-555555555555';
        }),
      'header-mismatch',
    ],
    [
      'another recipient in the signed bundle',
      () =>
        mutated(request(), (b) => {
          b.entry[0].resource.destination[0].receiver.identifier.value = 'clinic-b.dr-someone-else';
        }),
      'header-mismatch',
    ],
    [
      'another sender endpoint in the signed bundle',
      () =>
        mutated(request(), (b) => {
          b.entry[0].resource.source.endpoint = 'urn:rts:endpoint:ws-other';
        }),
      'header-mismatch',
    ],
  ])('rejects %s with its reason', async (_name, payload, code) => {
    const result = validatePayload(payload(), metadataOf(request()));
    expect(result).toMatchObject({ ok: false, error: { code } });
    // The same verdict, code and detail with base validation done elsewhere (the endpoints' worker thread).
    expect(await validatePayloadWith(payload(), metadataOf(request()), async (r) => validateFhirResource(r))).toEqual(
      result,
    );
  });

  it('rejects a status whose Task disagrees with rtsStatus', () => {
    const status = example(MESSAGE_TYPES.consultStatus);
    const payload = mutated(status, (b) => {
      b.entry[1].resource.businessStatus.coding[0].code = 'accepted';
    });
    expect(validatePayload(payload, metadataOf(status))).toMatchObject({
      ok: false,
      error: { code: 'header-mismatch' },
    });
  });

  it('rejects a receipt about another message than its correlation_id', () => {
    const receipt = example(MESSAGE_TYPES.receipt);
    const payload = mutated(receipt, (b) => {
      b.entry[0].resource.response.identifier = '00000000-0000-4000-8000-0000000000aa';
    });
    expect(validatePayload(payload, metadataOf(receipt))).toMatchObject({
      ok: false,
      error: { code: 'header-mismatch' },
    });
  });

  it('rejects a directory entry without certificates', () => {
    const publish = example(MESSAGE_TYPES.directoryPublish);
    const payload = mutated(publish, (b) => {
      b.entry[1].resource.entry[1].resource.extension = [];
    });
    expect(validatePayload(payload, metadataOf(publish))).toMatchObject({
      ok: false,
      error: { code: 'schema-invalid' },
    });
  });

  // Base FHIR validation leaves out the Practitioners' certificate extensions, which the profile checks in full.
  it.each<[string, (b: any) => void, string]>([
    [
      "an element beside a certificate extension's value",
      (b) => {
        b.entry[1].resource.entry[1].resource.extension[0].extension[1].valueString = 'x';
      },
      'schema-invalid',
    ],
    [
      "an element beside a certificate extension's parts",
      (b) => {
        b.entry[1].resource.entry[1].resource.extension[0].valueCode = 'x';
      },
      'schema-invalid',
    ],
    [
      'a certificate that is not base64',
      (b) => {
        b.entry[1].resource.entry[1].resource.extension[0].extension[1].valueBase64Binary = 'not base64!';
      },
      'schema-invalid',
    ],
    [
      'a Practitioner element FHIR R4 does not have, beside the certificates',
      (b) => {
        b.entry[1].resource.entry[1].resource.favouriteColour = 'blue';
      },
      'fhir-invalid',
    ],
    [
      'a wrong data type in a Practitioner, beside the certificates',
      (b) => {
        b.entry[1].resource.entry[1].resource.gender = 42;
      },
      'fhir-invalid',
    ],
    [
      'a certificate extension on a PractitionerRole, which the profile does not check',
      (b) => {
        b.entry[1].resource.entry[2].resource.extension = [
          { url: 'urn:rts:fhir:extension:certificate', valueBase64Binary: 'not base64!' },
        ];
      },
      'fhir-invalid',
    ],
  ])('rejects in a directory publish %s', (_name, mutate, code) => {
    const publish = example(MESSAGE_TYPES.directoryPublish);
    expect(publish.payload.entry![1]!.resource).toMatchObject({
      entry: [
        { resource: { resourceType: 'Organization' } },
        { resource: { resourceType: 'Practitioner' } },
        { resource: { resourceType: 'PractitionerRole' } },
      ],
    });
    expect(validatePayload(mutated(publish, mutate), metadataOf(publish))).toMatchObject({
      ok: false,
      error: { code },
    });
  });

  it('leaves base FHIR R4 out only when asked, and still checks the profile and the properties', () => {
    const update = example(MESSAGE_TYPES.directoryUpdate);
    const foreign = mutated(update, (b) => {
      b.entry[1].resource.entry[0].resource.favouriteColour = 'blue';
    });
    expect(validatePayload(foreign, metadataOf(update))).toMatchObject({ ok: false, error: { code: 'fhir-invalid' } });
    expect(validatePayload(foreign, metadataOf(update), { baseFhir: false })).toMatchObject({ ok: true });
    const unprofiled = mutated(update, (b) => {
      b.type = 'collection';
    });
    expect(validatePayload(unprofiled, metadataOf(update), { baseFhir: false })).toMatchObject({
      ok: false,
      error: { code: 'schema-invalid' },
    });
    const renumbered = mutated(update, (b) => {
      b.identifier.value = 'urn:uuid:00000000-0000-4000-8000-0000000000ff';
    });
    expect(validatePayload(renumbered, metadataOf(update), { baseFhir: false })).toMatchObject({
      ok: false,
      error: { code: 'header-mismatch' },
    });
  });

  // JSON.parse takes any depth; the recursive checks after it overflowed the stack, a RangeError taken for transient.
  it.each([MESSAGE_TYPES.consultRequest, MESSAGE_TYPES.directoryPublish])(
    'refuses a %s nesting 10,000 arrays as too-large, and takes 64 levels',
    (type) => {
      const e = example(type);
      const nested = (depth: number) =>
        new TextEncoder().encode(
          JSON.stringify(e.payload).replace('{', `{"deep":${'['.repeat(depth)}${']'.repeat(depth)},`),
        );
      expect(validatePayload(nested(10_000), metadataOf(e))).toEqual({
        ok: false,
        error: { code: 'too-large', detail: 'payload: arrays and objects nested deeper than 64 levels' },
      });
      // 63 arrays inside the Bundle object: at the limit, judged by the schema as usual.
      expect(validatePayload(nested(63), metadataOf(e))).toMatchObject({
        ok: false,
        error: { code: expect.stringMatching(/schema-invalid|fhir-invalid/) },
      });
    },
  );

  it('names the element at fault without quoting patient data', () => {
    const result = validatePayload(
      mutated(request(), (b) => {
        b.entry[3].resource.gender = 'Nasrin';
      }),
      metadataOf(request()),
    );
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'schema-invalid', detail: expect.stringContaining('Bundle.entry[3].resource.gender') },
    });
    expect(JSON.stringify(result)).not.toContain('Nasrin');
  });

  it('carries a CRL on a crl-updated hub notice, and refuses one that is not base64', () => {
    const notice = example(MESSAGE_TYPES.hubNotice);
    const crl = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
    const toEndpoint = String((notice.applicationProperties as Record<string, unknown>).rtsToEndpoint);
    const bundle = buildHubNotice(
      { messageId: notice.amqp.message_id, timestamp: new Date(notice.amqp.creation_time), sender: 'hub' },
      { notice: 'crl-updated', text: 'A new revocation list.', crl, toEndpoint },
    );
    expect(validatePayload(encode(bundle), metadataOf(notice))).toMatchObject({ ok: true });
    expect(readHubNotice(bundle)).toEqual({ notice: 'crl-updated', text: 'A new revocation list.', crl });
    expect(readHubNotice(notice.payload)).toEqual({ notice: 'registration-accepted', text: expect.any(String) });
    const broken = structuredClone(bundle);
    (broken.entry![1]!.resource as { parameter: { valueBase64Binary?: string }[] }).parameter[2]!.valueBase64Binary =
      'not base64!';
    expect(validatePayload(encode(broken), metadataOf(notice))).toMatchObject({
      ok: false,
      error: { code: 'schema-invalid' },
    });
  });
});
