import { KeyObject, randomBytes, sign } from 'node:crypto';
import { generateKeyPair, issueCertificate, type LeafProfileName } from '../shared/pki/index.ts';
import type { TestIdentity, TestPractitioner, TestRegion } from '../testkit/index.ts';

/**
 * Practitioners with certificates of their own for the directory benchmarks' N experts, made fast. The hub and every
 * endpoint refuse an entry whose certificates name anyone but its directory id (protocol §5.1), so one pool of
 * identities cannot serve 100,000 experts; issuing 200,000 certificates through pkijs takes 2.5 ms each (8 minutes
 * here). So each of `keys` key pairs is issued once per use with a placeholder of the ids' length as common name, and
 * that certificate is a template: per expert its TBSCertificate gets the expert's id and a serial number of its own,
 * and the region's CA signs it with node:crypto. Experts share key pairs round-robin; every certificate is distinct.
 * The ids must all have the same length.
 */
export async function expertPractitioners(
  region: TestRegion,
  ids: readonly string[],
  keys: number,
): Promise<TestPractitioner[]> {
  const length = ids[0]?.length ?? 0;
  if (ids.some((id) => id.length !== length)) throw new Error('expert ids must all have the same length');
  const placeholder = Buffer.from('#'.repeat(length));
  const caKey = KeyObject.from(region.ca.privateKey);
  const templates: { signing: Template; encryption: Template }[] = [];
  for (let k = 0; k < Math.min(keys, ids.length); k++) {
    const pair = await generateKeyPair();
    const template = async (profile: LeafProfileName): Promise<Template> => {
      const issued = await issueCertificate({
        profile,
        subject: { commonName: placeholder.toString(), organization: 'Test Region' },
        publicKey: pair.publicKey,
        issuer: { certificate: region.ca.certificate, privateKey: region.ca.privateKey },
      });
      return { ...splitCertificate(issued.der, placeholder), privateKey: pair.privateKey };
    };
    templates.push({
      signing: await template('practitioner-signing'),
      encryption: await template('practitioner-encryption'),
    });
  }
  return ids.map((id, n) => {
    const pool = templates[n % templates.length]!;
    return {
      id,
      signing: certificateFor(pool.signing, id, caKey),
      encryption: certificateFor(pool.encryption, id, caKey),
    };
  });
}

interface Template {
  readonly tbs: Buffer;
  readonly algorithm: Buffer;
  /** Where the common name (each place it is written) and the serial number's bytes sit in the TBSCertificate. */
  readonly nameAt: readonly number[];
  readonly serial: { readonly at: number; readonly length: number };
  readonly privateKey: TestIdentity['privateKey'];
}

function certificateFor(template: Template, id: string, caKey: KeyObject): TestIdentity {
  const tbs = Buffer.from(template.tbs);
  for (const at of template.nameAt) tbs.write(id, at, 'latin1');
  // A positive serial of the template's length: high bit clear.
  const serial = randomBytes(template.serial.length);
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01;
  serial.copy(tbs, template.serial.at);
  const signature = sign('sha256', tbs, { key: caKey, dsaEncoding: 'der' });
  const bitString = der(0x03, Buffer.concat([Buffer.from([0]), signature]));
  return {
    certificate: new Uint8Array(der(0x30, Buffer.concat([tbs, template.algorithm, bitString]))),
    privateKey: template.privateKey,
  };
}

/** The TBSCertificate and signature algorithm of a certificate, and where its placeholder name and serial are. */
function splitCertificate(certificate: Uint8Array, placeholder: Buffer): Omit<Template, 'privateKey'> {
  const whole = Buffer.from(certificate);
  const outer = header(whole, 0);
  const tbsHeader = header(whole, outer.contentAt);
  const tbs = whole.subarray(outer.contentAt, tbsHeader.end);
  const algorithm = whole.subarray(tbsHeader.end, header(whole, tbsHeader.end).end);
  // TBSCertificate: [0] version, then the serial INTEGER.
  const version = header(tbs, header(tbs, 0).contentAt);
  const serial = header(tbs, version.end);
  const nameAt: number[] = [];
  for (let at = tbs.indexOf(placeholder); at >= 0; at = tbs.indexOf(placeholder, at + 1)) nameAt.push(at);
  if (nameAt.length === 0) throw new Error('the template does not name its placeholder');
  return {
    tbs: Buffer.from(tbs),
    algorithm: Buffer.from(algorithm),
    nameAt,
    serial: { at: serial.contentAt, length: serial.end - serial.contentAt },
  };
}

function header(bytes: Buffer, at: number): { contentAt: number; end: number } {
  const first = bytes[at + 1]!;
  if (first < 0x80) return { contentAt: at + 2, end: at + 2 + first };
  const octets = first & 0x7f;
  const length = bytes.readUIntBE(at + 2, octets);
  return { contentAt: at + 2 + octets, end: at + 2 + octets + length };
}

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
