/**
 * Generates docs/conformance/: a test PKI, every example message sealed as it travels, broken messages, and the
 * outcome a receiver must reach for each (vectors.json). Keys and signatures are random, so the output differs per run:
 * it is generated once, checked in, and shared/protocol/conformance.test.ts checks it on every test run.
 *
 *   node scripts/generate-conformance.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSigningKey, seal, type CmsSigner } from '../shared/cms/index.ts';
import {
  createCrl, createRootCertificate, derToPem, exportPrivateKeyPkcs8, generateKeyPair, issueCertificate, PEM_LABELS,
  type KeyType, type LeafProfileName,
} from '../shared/pki/index.ts';
import { protocolExamples, type ProtocolExample } from '../shared/protocol/examples.ts';
import { CONTENT_TYPES, type AmqpMessageFields } from '../shared/protocol/message-codec.ts';
import { sealMessage } from '../shared/protocol/message-envelope.ts';
import { PROTOCOL_MAJOR } from '../shared/protocol/protocol-version.ts';
import type { ReasonCode } from '../shared/protocol/reason-codes.ts';
import { CONFORMANCE_EVALUATE_AT, type ConformanceVector, type VectorMessage } from '../shared/protocol/conformance.ts';

const OUT = join(import.meta.dirname, '..', 'docs', 'conformance');
const DAY = 86_400_000;

interface Identity { name: string; certificate: Uint8Array; pkcs8: Uint8Array }

const identities = new Map<string, Identity>();
const pkiDir = join(OUT, 'pki');

async function buildPki() {
  const caKeys = await generateKeyPair('ec-p256');
  const ca = await createRootCertificate({ keyPair: caKeys, subject: { commonName: 'Conformance Region Root CA', organization: 'RTS Conformance' }, notBefore: new Date('2024-01-01T00:00:00Z'), validityDays: 7300 });
  const issuer = { certificate: ca.der, privateKey: caKeys.privateKey };
  const untrustedKeys = await generateKeyPair('ec-p256');
  const untrustedCa = await createRootCertificate({ keyPair: untrustedKeys, subject: { commonName: 'Some Other Root CA', organization: 'Elsewhere' }, notBefore: new Date('2024-01-01T00:00:00Z'), validityDays: 7300 });

  const issue = async (name: string, profile: LeafProfileName, commonName: string, options: { keyType?: KeyType; notBefore?: Date; validityDays?: number; by?: typeof issuer } = {}) => {
    const keys = await generateKeyPair(options.keyType ?? 'ec-p256');
    const certificate = await issueCertificate({
      profile, publicKey: keys.publicKey, issuer: options.by ?? issuer,
      subject: { commonName, organization: 'RTS Conformance' },
      notBefore: options.notBefore ?? new Date('2026-01-01T00:00:00Z'), validityDays: options.validityDays ?? 3650,
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
  await issue('clinic-b.dr-okafor.encryption', 'practitioner-encryption', 'clinic-b.dr-okafor', { keyType: 'rsa-2048' });
  await issue('clinic-a.dr-expired.signing', 'practitioner-signing', 'clinic-a.dr-expired', { notBefore: new Date('2025-01-01T00:00:00Z'), validityDays: 30 });
  const revoked = await issue('clinic-a.dr-revoked.signing', 'practitioner-signing', 'clinic-a.dr-revoked');
  await issue('clinic-x.dr-untrusted.signing', 'practitioner-signing', 'clinic-x.dr-untrusted', { by: { certificate: untrustedCa.der, privateKey: untrustedKeys.privateKey } });
  await issue('clinic-a.dr-other.signing', 'practitioner-signing', 'clinic-a.dr-other');

  const crl = await createCrl(issuer, {
    revoked: [{ serialNumber: revoked.serialNumber, revocationDate: new Date('2026-06-01T00:00:00Z') }],
    thisUpdate: new Date('2026-11-01T00:00:00Z'), validityDays: 3650,
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
  return { certificate: identity.certificate, privateKey: await importSigningKey(identity.pkcs8, identity.certificate) };
}

const cert = (name: string) => identities.get(name)!.certificate;
const vectors: ConformanceVector[] = [];

function writeVector(vector: Omit<ConformanceVector, 'dir'>, message: AmqpMessageFields & { body: Uint8Array }, payload?: unknown) {
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
  'consult.request': { signer: 'clinic-a.dr-rahman.signing', recipients: ['clinic-b.dr-okafor.encryption', 'clinic-a.dr-rahman.encryption'], openedBy: 'clinic-b.dr-okafor.encryption' },
  'consult.status': { signer: 'clinic-b.dr-okafor.signing', recipients: ['clinic-a.dr-rahman.encryption', 'clinic-b.dr-okafor.encryption'], openedBy: 'clinic-a.dr-rahman.encryption' },
  'consult.report': { signer: 'clinic-b.dr-okafor.signing', recipients: ['clinic-a.dr-rahman.encryption', 'clinic-b.dr-okafor.encryption'], openedBy: 'clinic-a.dr-rahman.encryption' },
  'hub.notice': { signer: 'hub' },
};

function rolesOf(example: ProtocolExample) {
  if (example.type === 'receipt') return { signer: example.amqp.user_id === 'rts-hub' ? 'hub' : 'clinic-b.dr-okafor.signing' };
  return ROLES[example.type]!;
}

async function sealExample(example: ProtocolExample, overrides: { signer?: string; recipients?: string[]; payload?: unknown; properties?: Record<string, unknown>; creationTime?: Date } = {}) {
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
    writeVector({
      name: example.type.replace('.', '-'), description: example.title, expected: 'accepted', signer: roles.signer,
      ...(roles.openedBy && { openedBy: roles.openedBy }),
    }, await sealExample(example), example.payload);
  }

  const request = examples.find((e) => e.type === 'consult.request')!;
  const asExpert = { openedBy: 'clinic-b.dr-okafor.encryption', signer: 'clinic-a.dr-rahman.signing' };
  const reject = async (name: string, description: string, expected: ReasonCode, message: AmqpMessageFields & { body: Uint8Array }, extra: Partial<ConformanceVector> = {}) =>
    writeVector({ name, description, expected, ...asExpert, ...extra }, message);
  /** Refused after the key unwrap: the receipt says decrypt-failed (docs/protocol.md §3 step 2), the receiver records why. */
  const opaque = (name: string, description: string, recorded: ReasonCode, message: AmqpMessageFields & { body: Uint8Array }, extra: Partial<ConformanceVector> = {}) =>
    reject(name, description, 'decrypt-failed', message, { recorded, ...extra });
  const sealed = () => sealExample(request);

  const tampered = await sealed();
  tampered.body = tampered.body.slice();
  const flipAt = Math.floor(tampered.body.byteLength * 0.6);
  tampered.body[flipAt] = tampered.body[flipAt]! ^ 0x01;
  await opaque('tampered-ciphertext', 'One bit of the encrypted content flipped', 'decrypt-failed', tampered);
  const truncated = await sealed();
  await reject('truncated-cms', 'The envelope cut off after two thirds', 'cms-malformed', { ...truncated, body: truncated.body.slice(0, Math.floor(truncated.body.byteLength * 2 / 3)) });
  await reject('garbage-body', 'A body that is not CMS at all', 'cms-malformed', { ...(await sealed()), body: new TextEncoder().encode('this is not a CMS message') });
  await reject('not-a-recipient', 'Encrypted to the applicant only; opened by the expert', 'not-a-recipient', await sealExample(request, { recipients: ['clinic-a.dr-rahman.encryption'] }));
  await opaque('expired-signer', "Signed with a certificate that expired before the signing time", 'certificate-expired', await sealExample(request, { signer: 'clinic-a.dr-expired.signing' }), { signer: 'clinic-a.dr-expired.signing' });
  await opaque('revoked-signer', "Signed with a certificate on the region's CRL", 'certificate-revoked', await sealExample(request, { signer: 'clinic-a.dr-revoked.signing' }), { signer: 'clinic-a.dr-revoked.signing' });
  await opaque('untrusted-chain', 'Signed with a certificate from another CA', 'untrusted-chain', await sealExample(request, { signer: 'clinic-x.dr-untrusted.signing' }), { signer: 'clinic-x.dr-untrusted.signing' });
  await opaque('signer-mismatch', 'Validly signed, but by another practitioner than rtsFromPractitioner', 'signer-mismatch', await sealExample(request, { signer: 'clinic-a.dr-other.signing' }));
  const otherId = structuredClone(request.payload);
  otherId.identifier = { ...otherId.identifier!, value: 'urn:uuid:00000000-0000-4000-8000-0000000000ff' };
  await opaque('header-mismatch', 'The signed Bundle names another message id than message_id', 'header-mismatch', await sealExample(request, { payload: otherId }));
  const noPatient = structuredClone(request.payload);
  noPatient.entry!.splice(3, 1);
  await opaque('schema-invalid', 'A consult request without its Patient entry', 'schema-invalid', await sealExample(request, { payload: noPatient }));
  // What a forwarding hub could change in transit, bound into the signed payload since 2.0 (docs/protocol.md §4).
  const resequenced = await sealed();
  await opaque('sequence-changed', 'rtsSequence changed after signing (1 signed, 2 sent)', 'header-mismatch',
    { ...resequenced, application_properties: { ...resequenced.application_properties, rtsSequence: 2 } });
  const retimed = await sealed();
  await opaque('creation-time-changed', 'creation_time one second later than the signed Bundle.timestamp', 'header-mismatch', { ...retimed, creation_time: new Date((retimed.creation_time as Date).getTime() + 1000) });
  const [processed, rejected] = examples.filter((e) => e.type === 'receipt');
  const changedReceipt = async (example: ProtocolExample, change: Record<string, unknown>) => {
    const message = await sealExample(example);
    const changed: Record<string, unknown> = { ...message.application_properties, ...change };
    for (const [name, value] of Object.entries(change)) if (value === undefined) delete changed[name];
    return { ...message, application_properties: changed } as AmqpMessageFields & { body: Uint8Array };
  };
  await reject('receipt-outcome-flipped', "A peer's processed receipt relabelled rejected (rtsReceipt, rtsReason) in transit", 'header-mismatch',
    await changedReceipt(processed!, { rtsReceipt: 'rejected', rtsReason: 'out-of-order' }), { signer: rolesOf(processed!).signer, openedBy: undefined });
  await reject('receipt-reason-changed', "A rejected receipt whose rtsReason was changed in transit", 'header-mismatch',
    await changedReceipt(rejected!, { rtsReason: 'unknown-recipient' }), { signer: rolesOf(rejected!).signer, openedBy: undefined });
  const properties = (change: Record<string, unknown>) => async () => {
    const message = await sealed();
    return { ...message, application_properties: { ...message.application_properties, ...change } } as AmqpMessageFields & { body: Uint8Array };
  };
  await reject('unknown-type', 'rtsType consult.gossip', 'unknown-type', await properties({ rtsType: 'consult.gossip' })());
  await reject('unsupported-version', 'rtsVersion 1.0, the previous major version (2.0 changed the signed binding)', 'unsupported-version', await properties({ rtsVersion: '1.0' })());
  await reject('missing-case', 'No rtsCase', 'missing-property', await properties({ rtsCase: undefined })());
  await reject('replay', 'creation_time 40 days before the evaluation time', 'replay', await sealExample(request, { creationTime: new Date(Date.parse(CONFORMANCE_EVALUATE_AT) - 40 * DAY) }));
  // AES-256-CBC is refused before any key is unwrapped (docs/protocol.md §3), whatever the content_type says.
  const cbcBody = await seal(new TextEncoder().encode(JSON.stringify(request.payload)), await signer('clinic-a.dr-rahman.signing'),
    ['clinic-b.dr-okafor.encryption', 'clinic-a.dr-rahman.encryption'].map(cert), { contentEncryption: 'aes-256-cbc', signingTime: new Date(request.amqp.creation_time) });
  await reject('cbc-envelope', 'A valid AES-256-CBC EnvelopedData, labelled enveloped-data: refused', 'cms-unsupported-algorithm', { ...(await sealed()), content_type: CONTENT_TYPES.enveloped, body: cbcBody });
  await reject('cbc-envelope-as-gcm', 'The same AES-256-CBC EnvelopedData, labelled authEnveloped-data: refused', 'cms-unsupported-algorithm', { ...(await sealed()), body: cbcBody });
}

