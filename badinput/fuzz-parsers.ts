import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createTestRegion } from '../testkit/index.ts';
import {
  CONTENT_ENCRYPTION,
  decrypt,
  importDecryptionKey,
  inspect,
  isCmsError,
  seal,
  verify,
  type CertificateUse,
  type CmsRecipientIdentity,
  type TrustConfig,
} from '../shared/cms/index.ts';
import { createNativeCertificateValidator, loadFhirDefinitions } from '../shared-node/index.ts';
import { createCrl, exportPrivateKeyPkcs8, generateKeyPair, issueCertificate, KEY_TYPES } from '../shared/pki/index.ts';
import { buildConsultRequest, buildHubNotice, validatePayload } from '../shared/protocol/fhir/index.ts';
import {
  CONTENT_TYPES,
  decodeMessage,
  openMessage,
  sealMessage,
  PROTOCOL_VERSION,
  type AmqpMessageFields,
  type MessageMetadata,
} from '../shared/protocol/index.ts';

/**
 * Property-based fuzzing of everything that reads untrusted bytes before a signature vouches for them: the AMQP
 * message decoder, the CMS parsers (inspect, verify, decrypt), the whole opening of a message, and payload validation.
 * Inputs are random bytes, random property maps, and valid messages damaged by bit flips, truncation, splices,
 * inserted or deleted bytes and edited DER length fields. A crash is any thrown value that is not the module's own
 * typed error (CmsError for the CMS functions; the decoder, openMessage and the payload validator return typed
 * results and must not throw at all), or an unhandled error at process level; a hang is one input running longer
 * than HANG_MS.
 */
export const HANG_MS = 2_000;

export interface FuzzTargetResult {
  readonly target: string;
  readonly inputs: number;
  readonly crashes: number;
  readonly hangs: number;
  /** The first crash or hang, shrunk by fast-check where it could: what threw and on which input (hex, shortened). */
  readonly examples: readonly string[];
  readonly ms: number;
}

export interface FuzzResult {
  readonly targets: readonly FuzzTargetResult[];
  readonly inputs: number;
  readonly crashes: number;
  readonly hangs: number;
}

type Verdict = 'ok' | { crash: string } | 'hang';

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.subarray(0, 48)).toString('hex') + (bytes.byteLength > 48 ? `…(${bytes.byteLength} bytes)` : '');

function describe(error: unknown): string {
  if (error instanceof Error)
    return `${error.name}: ${error.message.slice(0, 160)}${error.stack ? ` at ${error.stack.split('\n')[1]?.trim() ?? ''}` : ''}`;
  return `non-Error thrown: ${String(error).slice(0, 120)}`;
}

/** Runs one input with the hang bound: async work races a timer; sync work is measured (it cannot be interrupted). */
async function judge(run: () => unknown, allowed: (error: unknown) => boolean): Promise<Verdict> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = run();
    if (result instanceof Promise) {
      const outcome = await Promise.race([
        result.then(() => 'done' as const),
        new Promise<'hang'>((resolve) => {
          timer = setTimeout(() => resolve('hang'), HANG_MS);
        }),
      ]);
      if (outcome === 'hang') return 'hang';
    }
  } catch (error) {
    if (!allowed(error)) return { crash: describe(error) };
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - started > HANG_MS ? 'hang' : 'ok';
}

// --- damaging valid input -------------------------------------------------------------------------------------------

/** Offsets of every DER length field in a definite-length encoding (walked recursively through constructed values). */
function lengthFields(der: Uint8Array): number[] {
  const found: number[] = [];
  const walk = (start: number, end: number, depth: number) => {
    let at = start;
    while (at < end && depth < 32) {
      const tag = der[at]!;
      let p = at + 1;
      if ((tag & 0x1f) === 0x1f) while (p < end && der[p]! & 0x80) p++;
      if ((tag & 0x1f) === 0x1f) p++;
      if (p >= end) return;
      found.push(p);
      const first = der[p]!;
      let length = first;
      let header = 1;
      if (first & 0x80) {
        header += first & 0x7f;
        length = 0;
        for (let i = 1; i < header; i++) length = length * 256 + (der[p + i] ?? 0);
      }
      const contentStart = p + header;
      if (first === 0x80 || contentStart + length > end) return;
      if (tag & 0x20) walk(contentStart, contentStart + length, depth + 1);
      at = contentStart + length;
    }
  };
  walk(0, der.byteLength, 0);
  return found;
}

