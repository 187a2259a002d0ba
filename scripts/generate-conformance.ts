/**
 * Generates docs/conformance/: a test PKI, every example message sealed as it travels, broken messages, and the
 * outcome a receiver must reach for each (vectors.json). Keys and signatures are random, so the output differs per run:
 * it is generated once, checked in, and shared/protocol/conformance.test.ts checks it on every test run.
 *
 *   node scripts/generate-conformance.ts
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSigningKey, seal, sign, type CmsSigner } from '../shared/cms/index.ts';
import {
  createCrl,
  createRootCertificate,
  derToPem,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  issueCertificate,
  PEM_LABELS,
  type KeyType,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import {
  protocolExamples,
  CONTENT_TYPES,
  sealMessage,
  PROTOCOL_MAJOR,
  REASON_CODES,
  CODES_WITHOUT_VECTOR,
  CONFORMANCE_EVALUATE_AT,
  CONFORMANCE_MISNAMED_IDENTITIES,
  type ProtocolExample,
  type AmqpMessageFields,
  type ReasonCode,
  type ConformanceVector,
  type UnboundEntry,
  type VectorMessage,
} from '../shared/protocol/index.ts';
import {
  ENROLMENT_FILE_EXTENSION,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  signEnrolment,
  type Enrolment,
} from '../shared/enrolment/index.ts';

const OUT = join(import.meta.dirname, '..', 'docs', 'conformance');
const DAY = 86_400_000;

interface Identity {
  name: string;
  certificate: Uint8Array;
  pkcs8: Uint8Array;
}

const identities = new Map<string, Identity>();
const pkiDir = join(OUT, 'pki');

async function buildPki() {
  const caKeys = await generateKeyPair('ec-p256');
  const ca = await createRootCertificate({
    keyPair: caKeys,
    subject: { commonName: 'Conformance Region Root CA', organization: 'RTS Conformance' },
    notBefore: new Date('2024-01-01T00:00:00Z'),
    validityDays: 7300,
  });
  const issuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const untrustedKeys = await generateKeyPair('ec-p256');
  const untrustedCa = await createRootCertificate({
    keyPair: untrustedKeys,
    subject: { commonName: 'Some Other Root CA', organization: 'Elsewhere' },
    notBefore: new Date('2024-01-01T00:00:00Z'),
    validityDays: 7300,
  });

  const issue = async (
    name: string,
    profile: LeafProfileName,
    commonName: string,
    options: { keyType?: KeyType; notBefore?: Date; validityDays?: number; by?: typeof issuer } = {},
  ) => {
    const keys = await generateKeyPair(options.keyType ?? 'ec-p256');
    const certificate = await issueCertificate({
      profile,
      publicKey: keys.publicKey,
      issuer: options.by ?? issuer,
      subject: { commonName, organization: 'RTS Conformance' },
      notBefore: options.notBefore ?? new Date('2026-01-01T00:00:00Z'),
      validityDays: options.validityDays ?? 3650,
    });
    const identity = { name, certificate: certificate.der, pkcs8: await exportPrivateKeyPkcs8(keys.privateKey) };
    identities.set(name, identity);
    return { ...identity, serialNumber: certificate.serialNumber };
  };

  // Every certificate names what the protocol knows its holder by (docs/protocol.md §3): the hub "hub", a clinic system
  // its endpoint id, a practitioner their directory id (the identity's name without the use).
  await issue('hub', 'hub', 'hub');
  await issue('clinic-a', 'clinic-system', 'clinic-a');
  await issue('clinic-b', 'clinic-system', 'clinic-b');
  await issue('clinic-a.dr-rahman.signing', 'practitioner-signing', 'clinic-a.dr-rahman');
  await issue('clinic-a.dr-rahman.encryption', 'practitioner-encryption', 'clinic-a.dr-rahman');
  // The expert uses RSA, so that the vectors cover RSA-OAEP key transport and RSA signatures too.
  await issue('clinic-b.dr-okafor.signing', 'practitioner-signing', 'clinic-b.dr-okafor', { keyType: 'rsa-2048' });
  await issue('clinic-b.dr-okafor.encryption', 'practitioner-encryption', 'clinic-b.dr-okafor', {
    keyType: 'rsa-2048',
  });
  // A second expert of clinic B, with an EC key: a consult for her is not for dr-okafor, and not for the applicant.
  await issue('clinic-b.dr-mensah.encryption', 'practitioner-encryption', 'clinic-b.dr-mensah');
  await issue('clinic-a.dr-expired.signing', 'practitioner-signing', 'clinic-a.dr-expired', {
    notBefore: new Date('2025-01-01T00:00:00Z'),
    validityDays: 30,
  });
  await issue('clinic-a.dr-future.signing', 'practitioner-signing', 'clinic-a.dr-future', {
    notBefore: new Date('2027-01-01T00:00:00Z'),
  });
  const revoked = await issue('clinic-a.dr-revoked.signing', 'practitioner-signing', 'clinic-a.dr-revoked');
  await issue('clinic-x.dr-untrusted.signing', 'practitioner-signing', 'clinic-x.dr-untrusted', {
    by: { certificate: untrustedCa.der, privateKey: untrustedKeys.privateKey },
  });
  await issue('clinic-a.dr-other.signing', 'practitioner-signing', 'clinic-a.dr-other');
  // Signs enrolment files only, as `rts region create` issues it: a name that is no endpoint or directory id.
  await issue('enrolment-signer', 'clinic-system', ENROLMENT_SIGNER_COMMON_NAME);
  // Against the naming rule on purpose: valid practitioner certificates issued to a person's name (binding vectors).
  for (const [name, commonName] of Object.entries(CONFORMANCE_MISNAMED_IDENTITIES)) {
    await issue(name, name.endsWith('.signing') ? 'practitioner-signing' : 'practitioner-encryption', commonName);
  }

  const crl = await createCrl(issuer, {
    revoked: [{ serialNumber: revoked.serialNumber, revocationDate: new Date('2026-06-01T00:00:00Z') }],
    thisUpdate: new Date('2026-11-01T00:00:00Z'),
    validityDays: 3650,
  });
  mkdirSync(pkiDir, { recursive: true });
  writeFileSync(join(pkiDir, 'ca.pem'), derToPem(ca.der, PEM_LABELS.certificate));
  writeFileSync(join(pkiDir, 'ca.crl.pem'), derToPem(crl, PEM_LABELS.crl));
  writeFileSync(join(pkiDir, 'untrusted-ca.pem'), derToPem(untrustedCa.der, PEM_LABELS.certificate));
  for (const identity of identities.values()) {
    writeFileSync(join(pkiDir, `${identity.name}.cert.pem`), derToPem(identity.certificate, PEM_LABELS.certificate));
    writeFileSync(join(pkiDir, `${identity.name}.key.pem`), derToPem(identity.pkcs8, PEM_LABELS.privateKey));
  }
}

async function signer(name: string): Promise<CmsSigner> {
  const identity = identities.get(name)!;
  return {
    certificate: identity.certificate,
    privateKey: await importSigningKey(identity.pkcs8, identity.certificate),
  };
}

const cert = (name: string) => identities.get(name)!.certificate;

/** The bytes of `from` replaced once by `to` (same length) in a DER body: a change after signing. */
function replaceOnce(body: Uint8Array, from: string, to: string): Uint8Array {
  const text = Buffer.from(body).toString('latin1');
  const at = text.indexOf(from);
  if (at < 0 || from.length !== to.length || text.indexOf(from, at + 1) >= 0)
    throw new Error(`"${from}" is not in the body exactly once`);
  return Uint8Array.from(Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1'));
}

/** Where the AES-256 key wrapped for `certificate` (an ECDH recipient, 40 bytes) starts in an enveloped body. */
function wrappedKeyOffset(body: Uint8Array, certificate: Uint8Array): number {
  const der = Buffer.from(certificate);
  const version = der.indexOf(Buffer.from([0xa0, 0x03, 0x02, 0x01, 0x02]));
  const serial = der.subarray(version + 5, version + 7 + der[version + 6]!);
  const rid = Buffer.from(body).indexOf(serial);
  const key = Buffer.from(body).indexOf(Buffer.from([0x04, 0x28]), rid + serial.length);
  if (version < 0 || rid < 0 || key < 0) throw new Error('no ECDH RecipientInfo for this certificate');
  return key + 2;
}

/** What `openssl cms` (3.x) says when it refuses a vector; the conformance test runs it and checks (docs/protocol.md appendix A.3). */
const OPENSSL_SAYS = {
  badSignature: 'content verify error',
  untrusted: 'unable to get local issuer certificate',
  expired: 'certificate has expired',
  notYetValid: 'certificate is not yet valid',
  revoked: 'certificate revoked',
  purpose: 'unsuitable certificate purpose',
  unreadable: 'Error reading SMIME Content Info',
  notARecipient: 'no matching recipient',
  contentDecrypt: 'Error decrypting CMS structure',
  // An ECDH recipient: the one line OpenSSL gives both when no RecipientInfo is its own and when its key unwrap fails.
  ecdhKey: 'Error decrypting CMS using private key',
} as const;
const vectors: ConformanceVector[] = [];

function writeVector(
  vector: Omit<ConformanceVector, 'dir'>,
  message: AmqpMessageFields & { body: Uint8Array },
  payload?: unknown,
) {
  const dir = `messages/${String(vectors.length + 1).padStart(2, '0')}-${vector.name}`;
  mkdirSync(join(OUT, dir), { recursive: true });
  const { body, user_id, creation_time, ...rest } = message;
  const described: VectorMessage = {
    ...(rest as Omit<VectorMessage, 'user_id' | 'creation_time' | 'body'>),
    user_id: new TextDecoder().decode(user_id as Uint8Array),
    creation_time: (creation_time as Date).toISOString(),
    body: 'body.p7m',
  };
  writeFileSync(join(OUT, dir, 'message.json'), JSON.stringify(described, null, 2) + '\n');
  writeFileSync(join(OUT, dir, 'body.p7m'), body);
  if (payload !== undefined) writeFileSync(join(OUT, dir, 'payload.json'), JSON.stringify(payload, null, 2) + '\n');
  vectors.push({ ...vector, dir });
}

/** Who signs each example, and who opens it in the vector. */
const ROLES: Record<string, { signer: string; recipients?: string[]; openedBy?: string }> = {
  'endpoint.register': { signer: 'clinic-b' },
  'directory.publish': { signer: 'clinic-b' },
  'directory.snapshot-request': { signer: 'clinic-a' },
  'directory.update': { signer: 'hub' },
  'directory.snapshot': { signer: 'hub' },
  'consult.request': {
    signer: 'clinic-a.dr-rahman.signing',
    recipients: ['clinic-b.dr-okafor.encryption', 'clinic-a.dr-rahman.encryption'],
    openedBy: 'clinic-b.dr-okafor.encryption',
  },
  'consult.status': {
    signer: 'clinic-b.dr-okafor.signing',
    recipients: ['clinic-a.dr-rahman.encryption', 'clinic-b.dr-okafor.encryption'],
    openedBy: 'clinic-a.dr-rahman.encryption',
  },
  'consult.report': {
    signer: 'clinic-b.dr-okafor.signing',
    recipients: ['clinic-a.dr-rahman.encryption', 'clinic-b.dr-okafor.encryption'],
    openedBy: 'clinic-a.dr-rahman.encryption',
  },
  'hub.notice': { signer: 'hub' },
};

function rolesOf(example: ProtocolExample) {
  if (example.type === 'receipt')
    return { signer: example.amqp.user_id === 'rts-hub' ? 'hub' : 'clinic-b.dr-okafor.signing' };
  return ROLES[example.type]!;
}

async function sealExample(
  example: ProtocolExample,
  overrides: {
    signer?: string;
    recipients?: string[];
    payload?: unknown;
    properties?: Record<string, unknown>;
    creationTime?: Date;
  } = {},
) {
  const roles = rolesOf(example);
  return sealMessage({
    messageId: example.amqp.message_id,
    creationTime: overrides.creationTime ?? new Date(example.amqp.creation_time),
    userId: example.amqp.user_id,
    properties: { ...example.applicationProperties, ...overrides.properties },
    payload: (overrides.payload ?? example.payload) as ProtocolExample['payload'],
    signer: await signer(overrides.signer ?? roles.signer),
    ...(roles.recipients && { recipientCertificates: (overrides.recipients ?? roles.recipients).map(cert) }),
    ...(example.amqp.correlation_id && { correlationId: example.amqp.correlation_id }),
  });
}

async function buildMessages(examples: ProtocolExample[]) {
  for (const example of examples) {
    const roles = rolesOf(example);
    writeVector(
      {
        name: example.type.replace('.', '-'),
        description: example.title,
        expected: 'accepted',
        signer: roles.signer,
        ...(roles.openedBy && { openedBy: roles.openedBy }),
      },
      await sealExample(example),
      example.payload,
    );
  }

  const request = examples.find((e) => e.type === 'consult.request')!;
  const asExpert = { openedBy: 'clinic-b.dr-okafor.encryption', signer: 'clinic-a.dr-rahman.signing' };
  const reject = async (
    name: string,
    description: string,
    expected: ReasonCode,
    message: AmqpMessageFields & { body: Uint8Array },
    extra: Partial<ConformanceVector> = {},
  ) => writeVector({ name, description, expected, ...asExpert, ...extra }, message);
  /** Refused after the key unwrap: the receipt says decrypt-failed (docs/protocol.md §3 step 2), the receiver records why. */
  const opaque = (
    name: string,
    description: string,
    recorded: ReasonCode,
    message: AmqpMessageFields & { body: Uint8Array },
    extra: Partial<ConformanceVector> = {},
  ) => reject(name, description, 'decrypt-failed', message, { recorded, ...extra });
  const sealed = () => sealExample(request);

  const tampered = await sealed();
  tampered.body = tampered.body.slice();
  const flipAt = Math.floor(tampered.body.byteLength * 0.6);
  tampered.body[flipAt] = tampered.body[flipAt]! ^ 0x01;
  await opaque('tampered-ciphertext', 'One bit of the encrypted content flipped', 'decrypt-failed', tampered, {
    openssl: OPENSSL_SAYS.contentDecrypt,
  });
  const truncated = await sealed();
  await reject(
    'truncated-cms',
    'The envelope cut off after two thirds',
    'cms-malformed',
    { ...truncated, body: truncated.body.slice(0, Math.floor((truncated.body.byteLength * 2) / 3)) },
    { openssl: OPENSSL_SAYS.unreadable },
  );
  await reject(
    'garbage-body',
    'A body that is not CMS at all',
    'cms-malformed',
    { ...(await sealed()), body: new TextEncoder().encode('this is not a CMS message') },
    { openssl: OPENSSL_SAYS.unreadable },
  );
  await reject(
    'not-a-recipient',
    'Encrypted to the applicant only; opened by the expert',
    'not-a-recipient',
    await sealExample(request, { recipients: ['clinic-a.dr-rahman.encryption'] }),
    { openssl: OPENSSL_SAYS.notARecipient },
  );
  await opaque(
    'expired-signer',
    'Signed with a certificate that expired before the signing time',
    'certificate-expired',
    await sealExample(request, { signer: 'clinic-a.dr-expired.signing' }),
    { signer: 'clinic-a.dr-expired.signing', openssl: OPENSSL_SAYS.expired },
  );
  await opaque(
    'revoked-signer',
    "Signed with a certificate on the region's CRL",
    'certificate-revoked',
    await sealExample(request, { signer: 'clinic-a.dr-revoked.signing' }),
    { signer: 'clinic-a.dr-revoked.signing', openssl: OPENSSL_SAYS.revoked },
  );
  await opaque(
    'untrusted-chain',
    'Signed with a certificate from another CA',
    'untrusted-chain',
    await sealExample(request, { signer: 'clinic-x.dr-untrusted.signing' }),
    { signer: 'clinic-x.dr-untrusted.signing', openssl: OPENSSL_SAYS.untrusted },
  );
  await opaque(
    'signer-mismatch',
    'Validly signed, but by another practitioner than rtsFromPractitioner',
    'signer-mismatch',
    await sealExample(request, { signer: 'clinic-a.dr-other.signing' }),
  );
  const otherId = structuredClone(request.payload);
  otherId.identifier = { ...otherId.identifier!, value: 'urn:uuid:00000000-0000-4000-8000-0000000000ff' };
  await opaque(
    'header-mismatch',
    'The signed Bundle names another message id than message_id',
    'header-mismatch',
    await sealExample(request, { payload: otherId }),
  );
  const noPatient = structuredClone(request.payload);
  noPatient.entry!.splice(3, 1);
  await opaque(
    'schema-invalid',
    'A consult request without its Patient entry',
    'schema-invalid',
    await sealExample(request, { payload: noPatient }),
  );
  // What a forwarding hub could change in transit, bound into the signed payload since 2.0 (docs/protocol.md §4).
  const resequenced = await sealed();
  await opaque('sequence-changed', 'rtsSequence changed after signing (1 signed, 2 sent)', 'header-mismatch', {
    ...resequenced,
    application_properties: { ...resequenced.application_properties, rtsSequence: 2 },
  });
  const retimed = await sealed();
  await opaque(
    'creation-time-changed',
    'creation_time one second later than the signed Bundle.timestamp',
    'header-mismatch',
    { ...retimed, creation_time: new Date((retimed.creation_time as Date).getTime() + 1000) },
  );
  const [processed, rejected] = examples.filter((e) => e.type === 'receipt');
  const changedReceipt = async (example: ProtocolExample, change: Record<string, unknown>) => {
    const message = await sealExample(example);
    const changed: Record<string, unknown> = { ...message.application_properties, ...change };
    for (const [name, value] of Object.entries(change)) if (value === undefined) delete changed[name];
    return { ...message, application_properties: changed } as AmqpMessageFields & { body: Uint8Array };
  };
  await reject(
    'receipt-outcome-flipped',
    "A peer's processed receipt relabelled rejected (rtsReceipt, rtsReason) in transit",
    'header-mismatch',
    await changedReceipt(processed!, { rtsReceipt: 'rejected', rtsReason: 'out-of-order' }),
    { signer: rolesOf(processed!).signer, openedBy: undefined },
  );
  await reject(
    'receipt-reason-changed',
    'A rejected receipt whose rtsReason was changed in transit',
    'header-mismatch',
    await changedReceipt(rejected!, { rtsReason: 'unknown-recipient' }),
    { signer: rolesOf(rejected!).signer, openedBy: undefined },
  );
  const properties = (change: Record<string, unknown>) => async () => {
    const message = await sealed();
    return {
      ...message,
      application_properties: { ...message.application_properties, ...change },
    } as AmqpMessageFields & { body: Uint8Array };
  };
  await reject(
    'unknown-type',
    'rtsType consult.gossip',
    'unknown-type',
    await properties({ rtsType: 'consult.gossip' })(),
  );
  await reject(
    'unsupported-version',
    'rtsVersion 1.0, the previous major version (2.0 changed the signed binding)',
    'unsupported-version',
    await properties({ rtsVersion: '1.0' })(),
  );
  await reject('missing-case', 'No rtsCase', 'missing-property', await properties({ rtsCase: undefined })());
  await reject(
    'replay',
    'creation_time 40 days before the evaluation time',
    'replay',
    await sealExample(request, { creationTime: new Date(Date.parse(CONFORMANCE_EVALUATE_AT) - 40 * DAY) }),
  );
  // AES-256-CBC is refused before any key is unwrapped (docs/protocol.md §3), whatever the content_type says.
  const cbcBody = await seal(
    new TextEncoder().encode(JSON.stringify(request.payload)),
    await signer('clinic-a.dr-rahman.signing'),
    ['clinic-b.dr-okafor.encryption', 'clinic-a.dr-rahman.encryption'].map(cert),
    { contentEncryption: 'aes-256-cbc', signingTime: new Date(request.amqp.creation_time) },
  );
  await reject(
    'cbc-envelope',
    'A valid AES-256-CBC EnvelopedData, labelled enveloped-data: refused',
    'cms-unsupported-algorithm',
    { ...(await sealed()), content_type: CONTENT_TYPES.enveloped, body: cbcBody },
  );
  await reject(
    'cbc-envelope-as-gcm',
    'The same AES-256-CBC EnvelopedData, labelled authEnveloped-data: refused',
    'cms-unsupported-algorithm',
    { ...(await sealed()), body: cbcBody },
  );

  // A signed type (a practitioner's receipt) answers with the precise reason: the CMS-level refusals, where OpenSSL can
  // judge them too, and the payload checks.
  const receiptFrom = rolesOf(processed!).signer;
  const asReceipt = { signer: receiptFrom, openedBy: undefined };
  const receiptContent = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));
  /** The processed receipt's AMQP message with another signed body. */
  const signedReceipt = async (
    content: Uint8Array,
    signerName = receiptFrom,
    signingTime = new Date(processed!.amqp.creation_time),
  ) => ({ ...(await sealExample(processed!)), body: await sign(content, await signer(signerName), { signingTime }) });
  const byOther = async (signerName: string) => sealExample(processed!, { signer: signerName });
  const forged = await sealExample(processed!);
  forged.body = replaceOnce(forged.body, '"text":"processed"', '"text":"Processed"');
  await reject(
    'bad-signature',
    'A receipt whose signed content was changed after signing ("processed" → "Processed")',
    'bad-signature',
    forged,
    { ...asReceipt, openssl: OPENSSL_SAYS.badSignature },
  );
  await reject(
    'receipt-untrusted-chain',
    'A receipt signed with a certificate from another CA',
    'untrusted-chain',
    await byOther('clinic-x.dr-untrusted.signing'),
    { signer: 'clinic-x.dr-untrusted.signing', openedBy: undefined, openssl: OPENSSL_SAYS.untrusted },
  );
  await reject(
    'receipt-expired-signer',
    'A receipt signed with a certificate that expired before the signing time',
    'certificate-expired',
    await byOther('clinic-a.dr-expired.signing'),
    { signer: 'clinic-a.dr-expired.signing', openedBy: undefined, openssl: OPENSSL_SAYS.expired },
  );
  await reject(
    'receipt-future-signer',
    'A receipt signed with a certificate valid only from 2027-01-01',
    'certificate-not-yet-valid',
    await byOther('clinic-a.dr-future.signing'),
    { signer: 'clinic-a.dr-future.signing', openedBy: undefined, openssl: OPENSSL_SAYS.notYetValid },
  );
  await reject(
    'receipt-revoked-signer',
    "A receipt signed with a certificate on the region's CRL",
    'certificate-revoked',
    await byOther('clinic-a.dr-revoked.signing'),
    { signer: 'clinic-a.dr-revoked.signing', openedBy: undefined, openssl: OPENSSL_SAYS.revoked },
  );
  await reject(
    'receipt-signed-with-encryption-key',
    "A receipt signed with the key of a practitioner's encryption certificate (key usage keyAgreement)",
    'wrong-key-usage',
    await byOther('clinic-a.dr-rahman.encryption'),
    { signer: 'clinic-a.dr-rahman.encryption', openedBy: undefined, openssl: OPENSSL_SAYS.purpose },
  );
  await reject(
    'receipt-signing-time-off',
    'A receipt whose CMS signing time is 10 minutes before its creation_time',
    'signing-time-invalid',
    await signedReceipt(
      receiptContent(processed!.payload),
      receiptFrom,
      new Date(Date.parse(processed!.amqp.creation_time) - 10 * 60_000),
    ),
    asReceipt,
  );
  await reject(
    'receipt-signer-mismatch',
    'A receipt validly signed by another practitioner than the one expected',
    'signer-mismatch',
    await byOther('clinic-a.dr-other.signing'),
    asReceipt,
  );
  await reject(
    'receipt-not-json',
    'A receipt whose signed content is not JSON',
    'invalid-json',
    await signedReceipt(new TextEncoder().encode('processed, thank you')),
    asReceipt,
  );
  const undated = { ...structuredClone(processed!.payload), meta: { lastUpdated: 'yesterday' } };
  await reject(
    'receipt-fhir-invalid',
    'A receipt whose Bundle.meta.lastUpdated is "yesterday", not a FHIR instant',
    'fhir-invalid',
    await signedReceipt(receiptContent(undated)),
    asReceipt,
  );
  const nested = structuredClone(processed!.payload) as {
    entry: { resource: { issue?: Record<string, unknown>[] } }[];
  };
  let deep: unknown = 'too deep';
  for (let level = 0; level < 70; level += 1) deep = [deep];
  nested.entry[1]!.resource.issue![0]!.diagnostics = deep;
  await reject(
    'receipt-nested-too-deep',
    'A receipt whose payload nests arrays 70 levels deep (the limit is 64)',
    'too-large',
    await signedReceipt(receiptContent(nested)),
    asReceipt,
  );
  // A SEQUENCE declaring a length of 2 GiB in a 16-byte body: refused on the declared length, before anything is read.
  const oversized = Uint8Array.from([
    0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07,
  ]);
  await reject(
    'body-declares-2-gib',
    'A receipt body that declares a CMS message of 2 GiB (16 bytes sent)',
    'too-large',
    { ...(await sealExample(processed!)), body: oversized },
    { ...asReceipt, openssl: OPENSSL_SAYS.unreadable },
  );
  await reject('message-id-not-uuid', 'A consult request whose message_id is not a UUID', 'malformed-properties', {
    ...(await sealed()),
    message_id: 'consult-request-7',
  });
  // The same consult, for another expert of clinic B: a receiver picks the key by rtsToPractitioner, and holds none for her.
  const forMensah = JSON.parse(
    JSON.stringify(request.payload).replaceAll('clinic-b.dr-okafor', 'clinic-b.dr-mensah'),
  ) as ProtocolExample['payload'];
  await reject(
    'not-addressed-to-me',
    "A consult for clinic-b.dr-mensah, arriving where only clinic-b.dr-okafor's key is held",
    'not-addressed-to-me',
    await sealExample(request, {
      payload: forMensah,
      properties: { rtsToPractitioner: 'clinic-b.dr-mensah' },
      recipients: ['clinic-b.dr-mensah.encryption', 'clinic-a.dr-rahman.encryption'],
    }),
    { openssl: OPENSSL_SAYS.notARecipient },
  );

  // ECDH recipients (the applicant's EC key): OpenSSL answers "not a recipient" and "decrypt failed" alike here, so a
  // receiver tells them apart by matching each RecipientInfo's rid against its own certificate before it decrypts.
  const report = examples.find((e) => e.type === 'consult.report')!;
  const asApplicant = { signer: 'clinic-b.dr-okafor.signing', openedBy: 'clinic-a.dr-rahman.encryption' };
  await reject(
    'ecdh-not-a-recipient',
    "A report encrypted to the expert and another EC key, not the applicant's; opened by the applicant (EC key)",
    'not-a-recipient',
    await sealExample(report, { recipients: ['clinic-b.dr-mensah.encryption', 'clinic-b.dr-okafor.encryption'] }),
    { ...asApplicant, openssl: OPENSSL_SAYS.ecdhKey },
  );
  const tamperedReport = await sealExample(report);
  tamperedReport.body = tamperedReport.body.slice();
  const reportFlipAt = Math.floor(tamperedReport.body.byteLength * 0.6);
  tamperedReport.body[reportFlipAt] = tamperedReport.body[reportFlipAt]! ^ 0x01;
  await opaque(
    'ecdh-tampered-ciphertext',
    'A report with one bit of its encrypted content flipped; opened by the applicant (EC key)',
    'decrypt-failed',
    tamperedReport,
    { ...asApplicant, openssl: OPENSSL_SAYS.contentDecrypt },
  );
  const wrongKey = await sealExample(report);
  wrongKey.body = wrongKey.body.slice();
  const wrappedKeyAt = wrappedKeyOffset(wrongKey.body, cert('clinic-a.dr-rahman.encryption'));
  wrongKey.body[wrappedKeyAt] = wrongKey.body[wrappedKeyAt]! ^ 0x01;
  await opaque(
    'ecdh-tampered-wrapped-key',
    "A report with one bit of the applicant's wrapped content key flipped; opened by the applicant (EC key)",
    'decrypt-failed',
    wrongKey,
    { ...asApplicant, openssl: OPENSSL_SAYS.ecdhKey },
  );

  // The binding rule (docs/protocol.md §3, §5.1): certificates that chain to the CA and carry their usage, but name
  // someone else than the entry's directory id. The hub refuses such a publish; an endpoint takes such an update and
  // leaves the practitioner out.
  const publishFull = examples.find(
    (e) =>
      e.applicationProperties.rtsType === 'directory.publish' && e.applicationProperties.rtsDirectoryMode === 'full',
  )!;
  const update = examples.find((e) => e.type === 'directory.update')!;
  const base64Of = (name: string) => Buffer.from(cert(name)).toString('base64');
  /** The example's payload with dr-okafor's certificates replaced (by identity name). */
  const okaforWith = (example: ProtocolExample, replacement: { signing: string; encryption?: string }) => {
    let text = JSON.stringify(example.payload).replaceAll(
      base64Of('clinic-b.dr-okafor.signing'),
      base64Of(replacement.signing),
    );
    if (replacement.encryption)
      text = text.replaceAll(base64Of('clinic-b.dr-okafor.encryption'), base64Of(replacement.encryption));
    return JSON.parse(text) as ProtocolExample['payload'];
  };
  const personName = CONFORMANCE_MISNAMED_IDENTITIES['person-named.signing']!;
  const personNamed = { signing: 'person-named.signing', encryption: 'person-named.encryption' };
  const issuedToPerson: UnboundEntry[] = (['signing', 'encryption'] as const).map((use) => ({
    practitionerId: 'clinic-b.dr-okafor',
    use,
    issuedTo: personName,
  }));
  const toHub = { signer: 'clinic-b', openedBy: undefined };
  await reject(
    'publish-certificates-name-a-person',
    `Clinic B's full list, with dr-okafor's certificates issued to the person's name (CN=${personName}), not the directory id`,
    'not-authorized',
    await sealExample(publishFull, { payload: okaforWith(publishFull, personNamed) }),
    { ...toHub, unboundEntries: issuedToPerson },
  );
  await reject(
    'publish-another-practitioners-certificate',
    "Clinic B's full list, with dr-okafor's signing certificate replaced by clinic-a.dr-rahman's (valid, but another practitioner's)",
    'not-authorized',
    await sealExample(publishFull, { payload: okaforWith(publishFull, { signing: 'clinic-a.dr-rahman.signing' }) }),
    {
      ...toHub,
      unboundEntries: [{ practitionerId: 'clinic-b.dr-okafor', use: 'signing', issuedTo: 'clinic-a.dr-rahman' }],
    },
  );
  const unboundUpdate = okaforWith(update, personNamed);
  writeVector(
    {
      name: 'update-certificates-name-a-person',
      description: `The hub's change 42, with dr-okafor's certificates issued to the person's name (CN=${personName}): taken, dr-okafor left out`,
      expected: 'accepted',
      signer: 'hub',
      unboundEntries: issuedToPerson,
    },
    await sealExample(update, { payload: unboundUpdate }),
    unboundUpdate,
  );
}

