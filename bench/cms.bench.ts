/**
 * CMS envelope benchmark: our seal()/open() against the `openssl cms` CLI on the same payloads, in the same run.
 *
 *   node bench/cms.bench.ts            (npm run bench:cms)
 *
 * Profile measured on both sides: RSA-2048 signer (RSASSA-PKCS1-v1_5, SHA-256, intermediate embedded), one RSA-2048
 * recipient (RSA-OAEP SHA-256), AES-256-GCM AuthEnvelopedData. openssl seal = `cms -sign` then `cms -encrypt`, open =
 * `cms -decrypt` then `cms -verify`, each timed as the wall time of its processes. Our peak memory is measured in a
 * child process (one seal + open, peak RSS above the RSS just before), openssl's with `/usr/bin/time -f %M`.
 *
 * The last two lines are machine-read: `cms-1m: seal_speedup=X open_speedup=Y` and the same for 20m, where
 * speedup = openssl time / our time (medians).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createTestPki, runOpenssl, type TestPki } from '../scripts/test-env/index.ts';
import {
  importDecryptionKey,
  importSigningKey,
  open,
  seal,
  type CmsRecipientIdentity,
  type CmsSigner,
  type TrustConfig,
} from '../shared/cms/index.ts';

const SIZES = [
  { label: '10k', bytes: 10_000 },
  { label: '1m', bytes: 1_000_000 },
  { label: '20m', bytes: 20_000_000 },
] as const;
const RUNS = 5;
/** The JIT needs more than one round before small messages show steady-state times. */
const WARMUP = 2;
const TIME_BIN = '/usr/bin/time';

interface Setup {
  signer: CmsSigner;
  recipientCertificate: Uint8Array;
  identity: CmsRecipientIdentity;
  trust: TrustConfig;
}

/** What the child process needs to rebuild the setup from the PKI on disk. */
interface ChildArgs {
  bytes: number;
  signerCert: string;
  signerKey: string;
  intermediate: string;
  recipientCert: string;
  recipientKey: string;
  root: string;
  /** The root's and the intermediate's CRLs: revocation is checked against a current CRL of every issuer. */
  crls: string[];
}

