import { X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Message } from 'rhea';
import { verify, type TrustConfig } from '../shared/cms/index.ts';
import { validatePayload } from '../shared/protocol/fhir/index.ts';
import { decodeMessage } from '../shared/protocol/index.ts';
import { bodyBytes } from '../transport/index.ts';

/**
 * What P1's path costs whatever its design, on this machine: the CPU the protocol itself asks for. The hub checks every
 * practitioner certificate on publish (protocol §5.1), at least one ECDSA P-256 signature verification by OpenSSL
 * each, and validates each publish batch against base FHIR R4 (§4; the workstation verifies the hub's signature on the
 * updates that carry the same entries instead of validating them again). Measured on samples of the run's own certificates and
 * batches (the verification alone, certificates parsed beforehand; base validation by @medplum/core, the library
 * the protocol's validator uses) and scaled to the whole list; spread over every core, a lower bound on the timed
 * figure, before anything is parsed, stored, indexed, signed or sent.
 */
export interface Floor {
  readonly certificateVerifyUs: number;
  readonly certificates: number;
  readonly batchValidationMs: number;
  readonly batches: number;
  /** CPU seconds of the whole list at the hub: its certificates and base validation. */
  readonly cpuS: number;
  readonly cores: number;
  /** cpuS over the cores: no implementation on this machine is faster. */
  readonly wallS: number;
}

export async function measureFloor(input: {
  readonly certificates: readonly Uint8Array[];
  readonly issuer: Uint8Array;
  readonly messages: readonly Message[];
  readonly trust: TrustConfig;
}): Promise<Floor> {
  const issuerKey = new X509Certificate(input.issuer).publicKey;
  const sample = input.certificates.slice(0, 4_000).map((der) => new X509Certificate(der));
  for (const certificate of sample.slice(0, 200)) certificate.verify(issuerKey);
  let started = performance.now();
  for (const certificate of sample)
    if (!certificate.verify(issuerKey)) throw new Error('a sample certificate does not verify');
  const certificateVerifyUs = ((performance.now() - started) * 1000) / sample.length;

  // Full batches only (the last may be short); the first one warms the validator up.
  const batches = [];
  for (const message of input.messages.slice(0, 4)) {
    const decoded = decodeMessage({ ...message, body: bodyBytes(message.body) });
    if (!decoded.ok) throw new Error(decoded.error.detail);
    batches.push({
      content: (await verify(decoded.value.body, input.trust)).content,
      metadata: decoded.value.metadata,
    });
  }
  validatePayload(batches[0]!.content, batches[0]!.metadata);
  started = performance.now();
  for (const batch of batches.slice(1))
    if (!validatePayload(batch.content, batch.metadata).ok) throw new Error('a sample batch does not validate');
  const batchValidationMs = (performance.now() - started) / (batches.length - 1);

  const cpuS =
    (input.certificates.length * certificateVerifyUs) / 1e6 + (input.messages.length * batchValidationMs) / 1000;
  const cores = availableParallelism();
  return {
    certificateVerifyUs,
    certificates: input.certificates.length,
    batchValidationMs,
    batches: input.messages.length,
    cpuS,
    cores,
    wallS: cpuS / cores,
  };
}
