/**
 * Reading a signed message's parts (shared/cms/signed-parts.ts) against the full BER reader, on a message of a receipt's
 * size signed as every endpoint signs (the conformance PKI's EC signer): CPU per read, three rounds alternating after one of each not counted. The
 * quick reader walks the DER and builds the SignerInfo itself for the profile's shape; the full reader parses it with
 * asn1js and pkijs's schemas.
 *
 *   node bench/cms-signed-parts.bench.ts
 *
 * Ends with `cms-signed-parts: ratio=X` (quick ÷ full, CPU, median of 3).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_MAX_BYTES,
  importSigningKey,
  readSignedParts,
  readSignedPartsQuickly,
  sign,
} from '../shared/cms/index.ts';
import { pemToDer } from '../shared/pki/index.ts';

const READS = 2000;
const pki = join(import.meta.dirname, '..', 'docs', 'conformance', 'pki');
const der = (file: string) => pemToDer(readFileSync(join(pki, file), 'utf8'));
const certificate = der('clinic-a.dr-rahman.signing.cert.pem');
const privateKey = await importSigningKey(der('clinic-a.dr-rahman.signing.key.pem'), certificate);
const receipt = new TextEncoder().encode(
  JSON.stringify({ resourceType: 'Bundle', type: 'message', entry: [] }).padEnd(900),
);
const signed = await sign(receipt, { certificate, privateKey });

/** µs of CPU per read. */
function cpuPerRead(read: () => unknown): number {
  const before = process.cpuUsage();
  for (let i = 0; i < READS; i++) if (!read()) throw new Error('the message was not read');
  const used = process.cpuUsage(before);
  return (used.user + used.system) / READS;
}

const quick: number[] = [];
const full: number[] = [];
// A round of each first, not counted: the first thousands of reads run before V8 has optimized the readers.
cpuPerRead(() => readSignedPartsQuickly(new Uint8Array(signed), DEFAULT_MAX_BYTES));
cpuPerRead(() => readSignedParts(new Uint8Array(signed), DEFAULT_MAX_BYTES));
for (let round = 0; round < 3; round++) {
  quick.push(cpuPerRead(() => readSignedPartsQuickly(new Uint8Array(signed), DEFAULT_MAX_BYTES)));
  full.push(cpuPerRead(() => readSignedParts(new Uint8Array(signed), DEFAULT_MAX_BYTES)));
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[1]!;
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; node ${process.version}; ${signed.byteLength} bytes signed, ${READS} reads a round`,
);
console.log(`  quick reader ${quick.map((v) => v.toFixed(0)).join(' / ')} µs of CPU per read`);
console.log(`  full reader  ${full.map((v) => v.toFixed(0)).join(' / ')} µs of CPU per read`);
console.log(`cms-signed-parts: ratio=${(median(quick) / median(full)).toFixed(2)} (quick ÷ full, CPU, median of 3)`);
