import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDecryptionKey } from '../cms/index.ts';
import { commonNameOf, pemToDer, pemToDerAll } from '../pki/index.ts';
import { ENROLMENT_SIGNER_COMMON_NAME, verifyEnrolment } from '../enrolment/enrolment.ts';
import { certificateBindingProblem, loadFhirDefinitions } from '../../shared-node/index.ts';
import {
  CODES_WITHOUT_VECTOR,
  CONFORMANCE_MISNAMED_IDENTITIES,
  OPENSSL_ENROLMENT,
  OPENSSL_REFERENCE,
  type ConformanceVector,
  type UnboundEntry,
  type VectorMessage,
} from './conformance.ts';
import { certificatesOf } from './fhir/directory-entries.ts';
import { openMessage } from './message-envelope.ts';
import { REASON_CODES, type ReasonCode } from './reason-codes.ts';

const root = join(import.meta.dirname, '..', '..', 'docs', 'conformance');
const read = (path: string) => readFileSync(join(root, path));
const { evaluateAt, vectors } = JSON.parse(read('vectors.json').toString('utf8')) as {
  evaluateAt: string;
  vectors: ConformanceVector[];
};
const certificate = (name: string) => pemToDer(read(`pki/${name}.cert.pem`).toString('utf8'));
const trust = {
  anchors: pemToDerAll(read('pki/ca.pem').toString('utf8'), 'CERTIFICATE'),
  crls: [pemToDer(read('pki/ca.crl.pem').toString('utf8'))],
};
const protocolDoc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

const vectorMessage = (vector: ConformanceVector) =>
  JSON.parse(read(`${vector.dir}/message.json`).toString('utf8')) as VectorMessage;

function amqpFields(vector: ConformanceVector) {
  const message = vectorMessage(vector);
  return {
    ...message,
    user_id: new TextEncoder().encode(message.user_id),
    creation_time: new Date(message.creation_time),
    body: new Uint8Array(read(`${vector.dir}/${message.body}`)),
  };
}

/** An identity's directory id: its name without the use (`clinic-b.dr-okafor.encryption` → `clinic-b.dr-okafor`). */
const directoryIdOf = (identity: string) => identity.replace(/\.(signing|encryption)$/, '');

/**
 * The binding rule (docs/protocol.md §3, §5.1) on an opened directory message, as the hub and every workstation apply it
 * (shared-node/certificate-binding.ts): each Practitioner certificate that does not bind to its entry, and what the
 * receiver answers — the hub refuses a publish with the first one's reason, an endpoint takes an update or snapshot and
 * leaves those practitioners out.
 */
function bindingVerdict(
  type: unknown,
  payload: Record<string, unknown>,
): { outcome: 'accepted' | ReasonCode; unbound: UnboundEntry[] } {
  const inner =
    (
      payload.entry as
        | { resource?: { entry?: { resource?: { resourceType?: string; id?: string; extension?: unknown[] } }[] } }[]
        | undefined
    )?.[1]?.resource?.entry ?? [];
  const unbound: (UnboundEntry & { kind: 'name' | 'usage' })[] = [];
  for (const { resource } of inner) {
    if (resource?.resourceType !== 'Practitioner') continue;
    const certificates = certificatesOf(resource);
    for (const use of ['signing', 'encryption'] as const) {
      for (const base64 of certificates[use]) {
        const der = new Uint8Array(Buffer.from(base64, 'base64'));
        const problem = certificateBindingProblem(der, use, resource.id ?? '');
        if (problem)
          unbound.push({
            practitionerId: resource.id ?? '',
            use,
            issuedTo: commonNameOf(der) ?? '',
            kind: problem.kind,
          });
      }
    }
  }
  const first = unbound[0];
  const outcome =
    type === 'directory.publish' && first
      ? first.kind === 'usage'
        ? REASON_CODES.wrongKeyUsage
        : REASON_CODES.notAuthorized
      : 'accepted';
  return { outcome, unbound: unbound.map(({ kind: _kind, ...entry }) => entry) };
}

