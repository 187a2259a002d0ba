import {
  createCipheriv,
  createDecipheriv,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CpuWindow } from './cpu-window.ts';

/**
 * What P2's path costs whatever its design, on this machine (issue 20 asks what part of the gap no design can remove).
 * Two parts, both measured in the run:
 *  - **the two hops**: the machine's CPU per message while bare rhea over the two hops was timed (the broker carrying
 *    each byte twice, rhea at three ends), from /proc/stat, less the machine's background;
 *  - **the protocol's own work per consult**, each step by OpenSSL through node:crypto on a consult of the run's size,
 *    with no structure built around it. At the applicant: the attachment base64-encoded into the JSON bundle, a
 *    SHA-256 digest and an ECDSA P-256 signature, AES-256-GCM under a content key agreed by ECDH P-256 with two
 *    recipients (the expert and the sender), the envelope sealed at rest (AES-256-GCM), written and fsynced. At the
 *    expert: the envelope sealed at rest, written and fsynced, the key agreed, the content decrypted, digested and its
 *    signature verified, the JSON parsed and the attachment decoded. Nothing of FHIR validation, the hub's bookkeeping,
 *    certificates or receipts: a lower bound.
 * With the machine's cores, no implementation moves consults faster than cores ÷ (both per consult), nor delivers one
 * sooner than the two-hop latency plus the protocol's work done one step after another.
 */
export interface P2Floor {
  /** Machine CPU seconds per message of bare rhea over two hops (background removed). */
  readonly twoHopCpuMs: number;
  /** The protocol's work per consult: CPU (user + system) and wall time (the two fsyncs included). */
  readonly protocolCpuMs: number;
  readonly protocolWallMs: number;
  readonly steps: Readonly<Record<string, number>>;
  readonly cores: number;
  /** Consults per second no implementation exceeds here: the two-hop rate, or the cores over the CPU per consult. */
  readonly messagesPerSecond: number;
}

type Usage = NodeJS.CpuUsage;
const cpuMs = (since: Usage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/** The machine's busy cores while nothing of the benchmark runs, to take out of the two-hop window. */
export async function backgroundCores(startWindow: () => CpuWindow, ms = 1000): Promise<number> {
  const window = startWindow();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const { machineBusyS, wallS } = window.stop();
  return machineBusyS / wallS;
}

/**
 * The protocol's work for one consult of `attachmentBytes`: each figure the least of `samples` after one unmeasured. A
 * floor is what the work takes at best; a busy machine only adds to it (the median's storage step measured 12.7, 24.2
 * and 35.3 ms in three runs of one busy evening).
 */
export function measureProtocolWork(
  attachmentBytes: number,
  samples = 9,
): Omit<P2Floor, 'twoHopCpuMs' | 'cores' | 'messagesPerSecond'> {
  const dir = mkdtempSync(join(tmpdir(), 'rts-p2-floor-'));
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const recipients = [0, 1].map(() => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const atRestKey = randomBytes(32);
  const attachment = randomBytes(attachmentBytes);
  const runs: Record<string, number>[] = [];
  try {
    for (let n = 0; n <= samples; n++) {
      const steps: Record<string, number> = {};
      let usage = process.cpuUsage();
      const step = (name: string) => {
        steps[name] = (steps[name] ?? 0) + cpuMs(usage);
        usage = process.cpuUsage();
      };
      const wallStarted = performance.now();
      const cpuStarted = process.cpuUsage();

      // The applicant: the bundle, signed, encrypted to two recipients, kept.
      const json = Buffer.from(
        JSON.stringify({
          resourceType: 'Bundle',
          entry: [{ resource: { contentType: 'x', data: attachment.toString('base64') } }],
        }),
      );
      step('encode');
      const digest = createHash('sha256').update(json).digest();
      const signature = sign('sha256', digest, signer.privateKey);
      step('sign');
      const ephemeral = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const secrets = recipients.map((r) =>
        diffieHellman({ privateKey: ephemeral.privateKey, publicKey: r.publicKey }),
      );
      const contentKey = createHash('sha256').update(secrets[0]!).digest();
      const envelope = gcm(contentKey, Buffer.concat([json, signature]));
      step('encrypt');
      keep(dir, 'applicant', atRestKey, envelope);
      step('store');

      // The expert: kept, opened, verified, read.
      keep(dir, 'expert', atRestKey, envelope);
      step('store');
      diffieHellman({ privateKey: recipients[0]!.privateKey, publicKey: ephemeral.publicKey });
      const signed = ungcm(contentKey, envelope);
      step('decrypt');
      const content = signed.subarray(0, json.byteLength);
      const ok = verify(
        'sha256',
        createHash('sha256').update(content).digest(),
        signer.publicKey,
        signed.subarray(json.byteLength),
      );
      if (!ok) throw new Error('the floor signature does not verify');
      step('verify');
      const parsed = JSON.parse(content.toString('utf8')) as { entry: { resource: { data: string } }[] };
      if (Buffer.from(parsed.entry[0]!.resource.data, 'base64').byteLength !== attachmentBytes)
        throw new Error('the floor attachment does not decode');
      step('decode');

      steps.cpu = cpuMs(cpuStarted);
      steps.wall = performance.now() - wallStarted;
      if (n > 0) runs.push(steps);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const least = (key: string) => Math.min(...runs.map((r) => r[key]!));
  const steps = Object.fromEntries(
    Object.keys(runs[0]!)
      .filter((key) => key !== 'cpu' && key !== 'wall')
      .map((key) => [key, least(key)]),
  );
  return { protocolCpuMs: least('cpu'), protocolWallMs: least('wall'), steps };
}

/** The floor from the two-hop window (its machine CPU, background removed) and the protocol's work. */
export function p2Floor(input: {
  readonly twoHop: {
    readonly messagesPerSecond: number;
    readonly messages: number;
    readonly cpu: ReturnType<CpuWindow['stop']>;
  };
  readonly backgroundCores: number;
  readonly work: ReturnType<typeof measureProtocolWork>;
}): P2Floor {
  const { cpu } = input.twoHop;
  const twoHopCpuMs =
    (Math.max(0, cpu.machineBusyS - input.backgroundCores * cpu.wallS) * 1000) / input.twoHop.messages;
  const perConsultS = (twoHopCpuMs + input.work.protocolCpuMs) / 1000;
  return {
    ...input.work,
    twoHopCpuMs,
    cores: cpu.cores,
    messagesPerSecond: Math.min(input.twoHop.messagesPerSecond, cpu.cores / perConsultS),
  };
}

function gcm(key: Buffer, data: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  return Buffer.concat([iv, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

function ungcm(key: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.byteLength - 16)), decipher.final()]);
}

/** Sealed at rest, appended and fsynced, as each endpoint's store must before it acknowledges. */
function keep(dir: string, name: string, key: Buffer, envelope: Buffer): void {
  const fd = openSync(join(dir, name), 'a');
  try {
    writeSync(fd, gcm(key, envelope));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