function readme(): string {
  const unbound = (entries: readonly UnboundEntry[]) =>
    `; unbound: ${entries.map((e) => `\`${e.practitionerId}\` ${e.use} issued to "${e.issuedTo}"`).join(', ')}`;
  const rows = vectors.map(
    (v) =>
      `| \`${v.dir}\` | ${v.description} | \`${v.signer}\` | ${v.openedBy ? `\`${v.openedBy}\`` : '—'} | \`${v.expected}\`${v.recorded ? ` (records \`${v.recorded}\`)` : ''}${v.unboundEntries ? unbound(v.unboundEntries) : ''} | ${v.openssl ? `refuses: "${v.openssl}"` : 'accepts the body'} |`,
  );
  const shown = new Set(vectors.flatMap((v) => [v.expected, v.recorded]));
  const codes = Object.values(REASON_CODES).map((code) => `\`${code}\``);
  return [
    `# Conformance vectors, protocol v${PROTOCOL_MAJOR}`,
    '',
    'Generated by `node scripts/generate-conformance.ts` (keys and signatures are random, so regenerating changes every',
    'file); checked on every test run by `shared/protocol/conformance.test.ts`, by the reference receiver and by the',
    '`openssl cms` commands of docs/protocol.md appendix A.3. **The private keys here are public test keys: never trust',
    'this CA anywhere else.**',
    '',
    "- `pki/`: `ca.pem` (the trust anchor), `ca.crl.pem` (the region's CRL: it lists `clinic-a.dr-revoked.signing`),",
    '  `untrusted-ca.pem`, and for every identity `NAME.cert.pem` and `NAME.key.pem` (PKCS#8). The expert',
    '  `clinic-b.dr-okafor` has RSA-2048 keys; everyone else EC P-256. `clinic-a.dr-expired.signing` expired in 2025,',
    '  `clinic-a.dr-future.signing` is valid from 2027-01-01, `clinic-x.dr-untrusted.signing` comes from another CA.',
    `  \`person-named.signing\` and \`person-named.encryption\` are valid practitioner certificates issued to a person's`,
    `  name (CN=${CONFORMANCE_MISNAMED_IDENTITIES['person-named.signing']}), against the naming rule of docs/protocol.md §3, for the binding vectors.`,
    '- `messages/NN-name/`: `message.json` (the AMQP properties: `user_id` as text, `creation_time` as ISO 8601),',
    '  `body.p7m` (the DER CMS body, exactly as on the wire) and, for accepted messages, `payload.json` (the FHIR',
    '  payload a receiver must obtain).',
    '- `enrolment/`: `clinic-a.rtsenrol`, the enrolment file of endpoint clinic-a (docs/protocol.md §9), signed by',
    '  `pki/enrolment-signer` (`CN=RTS Region Administration`), and `clinic-a.json`, what it holds.',
    `- \`vectors.json\`: for each message, the outcome at \`evaluateAt\` (${CONFORMANCE_EVALUATE_AT}).`,
    '',
    'To check an implementation: for each vector, open `message.json` + `body.p7m` as a received message at',
    '`evaluateAt`, with `pki/ca.pem` as trust anchor, `pki/ca.crl.pem` as CRL, the key of `openedBy` (signed-encrypted',
    'types) held for its practitioner only (a consult whose `rtsToPractitioner` is someone else is',
    '`not-addressed-to-me`), and the certificate of `signer` as the one the sender must have signed with. It must be',
    'accepted with `payload.json` as its payload, or rejected with the reason code given (docs/protocol.md §6.2).',
    '"records" names the precise reason behind a `decrypt-failed` (docs/protocol.md §3 step 2): kept by the receiver,',
    'never in its receipt. The last column is what the OpenSSL reference commands (docs/protocol.md appendix A.3) do with',
    'the body: where they accept it, what is wrong lies where OpenSSL does not look (the AMQP properties, the signing-time',
    'bounds, who was expected to sign, the payload) or is a profile rule it does not enforce (AES-CBC).',
    '',
    'The binding vectors (those listing "unbound" entries) carry directory entries whose certificates chain to the CA',
    "and carry their usage but name someone else than the entry's directory id (docs/protocol.md §3, §5.1). The message",
    'opens; then the receiver applies the binding rule to every Practitioner in it: the hub refuses a `directory.publish`',
    'carrying such an entry whole (`not-authorized`, with a `rejected` receipt), and an endpoint takes a',
    '`directory.update` or `directory.snapshot` but leaves each listed practitioner out of its directory, as refused.',
    '',
    `Every reason code a receiver can reach from one message has a vector here (${codes.filter((c) => shown.has(c.slice(1, -1) as ReasonCode)).length} of ${codes.length}). The others need`,
    'what the receiver has seen or holds, or the hop; docs/protocol.md appendix A.5 lists them with why:',
    `${Object.keys(CODES_WITHOUT_VECTOR)
      .map((code) => `\`${code}\``)
      .join(', ')}.`,
    '',
    '| vector | what it is | signer | opened by | outcome | `openssl cms` |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** The enrolment file an administrator would hand clinic-a (docs/protocol.md §9), and its contents as JSON. */
async function buildEnrolment() {
  const readPem = (file: string) => readFileSync(join(pkiDir, file), 'utf8');
  const enrolment: Enrolment = {
    format: ENROLMENT_FORMAT,
    region: 'Conformance Region',
    endpoint: { id: 'clinic-a', kind: 'clinic-system' },
    broker: {
      hosts: [{ host: 'broker.conformance.example', port: 5671 }],
      vhost: 'rts',
      username: 'clinic-a',
      tlsCaPem: readPem('ca.pem'),
    },
    caCertificatePem: readPem('ca.pem'),
    crlPem: readPem('ca.crl.pem'),
    hubCertificatePem: readPem('hub.cert.pem'),
    issuedAt: CONFORMANCE_EVALUATE_AT,
  };
  mkdirSync(join(OUT, 'enrolment'), { recursive: true });
  writeFileSync(
    join(OUT, 'enrolment', `clinic-a${ENROLMENT_FILE_EXTENSION}`),
    await signEnrolment(enrolment, await signer('enrolment-signer')),
  );
  writeFileSync(join(OUT, 'enrolment', 'clinic-a.json'), JSON.stringify(enrolment, null, 2) + '\n');
}

rmSync(OUT, { recursive: true, force: true });
await buildPki();
const examples = protocolExamples({
  signing: Buffer.from(cert('clinic-b.dr-okafor.signing')).toString('base64'),
  encryption: Buffer.from(cert('clinic-b.dr-okafor.encryption')).toString('base64'),
});
await buildMessages(examples);
await buildEnrolment();
writeFileSync(
  join(OUT, 'vectors.json'),
  JSON.stringify({ evaluateAt: CONFORMANCE_EVALUATE_AT, vectors }, null, 2) + '\n',
);
writeFileSync(join(OUT, 'README.md'), readme());
console.log(`conformance: ${vectors.length} vectors, ${identities.size} identities in docs/conformance/`);