type Mutation =
  | { kind: 'flip'; flips: [number, number][] }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; other: number; at: number; from: number }
  | { kind: 'length'; which: number; value: number; long: Uint8Array | null }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), other: fc.nat(), at: fc.nat(), from: fc.nat() }),
  fc.record({
    kind: fc.constant('length' as const),
    which: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x88, 0xff)),
    long: fc.option(fc.uint8Array({ minLength: 1, maxLength: 8 })),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
);

function mutate(
  base: Uint8Array,
  mutation: Mutation,
  corpus: readonly Uint8Array[],
  lengths: readonly number[],
): Uint8Array {
  const n = Math.max(base.byteLength, 1);
  switch (mutation.kind) {
    case 'flip': {
      const out = base.slice();
      for (const [at, bit] of mutation.flips) if (out.byteLength) out[at % n] = out[at % n]! ^ (1 << bit);
      return out;
    }
    case 'truncate':
      return base.slice(0, mutation.at % n);
    case 'splice': {
      const other = corpus[mutation.other % corpus.length]!;
      return Buffer.concat([
        base.subarray(0, mutation.at % n),
        other.subarray(mutation.from % Math.max(other.byteLength, 1)),
      ]);
    }
    case 'length': {
      if (lengths.length === 0) return base.slice();
      const at = lengths[mutation.which % lengths.length]!;
      // Either one new length byte, or a long form with chosen bytes in place of the old first length byte.
      const replacement = mutation.long
        ? Uint8Array.of(0x80 | mutation.long.byteLength, ...mutation.long)
        : Uint8Array.of(mutation.value);
      return Buffer.concat([base.subarray(0, at), replacement, base.subarray(at + 1)]);
    }
    case 'insert':
      return Buffer.concat([
        base.subarray(0, mutation.at % (n + 1)),
        mutation.bytes,
        base.subarray(mutation.at % (n + 1)),
      ]);
    case 'delete':
      return Buffer.concat([base.subarray(0, mutation.at % n), base.subarray((mutation.at % n) + mutation.count)]);
  }
}

/** A random DER-shaped tree: real tags and lengths around random leaves, so parsers get past their first byte. */
const derTreeArb: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(
        fc.constantFrom(0x02, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x17, 0x18, 0x80, 0x81, 0x82, 0x03),
        fc.uint8Array({ maxLength: 40 }),
      )
      .map(([tag, value]) => Uint8Array.of(tag, ...derLength(value.byteLength), ...value)),
    fc
      .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3, 0x24), fc.array(tie('node'), { maxLength: 5 }))
      .map(([tag, parts]) => {
        const value = Buffer.concat(parts);
        return Uint8Array.of(tag, ...derLength(value.byteLength), ...value);
      }),
  ),
})).node;

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Random bytes, a random DER tree, or a corpus item damaged one to three times. */
function bytesArb(corpus: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const lengths = corpus.map(lengthFields);
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
    { weight: 1, arbitrary: derTreeArb },
    {
      weight: 6,
      arbitrary: fc.tuple(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([index, mutations]) => {
        const i = index % corpus.length;
        return mutations.reduce(
          (bytes, m) => mutate(bytes, m, corpus, bytes === corpus[i] ? lengths[i]! : lengthFields(bytes)),
          corpus[i]!,
        );
      }),
    },
  );
}

// --- AMQP fields ----------------------------------------------------------------------------------------------------