beforeAll(() => loadFhirDefinitions(), 30_000);

describe('conformance vectors (docs/conformance)', () => {
  it('cover acceptance of every message type and the main rejection classes', () => {
    expect(vectors.filter((v) => v.expected === 'accepted').length).toBeGreaterThanOrEqual(12);
    expect(new Set(vectors.map((v) => v.recorded ?? v.expected)).size).toBeGreaterThanOrEqual(14);
  });

  it('show every reason code, except those no single message can show, which docs/protocol.md lists with why', () => {
    const shown = new Set(vectors.flatMap((v) => [v.expected, v.recorded]));
    const withoutVector = Object.keys(CODES_WITHOUT_VECTOR);
    expect(Object.values(REASON_CODES).filter((code) => !shown.has(code) && !withoutVector.includes(code))).toEqual([]);
    expect(withoutVector.filter((code) => shown.has(code as ConformanceVector['expected']))).toEqual([]);
    for (const [code, why] of Object.entries(CODES_WITHOUT_VECTOR))
      expect(protocolDoc).toContain(`| \`${code}\` | ${why} |`);
  });

  it('issue every certificate to the name the protocol knows its holder by (docs/protocol.md §3)', () => {
    const identities = readdirSync(join(root, 'pki'))
      .filter((file) => file.endsWith('.cert.pem'))
      .map((file) => file.slice(0, -'.cert.pem'.length));
    expect(identities).toEqual(
      expect.arrayContaining(['hub', 'clinic-a', 'clinic-b.dr-okafor.signing', 'clinic-b.dr-okafor.encryption']),
    );
    const nameOf = (identity: string) =>
      identity === 'enrolment-signer'
        ? ENROLMENT_SIGNER_COMMON_NAME
        : (CONFORMANCE_MISNAMED_IDENTITIES[identity] ?? directoryIdOf(identity));
    for (const identity of identities)
      expect([identity, commonNameOf(certificate(identity))]).toEqual([identity, nameOf(identity)]);
  });

  it.each(vectors.map((v) => [v.dir, v] as const))('%s opens as expected', async (_dir, vector) => {
    const identity = vector.openedBy
      ? {
          certificate: certificate(vector.openedBy),
          privateKey: await importDecryptionKey(
            pemToDer(read(`pki/${vector.openedBy}.key.pem`).toString('utf8')),
            certificate(vector.openedBy),
          ),
        }
      : undefined;
    const result = await openMessage(amqpFields(vector), {
      trust,
      now: new Date(evaluateAt),
      // As a workstation does: it holds the key of its own practitioner only, and opens only what is addressed to them.
      recipientFor: ({ properties }) =>
        vector.openedBy &&
        'rtsToPractitioner' in properties &&
        properties.rtsToPractitioner === directoryIdOf(vector.openedBy)
          ? identity
          : undefined,
      expectedSigners: () => [certificate(vector.signer)],
    });
    // A directory message that opens then meets the binding rule (the hub on a publish, an endpoint on the others).
    const binding =
      result.ok && String(vectorMessage(vector).application_properties.rtsType).startsWith('directory.')
        ? bindingVerdict(vectorMessage(vector).application_properties.rtsType, result.value.payload)
        : undefined;
    expect(binding?.unbound.length ? binding.unbound : undefined).toEqual(vector.unboundEntries);
    expect(result.ok ? (binding?.outcome ?? 'accepted') : `${result.error.code}: ${result.error.detail}`).toMatch(
      new RegExp(`^${vector.expected}`),
    );
    if (!result.ok) expect(result.error.withheld?.code).toBe(vector.recorded);
    if (result.ok && vector.expected === 'accepted')
      expect(result.value.payload).toEqual(JSON.parse(read(`${vector.dir}/payload.json`).toString('utf8')));
  });

  it('show the binding rule: the hub refuses a publish whose entry names someone else, an endpoint leaves such an entry out', () => {
    const binding = vectors.filter((v) => v.unboundEntries);
    expect(binding.map((v) => [v.name, v.expected])).toEqual([
      ['publish-certificates-name-a-person', 'not-authorized'],
      ['publish-another-practitioners-certificate', 'not-authorized'],
      ['update-certificates-name-a-person', 'accepted'],
    ]);
    expect(binding[0]!.unboundEntries).toContainEqual({
      practitionerId: 'clinic-b.dr-okafor',
      use: 'signing',
      issuedTo: 'Dr. Adaeze Okafor',
    });
  });
});