function readme(): string {
  const rows = vectors.map((v) => `| \`${v.dir}\` | ${v.description} | \`${v.signer}\` | ${v.openedBy ? `\`${v.openedBy}\`` : '—'} | \`${v.expected}\`${v.recorded ? ` (records \`${v.recorded}\`)` : ''} |`);
  return [
    `# Conformance vectors, protocol v${PROTOCOL_MAJOR}`,
    '',
    'Generated by `node scripts/generate-conformance.ts` (keys and signatures are random, so regenerating changes every',
    'file); checked on every test run by `shared/protocol/conformance.test.ts`. **The private keys here are public test',
    'keys: never trust this CA anywhere else.**',
    '',
    '- `pki/`: `ca.pem` (the trust anchor), `ca.crl.pem` (the region\'s CRL: it lists `clinic-a.dr-revoked.signing`),',
    '  `untrusted-ca.pem`, and for every identity `NAME.cert.pem` and `NAME.key.pem` (PKCS#8). The expert',
    '  `clinic-b.dr-okafor` has RSA-2048 keys; everyone else EC P-256.',
    '- `messages/NN-name/`: `message.json` (the AMQP properties: `user_id` as text, `creation_time` as ISO 8601),',
    '  `body.p7m` (the DER CMS body, exactly as on the wire) and, for accepted messages, `payload.json` (the FHIR',
    '  payload a receiver must obtain).',
    `- \`vectors.json\`: for each message, the outcome at \`evaluateAt\` (${CONFORMANCE_EVALUATE_AT}).`,
    '',
    'To check an implementation: for each vector, open `message.json` + `body.p7m` as a received message at',
    '`evaluateAt`, with `pki/ca.pem` as trust anchor, `pki/ca.crl.pem` as CRL, the key of `openedBy` (signed-encrypted',
    'types) and the certificate of `signer` as the one the sender must have signed with. It must be accepted with',
    '`payload.json` as its payload, or rejected with the reason code given (docs/protocol.md §6.2). "records" names the',
    'precise reason behind a `decrypt-failed` (docs/protocol.md §3 step 2): kept by the receiver, never in its receipt.',
    '',
    '| vector | what it is | signer | opened by | outcome |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

rmSync(OUT, { recursive: true, force: true });
await buildPki();
const examples = protocolExamples({
  signing: Buffer.from(cert('clinic-b.dr-okafor.signing')).toString('base64'),
  encryption: Buffer.from(cert('clinic-b.dr-okafor.encryption')).toString('base64'),
});
await buildMessages(examples);
writeFileSync(join(OUT, 'vectors.json'), JSON.stringify({ evaluateAt: CONFORMANCE_EVALUATE_AT, vectors }, null, 2) + '\n');
writeFileSync(join(OUT, 'README.md'), readme());
console.log(`conformance: ${vectors.length} vectors, ${identities.size} identities in docs/conformance/`);