const PROPERTY_NAMES = [
  'rtsType',
  'rtsVersion',
  'rtsSender',
  'rtsCase',
  'rtsFromPractitioner',
  'rtsToPractitioner',
  'rtsSequence',
  'rtsStatus',
  'rtsDirectoryMode',
  'rtsBatchId',
  'rtsBatchIndex',
  'rtsBatchCount',
  'rtsDirectoryVersion',
  'rtsDirectoryBaseVersion',
  'rtsToEndpoint',
  'rtsReceipt',
  'rtsReason',
  'rtsNotice',
  '__proto__',
  'constructor',
  'toString',
];
const FIELD_NAMES = [
  'message_id',
  'user_id',
  'correlation_id',
  'creation_time',
  'content_type',
  'durable',
  'application_properties',
  'body',
] as const;

const oddValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withDate: true,
    withTypedArray: true,
    withBigInt: true,
    withNullPrototype: true,
    withMap: true,
    withSet: true,
    withSparseArray: true,
    withBoxedValues: true,
    maxDepth: 2,
  }),
  fc.constantFrom(
    'consult.request',
    'consult.status',
    'receipt',
    'directory.publish',
    'hub.notice',
    '1.0',
    '1.99',
    '2.0',
    '01.0',
    '1.0.0',
    '',
    ' ',
    '\u0000',
    'clinic-a',
    'clinic-a.dr-x',
    '00000000-0000-4000-8000-000000000001',
    NaN,
    Infinity,
    -0,
    2 ** 53,
    -1,
    0,
    2_147_483_648,
    new Date(Number.NaN),
    new Date(8.64e15),
    CONTENT_TYPES.signed,
    CONTENT_TYPES.authEnveloped,
    CONTENT_TYPES.enveloped,
  ),
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double(),
  fc.uint8Array({ maxLength: 64 }),
);

function fieldsArb(valid: readonly AmqpMessageFields[]): fc.Arbitrary<AmqpMessageFields> {
  const randomProperties = fc.dictionary(
    fc.oneof(fc.constantFrom(...PROPERTY_NAMES), fc.string({ maxLength: 12 })),
    oddValueArb,
    { maxKeys: 12 },
  );
  return fc.oneof(
    // A valid message with some properties replaced, added or removed.
    fc
      .tuple(
        fc.nat(),
        fc.dictionary(fc.constantFrom(...PROPERTY_NAMES), fc.option(oddValueArb), { maxKeys: 4 }),
        fc.dictionary(fc.constantFrom(...FIELD_NAMES), fc.option(oddValueArb), { maxKeys: 3 }),
      )
      .map(([i, props, fields]) => {
        const base = valid[i % valid.length]!;
        const properties: Record<string, unknown> = { ...(base.application_properties as Record<string, unknown>) };
        for (const [k, v] of Object.entries(props)) {
          if (v === null) delete properties[k];
          else properties[k] = v;
        }
        const out: Record<string, unknown> = { ...base, application_properties: properties };
        for (const [k, v] of Object.entries(fields)) {
          if (v === null) delete out[k];
          else out[k] = v;
        }
        return out;
      }),
    // Entirely random fields.
    fc.record(
      {
        message_id: oddValueArb,
        user_id: oddValueArb,
        correlation_id: oddValueArb,
        creation_time: oddValueArb,
        content_type: oddValueArb,
        durable: oddValueArb,
        application_properties: fc.oneof(randomProperties, oddValueArb),
        body: fc.oneof(fc.uint8Array({ maxLength: 64 }), oddValueArb),
      },
      { requiredKeys: [] },
    ),
  );
}

// --- fixtures -------------------------------------------------------------------------------------------------------