describe('the OpenSSL reference commands (docs/protocol.md appendix A.3) on the conformance vectors', () => {
  const work = mkdtempSync(join(tmpdir(), 'rts-conformance-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('are the commands the document gives', () => {
    for (const command of Object.values(OPENSSL_REFERENCE)) expect(protocolDoc).toContain(command);
  });

  /** Runs the reference commands on one vector, as a reader of the document would, in a directory of its own. */
  function runReference(vector: ConformanceVector) {
    const dir = mkdtempSync(join(work, 'vector-'));
    copyFileSync(join(root, vector.dir, 'body.p7m'), join(dir, 'body.p7m'));
    copyFileSync(join(root, 'pki/ca.pem'), join(dir, 'ca.pem'));
    copyFileSync(join(root, 'pki/ca.crl.pem'), join(dir, 'ca.crl.pem'));
    if (vector.openedBy) {
      copyFileSync(join(root, `pki/${vector.openedBy}.cert.pem`), join(dir, 'recipient.cert.pem'));
      copyFileSync(join(root, `pki/${vector.openedBy}.key.pem`), join(dir, 'recipient.key.pem'));
    }
    const sh = (command: string) => {
      const run = spawnSync('sh', ['-c', command], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
      return { ok: run.status === 0, stdout: run.stdout.toString('utf8'), stderr: run.stderr.toString('utf8') };
    };
    expect(sh(OPENSSL_REFERENCE.bundle).ok).toBe(true);
    const envelope = vector.openedBy ? sh(OPENSSL_REFERENCE.printEnvelope) : undefined;
    const ownRid = vector.openedBy ? sh(OPENSSL_REFERENCE.ownRid) : undefined;
    if (vector.openedBy) {
      const decrypted = sh(OPENSSL_REFERENCE.decrypt);
      if (!decrypted.ok) return { refused: decrypted.stderr, envelope, ownRid };
    } else {
      copyFileSync(join(dir, 'body.p7m'), join(dir, 'signed.der'));
    }
    const signed = sh(OPENSSL_REFERENCE.printSigned);
    const signingTime = /signingTime[\s\S]*?UTCTIME:(.+ GMT)/.exec(signed.stdout)?.[1];
    const attime = Math.floor(Date.parse(signingTime ?? vectorMessage(vector).creation_time) / 1000);
    const verified = sh(OPENSSL_REFERENCE.verify.replace('SIGNING_TIME', String(attime)));
    if (!verified.ok) return { refused: verified.stderr, envelope, ownRid };
    const unrevoked = sh(OPENSSL_REFERENCE.revocation);
    if (!unrevoked.ok) return { refused: unrevoked.stderr, envelope, ownRid };
    return { payload: readFileSync(join(dir, 'payload.json')), envelope, ownRid };
  }

  it.each(vectors.map((v) => [v.dir, v] as const))('%s: openssl cms agrees', (_dir, vector) => {
    const outcome = runReference(vector);
    if (vector.openssl) {
      // OpenSSL refuses it, for the reason given.
      expect(outcome.refused).toContain(vector.openssl);
    } else {
      // Accepted, or wrong where OpenSSL does not look: it opens the body and yields the signed content.
      expect(outcome.refused).toBeUndefined();
      if (vector.expected === 'accepted')
        expect(JSON.parse(outcome.payload!.toString('utf8'))).toEqual(
          JSON.parse(read(`${vector.dir}/payload.json`).toString('utf8')),
        );
    }
  });

  it.each(vectors.filter((v) => v.openedBy && v.expected !== 'cms-malformed').map((v) => [v.dir, v] as const))(
    '%s: a receiver is a recipient exactly when a RecipientInfo rid names its certificate',
    (_dir, vector) => {
      const { envelope, ownRid } = runReference(vector);
      const serial = /serial=([0-9A-F]+)/.exec(ownRid!.stdout)?.[1];
      const rids = [...envelope!.stdout.matchAll(/serialNumber: (\d+)/g)].map((match) => BigInt(match[1]!));
      expect(serial).toBeDefined();
      expect(rids.length).toBeGreaterThan(0);
      // not-addressed-to-me: sealed for another practitioner, whose key this receiver does not hold either.
      expect(rids.includes(BigInt(`0x${serial}`))).toBe(
        vector.expected !== 'not-a-recipient' && vector.expected !== 'not-addressed-to-me',
      );
    },
  );

  it('cannot tell an ECDH non-recipient from a failed key unwrap: without -recip OpenSSL says the same to both', () => {
    const withoutRecip = OPENSSL_REFERENCE.decrypt.replace(' -recip recipient.cert.pem', '');
    const refusal = (name: string) => {
      const vector = vectors.find((v) => v.name === name)!;
      const dir = mkdtempSync(join(work, 'ecdh-'));
      copyFileSync(join(root, vector.dir, 'body.p7m'), join(dir, 'body.p7m'));
      copyFileSync(join(root, `pki/${vector.openedBy!}.key.pem`), join(dir, 'recipient.key.pem'));
      const run = spawnSync('sh', ['-c', withoutRecip], { cwd: dir });
      expect(run.status).not.toBe(0);
      // Without the per-process address OpenSSL prefixes to each error line.
      return run.stderr.toString('utf8').replace(/^[0-9A-F]+:error:/gm, 'error:');
    };
    expect(refusal('ecdh-not-a-recipient')).toBe(refusal('ecdh-tampered-wrapped-key'));
    expect(refusal('ecdh-not-a-recipient')).toContain('cipher operation failed');
  });
});

describe('the sample enrolment file (docs/conformance/enrolment, docs/protocol.md §9)', () => {
  const file = new Uint8Array(read('enrolment/clinic-a.rtsenrol'));
  const contents = JSON.parse(read('enrolment/clinic-a.json').toString('utf8')) as Record<string, unknown>;

  it('opens with the region CA and carries the hub certificate', async () => {
    // Judged now, as a reader would: the file is signed when it is generated, not at evaluateAt.
    const enrolment = await verifyEnrolment(file, trust.anchors[0]!);
    expect(enrolment).toEqual(contents);
    expect(enrolment.hubCertificatePem).toBe(read('pki/hub.cert.pem').toString('utf8'));
  });

  it('opens with the OpenSSL commands §9 gives, signed by the enrolment signer', () => {
    for (const command of Object.values(OPENSSL_ENROLMENT)) expect(protocolDoc).toContain(command);
    const dir = mkdtempSync(join(tmpdir(), 'rts-enrolment-'));
    try {
      copyFileSync(join(root, 'enrolment/clinic-a.rtsenrol'), join(dir, 'endpoint.rtsenrol'));
      copyFileSync(join(root, 'pki/ca.pem'), join(dir, 'ca.pem'));
      const sh = (command: string) => spawnSync('sh', ['-c', command], { cwd: dir });
      const verified = sh(OPENSSL_ENROLMENT.verify);
      expect(verified.status, verified.stderr.toString()).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, 'enrolment.json'), 'utf8'))).toEqual(contents);
      expect(sh(OPENSSL_ENROLMENT.signerName).stdout.toString()).toMatch(
        new RegExp(`CN = ${ENROLMENT_SIGNER_COMMON_NAME}\\n$`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