function der(path: string, label: string): Uint8Array {
  const pem = readFileSync(path, 'utf8');
  const body = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(pem)?.[1] ?? '';
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

async function setupFrom(args: ChildArgs): Promise<Setup> {
  const signerCert = der(args.signerCert, 'CERTIFICATE');
  const recipientCert = der(args.recipientCert, 'CERTIFICATE');
  return {
    signer: {
      certificate: signerCert,
      privateKey: await importSigningKey(der(args.signerKey, 'PRIVATE KEY'), signerCert),
      chain: [der(args.intermediate, 'CERTIFICATE')],
    },
    recipientCertificate: recipientCert,
    identity: {
      certificate: recipientCert,
      privateKey: await importDecryptionKey(der(args.recipientKey, 'PRIVATE KEY'), recipientCert),
    },
    trust: { anchors: [der(args.root, 'CERTIFICATE')], crls: args.crls.map((path) => der(path, 'X509 CRL')) },
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function timed(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

async function timedAsync(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** Peak resident memory (KiB) of one openssl invocation, or undefined without GNU time. */
function opensslPeakKiB(args: string[]): number | undefined {
  if (!existsSync(TIME_BIN)) return undefined;
  const result = spawnSync(TIME_BIN, ['-f', '%M', 'openssl', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  return Number(lines[lines.length - 1]);
}

async function child(args: ChildArgs): Promise<void> {
  const setup = await setupFrom(args);
  const content = new Uint8Array(randomBytes(args.bytes));
  const before = process.memoryUsage().rss;
  const envelope = await seal(content, setup.signer, [setup.recipientCertificate]);
  await open(envelope, setup.identity, setup.trust);
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ peakBytes: peak, aboveBaselineBytes: peak - before }));
}

function ourPeak(args: ChildArgs): { peakBytes: number; aboveBaselineBytes: number } {
  const out = execFileSync(
    process.execPath,
    [process.argv[1] ?? 'bench/cms.bench.ts', '--child', JSON.stringify(args)],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { peakBytes: number; aboveBaselineBytes: number };
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : (bytes / 1024 / 1024).toFixed(1);
}

function ms(value: number): string {
  return value.toFixed(1).padStart(8);
}

async function main(): Promise<void> {
  const pki: TestPki = createTestPki();
  try {
    const work = join(pki.dir, 'bench');
    mkdirSync(work);
    const signerLeaf = pki.leaves.rsaSigner;
    const recipientLeaf = pki.leaves.rsaRecipient;
    const childArgs = {
      signerCert: signerLeaf.certPath,
      signerKey: signerLeaf.keyPath,
      intermediate: pki.intermediate.certPath,
      recipientCert: recipientLeaf.certPath,
      recipientKey: recipientLeaf.keyPath,
      root: pki.root.certPath,
      crls: [pki.rootCrlPath, pki.intermediateCrlPath],
    };
    const setup = await setupFrom({ ...childArgs, bytes: 0 });

    const cpu = cpus();
    console.log(
      `machine: ${platform()} ${release()}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    );
    console.log(
      `versions: node ${process.version}, ${runOpenssl(['version']).toString().trim()}, pkijs ${packageVersion('pkijs')}, asn1js ${packageVersion('asn1js')}`,
    );
    console.log(
      `profile: RSA-2048 signer (PKCS#1 v1.5, SHA-256, chain embedded) -> RSA-2048 recipient (OAEP SHA-256), AES-256-GCM AuthEnvelopedData`,
    );
    console.log(
      `runs: ${RUNS} timed after ${WARMUP} warm-up; ours in-process (min/median), openssl CLI wall time incl. process start (median)`,
    );
    if (!existsSync(TIME_BIN)) console.log(`note: ${TIME_BIN} not found, openssl peak memory skipped`);
    console.log('');
    console.log(
      'size  | ours seal min/med ms | ours open min/med ms | openssl seal ms | openssl open ms | seal speedup | open speedup | peak MiB ours (above base) | peak MiB openssl',
    );

    const speedups: Record<string, { seal: number; open: number }> = {};
    for (const size of SIZES) {
      const content = new Uint8Array(randomBytes(size.bytes));
      const contentPath = join(work, `${size.label}.bin`);
      writeFileSync(contentPath, content);

      const sealTimes: number[] = [];
      const openTimes: number[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const sealStart = performance.now();
        const envelope = await seal(content, setup.signer, [setup.recipientCertificate]);
        const sealMs = performance.now() - sealStart;
        const openMs = await timedAsync(() => open(envelope, setup.identity, setup.trust));
        if (i >= WARMUP) {
          sealTimes.push(sealMs);
          openTimes.push(openMs);
        }
      }

      const signed = join(work, `${size.label}.signed.der`);
      const envelopePath = join(work, `${size.label}.env.der`);
      const decrypted = join(work, `${size.label}.decrypted.der`);
      const output = join(work, `${size.label}.out`);
      const signArgs = [
        'cms',
        '-sign',
        '-binary',
        '-nodetach',
        '-md',
        'sha256',
        '-nosmimecap',
        '-in',
        contentPath,
        '-signer',
        signerLeaf.certPath,
        '-inkey',
        signerLeaf.keyPath,
        '-certfile',
        pki.intermediate.certPath,
        '-outform',
        'DER',
        '-out',
        signed,
      ];
      const encryptArgs = [
        'cms',
        '-encrypt',
        '-binary',
        '-aes-256-gcm',
        '-in',
        signed,
        '-outform',
        'DER',
        '-out',
        envelopePath,
        '-recip',
        recipientLeaf.certPath,
        '-keyopt',
        'rsa_padding_mode:oaep',
        '-keyopt',
        'rsa_oaep_md:sha256',
      ];
      const decryptArgs = [
        'cms',
        '-decrypt',
        '-binary',
        '-inform',
        'DER',
        '-in',
        envelopePath,
        '-recip',
        recipientLeaf.certPath,
        '-inkey',
        recipientLeaf.keyPath,
        '-out',
        decrypted,
      ];
      const verifyArgs = [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        decrypted,
        '-CAfile',
        pki.root.certPath,
        '-out',
        output,
      ];
      const opensslSeal: number[] = [];
      const opensslOpen: number[] = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const sealMs = timed(() => {
          runOpenssl(signArgs);
          runOpenssl(encryptArgs);
        });
        const openMs = timed(() => {
          runOpenssl(decryptArgs);
          runOpenssl(verifyArgs);
        });
        if (i >= WARMUP) {
          opensslSeal.push(sealMs);
          opensslOpen.push(openMs);
        }
      }
      if (!readFileSync(output).equals(Buffer.from(content)))
        throw new Error(`openssl round trip of ${size.label} lost data`);

      const ours = ourPeak({ ...childArgs, bytes: size.bytes });
      const opensslPeaks = [signArgs, encryptArgs, decryptArgs, verifyArgs].map(opensslPeakKiB);
      const opensslPeak = opensslPeaks.every((k) => k !== undefined) ? Math.max(...opensslPeaks) * 1024 : undefined;

      const sealSpeedup = median(opensslSeal) / median(sealTimes);
      const openSpeedup = median(opensslOpen) / median(openTimes);
      speedups[size.label] = { seal: sealSpeedup, open: openSpeedup };
      console.log(
        [
          size.label.padEnd(5),
          `${ms(Math.min(...sealTimes))} /${ms(median(sealTimes))}`,
          `${ms(Math.min(...openTimes))} /${ms(median(openTimes))}`,
          ms(median(opensslSeal)).padStart(15),
          ms(median(opensslOpen)).padStart(15),
          sealSpeedup.toFixed(2).padStart(12),
          openSpeedup.toFixed(2).padStart(12),
          `${mib(ours.peakBytes)} (${mib(ours.aboveBaselineBytes)})`.padStart(26),
          mib(opensslPeak).padStart(16),
        ].join(' | '),
      );
    }
    console.log('');
    for (const label of ['1m', '20m']) {
      const s = speedups[label];
      if (s) console.log(`cms-${label}: seal_speedup=${s.seal.toFixed(2)} open_speedup=${s.open.toFixed(2)}`);
    }
  } finally {
    pki.remove();
  }
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(
    readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

const childIndex = process.argv.indexOf('--child');
if (childIndex >= 0) await child(JSON.parse(process.argv[childIndex + 1] ?? '{}') as ChildArgs);
else await main();