interface Fixtures {
  readonly trust: TrustConfig;
  readonly identity: CmsRecipientIdentity;
  readonly signedCorpus: Uint8Array[];
  readonly envelopeCorpus: Uint8Array[];
  readonly validFields: AmqpMessageFields[];
  readonly payloads: { bytes: Uint8Array; metadata: MessageMetadata }[];
  readonly expectedSigners: Uint8Array[];
  /** Certificates of every profile, as directory entries and signers carry them. */
  readonly certificates: Uint8Array[];
  cleanup(): void;
}

async function makeFixtures(): Promise<Fixtures> {
  const dir = mkdtempSync(join(tmpdir(), 'rts-fuzz-'));
  const region = await createTestRegion(join(dir, 'pki'));
  const applicant = await region.practitioner('clinic-b.dr-berg');
  const expert = await region.practitioner('clinic-a.dr-ahmed');
  // An RSA recipient too, so that key transport RecipientInfos are in the corpus as well as key agreement ones.
  const rsaKeys = await generateKeyPair(KEY_TYPES.rsa2048);
  const rsaRecipient = await issueCertificate({
    profile: 'practitioner-encryption',
    subject: { commonName: 'clinic-a.dr-rsa' },
    publicKey: rsaKeys.publicKey,
    issuer: region.ca,
  });
  const identity = {
    certificate: expert.encryption.certificate,
    privateKey: await importDecryptionKey(
      await exportPrivateKeyPkcs8(expert.encryption.privateKey),
      expert.encryption.certificate,
    ),
  };
  const trust: TrustConfig = { anchors: [region.ca.certificate], crls: [await createCrl(region.ca)] };

  const now = new Date();
  const caseId = '6f1c0d52-2a7e-4c61-9b1e-3f5d2a8c7e01';
  const consultProps = {
    rtsType: 'consult.request',
    rtsVersion: PROTOCOL_VERSION,
    rtsSender: 'clinic-b',
    rtsCase: caseId,
    rtsFromPractitioner: 'clinic-b.dr-berg',
    rtsToPractitioner: 'clinic-a.dr-ahmed',
    rtsSequence: 1,
  } as const;
  const consultPayload = (messageId: string) =>
    buildConsultRequest(
      { messageId, timestamp: now, sender: 'clinic-b' },
      {
        caseId,
        from: 'clinic-b.dr-berg',
        to: 'clinic-a.dr-ahmed',
        sequence: 1,
        priority: 'urgent',
        reason: 'Chest pain',
        patient: {
          family: 'Nilsen',
          given: ['Kari'],
          gender: 'female',
          birthDate: '1961-04-12',
          identifiers: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '12046112345' }],
        },
        vitals: [{ sign: 'heartRate', value: 104, effective: now }],
        waveforms: [
          { kind: 'ecg', effective: now, periodMs: 4, series: [{ lead: 'II', samples: [0, 0.1, 0.9, -0.2] }] },
        ],
      },
    );
  const noticeProps = {
    rtsType: 'hub.notice',
    rtsVersion: PROTOCOL_VERSION,
    rtsSender: 'hub',
    rtsNotice: 'maintenance',
    rtsToEndpoint: 'ws-expert-1',
  } as const;
  const noticePayload = (messageId: string) =>
    buildHubNotice(
      { messageId, timestamp: now, sender: 'hub' },
      { notice: 'maintenance', text: 'Tonight', toEndpoint: 'ws-expert-1' },
    );

  const consultId = crypto.randomUUID();
  const consult = await sealMessage({
    messageId: consultId,
    creationTime: now,
    userId: 'rts-hub',
    properties: consultProps,
    payload: consultPayload(consultId),
    signer: applicant.signing,
    recipientCertificates: [expert.encryption.certificate, applicant.encryption.certificate, rsaRecipient.der],
  });
  const noticeId = crypto.randomUUID();
  const notice = await sealMessage({
    messageId: noticeId,
    creationTime: now,
    userId: 'rts-hub',
    properties: noticeProps,
    payload: noticePayload(noticeId),
    signer: region.hub,
  });
  const cbc = await seal(
    new TextEncoder().encode(JSON.stringify(consultPayload(consultId))),
    applicant.signing,
    [expert.encryption.certificate, rsaRecipient.der],
    { contentEncryption: CONTENT_ENCRYPTION.cbc },
  );
  const decoded = [consult, notice].map((f) => decodeMessage(f, { now }));
  const payloads = decoded.flatMap((d, i) =>
    d.ok
      ? [
          {
            metadata: d.value.metadata,
            bytes: new TextEncoder().encode(
              JSON.stringify(i === 0 ? consultPayload(consultId) : noticePayload(noticeId)),
            ),
          },
        ]
      : [],
  );
  if (payloads.length !== 2) throw new Error('the fuzz fixtures do not decode');
  return {
    trust,
    identity,
    expectedSigners: [applicant.signing.certificate, region.hub.certificate],
    certificates: [
      applicant.signing.certificate,
      applicant.encryption.certificate,
      expert.signing.certificate,
      rsaRecipient.der,
      region.hub.certificate,
      region.revoked.certificate,
      region.ca.certificate,
    ],
    signedCorpus: [notice.body, region.ca.certificate],
    envelopeCorpus: [consult.body, cbc],
    validFields: [consult, notice, { ...consult, content_type: CONTENT_TYPES.enveloped, body: cbc }],
    payloads,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// --- running --------------------------------------------------------------------------------------------------------

interface Target<T> {
  readonly name: string;
  readonly runs: number;
  readonly arbitrary: fc.Arbitrary<T>;
  readonly run: (input: T) => unknown;
  readonly allowed: (error: unknown) => boolean;
  readonly show: (input: T) => string;
}

const never = () => false;

async function fuzzTarget<T>(target: Target<T>, seed: number): Promise<FuzzTargetResult> {
  const started = performance.now();
  let inputs = 0;
  let crashes = 0;
  let hangs = 0;
  const examples: string[] = [];
  // Every input is counted; the first crash or hang is then shrunk to a small example by a second, failing run.
  await fc.check(
    fc.asyncProperty(target.arbitrary, async (input) => {
      inputs += 1;
      const verdict = await judge(() => target.run(input), target.allowed);
      if (verdict === 'hang') hangs += 1;
      else if (verdict !== 'ok') crashes += 1;
      return true;
    }),
    { numRuns: target.runs, seed },
  );
  if (crashes + hangs > 0) {
    const details = await fc.check(
      fc.asyncProperty(
        target.arbitrary,
        async (input) => (await judge(() => target.run(input), target.allowed)) === 'ok',
      ),
      { numRuns: target.runs, seed },
    );
    const example = details.counterexample?.[0];
    if (example !== undefined) {
      const verdict = await judge(() => target.run(example), target.allowed);
      examples.push(
        `${verdict === 'hang' ? 'hang' : verdict === 'ok' ? 'flaky' : verdict.crash} on ${target.show(example)}`,
      );
    }
  }
  return { target: target.name, inputs, crashes, hangs, examples, ms: Math.round(performance.now() - started) };
}

export async function fuzzParsers(
  options: { seed?: number; scale?: number; log?: (line: string) => void } = {},
): Promise<FuzzResult> {
  const seed = options.seed ?? Date.now() % 2_147_483_647;
  const scale = options.scale ?? 1;
  const log = options.log ?? console.log;
  loadFhirDefinitions();
  const f = await makeFixtures();
  log(`fuzz: seed ${seed}, a crash is any throw but the target's typed error, a hang any input over ${HANG_MS} ms`);
  const processFailures: string[] = [];
  const onProcessFailure = (error: unknown) => processFailures.push(describe(error));
  process.on('unhandledRejection', onProcessFailure);
  process.on('uncaughtException', onProcessFailure);
  try {
    const allCms = [...f.signedCorpus, ...f.envelopeCorpus];
    const certificateCheck = createNativeCertificateValidator(f.trust);
    const now = new Date();
    const showFields = (x: AmqpMessageFields) =>
      JSON.stringify(x, (_k, v: unknown) =>
        v instanceof Uint8Array ? hex(v) : typeof v === 'bigint' ? `${v}n` : v,
      ).slice(0, 300);
    const targets: Target<never>[] = [
      {
        name: 'decodeMessage',
        runs: 30_000,
        arbitrary: fieldsArb(f.validFields),
        run: (x: AmqpMessageFields) => decodeMessage(x, { now }),
        allowed: never,
        show: showFields,
      },
      {
        name: 'cms inspect',
        runs: 25_000,
        arbitrary: bytesArb(allCms),
        run: (x: Uint8Array) => inspect(x),
        allowed: isCms,
        show: hex,
      },
      {
        name: 'cms verify',
        runs: 20_000,
        arbitrary: bytesArb(allCms),
        run: (x: Uint8Array) => verify(x, f.trust, { now }),
        allowed: isCms,
        show: hex,
      },
      {
        name: 'cms decrypt',
        runs: 15_000,
        arbitrary: bytesArb(f.envelopeCorpus.concat(f.signedCorpus.slice(0, 1))),
        run: (x: Uint8Array) => decrypt(x, f.identity),
        allowed: isCms,
        show: hex,
      },
      {
        name: 'openMessage',
        runs: 8_000,
        arbitrary: fc
          .tuple(fc.nat(), bytesArb(allCms))
          .map(([i, body]) => ({ ...f.validFields[i % f.validFields.length]!, body })),
        run: (x: AmqpMessageFields) =>
          openMessage(x, {
            trust: f.trust,
            now,
            recipientFor: () => f.identity,
            expectedSigners: () => f.expectedSigners,
          }),
        allowed: never,
        show: showFields,
      },
      {
        // The hub and the workstation check every directory entry's certificates with it (shared-node/).
        name: 'certificate check',
        runs: 10_000,
        arbitrary: fc.tuple(bytesArb(f.certificates), fc.constantFrom('signing' as const, 'encryption' as const)),
        run: ([der, use]: [Uint8Array, CertificateUse]) => certificateCheck(der, use, now),
        allowed: isCms,
        show: ([der]: [Uint8Array]) => hex(der),
      },
      {
        name: 'validatePayload',
        runs: 4_000,
        arbitrary: fc
          .tuple(fc.nat(), bytesArb(f.payloads.map((p) => p.bytes)))
          .map(([i, bytes]) => ({ bytes, metadata: f.payloads[i % f.payloads.length]!.metadata })),
        run: (x: { bytes: Uint8Array; metadata: MessageMetadata }) => validatePayload(x.bytes, x.metadata),
        allowed: never,
        show: (x: { bytes: Uint8Array }) => JSON.stringify(Buffer.from(x.bytes).toString('utf8').slice(0, 200)),
      },
    ] as unknown as Target<never>[];
    const results: FuzzTargetResult[] = [];
    for (const target of targets) {
      const result = await fuzzTarget({ ...target, runs: Math.max(1, Math.round(target.runs * scale)) }, seed);
      results.push(result);
      log(
        `fuzz ${result.target}: inputs=${result.inputs} crashes=${result.crashes} hangs=${result.hangs} (${result.ms} ms)`,
      );
      for (const example of result.examples) log(`  first failure: ${example}`);
    }
    // Let anything left pending surface before judging process-level failures.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const failure of processFailures) log(`fuzz process-level failure: ${failure}`);
    return {
      targets: results,
      inputs: results.reduce((n, r) => n + r.inputs, 0),
      crashes: results.reduce((n, r) => n + r.crashes, 0) + processFailures.length,
      hangs: results.reduce((n, r) => n + r.hangs, 0),
    };
  } finally {
    process.off('unhandledRejection', onProcessFailure);
    process.off('uncaughtException', onProcessFailure);
    f.cleanup();
  }
}

function isCms(error: unknown): boolean {
  return isCmsError(error);
}
