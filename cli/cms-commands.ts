import type { Command } from 'commander';
import {
  importDecryptionKey,
  importSigningKey,
  inspect,
  isCmsError,
  open,
  seal,
  withheldFailure,
} from '../shared/cms/index.ts';
import { isEnrolmentError, verifyEnrolment } from '../shared/enrolment/index.ts';
import { PEM_LABELS, pemToDerAll } from '../shared/pki/index.ts';
import { CLI_ERROR_CODES, CliError } from './cli-error.ts';
import { readBytes, writeFileAtomic } from './files.ts';
import { printJson, printLines } from './output.ts';

/** rts cms seal|open and rts inspect: the envelope of docs/protocol.md §3, from files. */

/** PEM (any number of blocks with this label) or a single DER object. */
function readObjects(path: string, label: string): Uint8Array[] {
  const bytes = readBytes(path);
  const text = new TextDecoder().decode(bytes.subarray(0, 64));
  return text.includes('-----BEGIN') ? pemToDerAll(new TextDecoder().decode(bytes), label) : [bytes];
}

function readOne(path: string, label: string): Uint8Array {
  return readObjects(path, label)[0]!;
}

interface SealOptions {
  key: string;
  cert: string;
  chain?: string;
  to: string[];
  in: string;
  out: string;
  cbc?: boolean;
}
interface OpenOptions {
  key: string;
  cert: string;
  trust: string;
  crl?: string[];
  enrolment?: string;
  in: string;
  out: string;
  json?: boolean;
  acceptCbc?: boolean;
}

/** The CRL of an enrolment file that verifies against the trusted region CA (`rts region enrolment show` checks the same). */
async function enrolmentCrl(file: string, trustedCa: Uint8Array): Promise<Uint8Array> {
  try {
    const enrolment = await verifyEnrolment(readBytes(file), trustedCa);
    return pemToDerAll(enrolment.crlPem, PEM_LABELS.crl)[0]!;
  } catch (error) {
    if (isEnrolmentError(error))
      throw new CliError(CLI_ERROR_CODES.enrolmentRefused, `${file}: ${error.message}`, { cause: error });
    throw error;
  }
}

async function sealFile(options: SealOptions): Promise<void> {
  const certificate = readOne(options.cert, PEM_LABELS.certificate);
  const privateKey = await importSigningKey(readOne(options.key, PEM_LABELS.privateKey), certificate);
  const recipients = options.to.map((path) => readOne(path, PEM_LABELS.certificate));
  const envelope = await seal(
    readBytes(options.in),
    { certificate, privateKey, ...(options.chain && { chain: readObjects(options.chain, PEM_LABELS.certificate) }) },
    recipients,
    { contentEncryption: options.cbc ? 'aes-256-cbc' : 'aes-256-gcm' },
  );
  writeFileAtomic(options.out, envelope);
  printLines([
    `sealed ${options.in} for ${recipients.length} recipient(s) into ${options.out} (${envelope.byteLength} bytes)`,
  ]);
}

async function openFile(options: OpenOptions): Promise<void> {
  const certificate = readOne(options.cert, PEM_LABELS.certificate);
  const privateKey = await importDecryptionKey(readOne(options.key, PEM_LABELS.privateKey), certificate);
  const anchors = readObjects(options.trust, PEM_LABELS.certificate);
  const trust = {
    anchors,
    crls: [
      ...(options.crl ?? []).flatMap((path) => readObjects(path, PEM_LABELS.crl)),
      ...(options.enrolment ? [await enrolmentCrl(options.enrolment, anchors[0]!)] : []),
    ],
  };
  // The operator holds the key: the precise reason is theirs to see (receivers withhold it from the wire only).
  const opened = await open(readBytes(options.in), { certificate, privateKey }, trust, {
    allowCbc: options.acceptCbc === true,
  }).catch((error: unknown) => {
    throw isCmsError(error) ? withheldFailure(error) : error;
  });
  writeFileAtomic(options.out, opened.content, 0o600);
  const summary = {
    signer: opened.signer.subject,
    serialNumber: opened.signer.serialNumber,
    signingTime: opened.signer.signingTime.toISOString(),
    contentEncryption: opened.contentEncryption,
    bytes: opened.content.byteLength,
  };
  if (options.json) printJson(summary);
  else
    printLines([
      `signed by ${summary.signer} (serial ${summary.serialNumber}) at ${summary.signingTime}`,
      `wrote ${summary.bytes} bytes to ${options.out}`,
    ]);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerCmsCommands(program: Command): void {
  const cms = program.command('cms').description('CMS envelope: sign then encrypt, decrypt then verify');
  cms
    .command('seal')
    .description(
      'sign FILE with the signing key, then encrypt it to every --to certificate (include your own encryption certificate to keep a readable copy)',
    )
    .requiredOption('--key <file>', 'signing private key (PKCS#8 PEM or DER)')
    .requiredOption('--cert <file>', 'signing certificate')
    .option('--chain <file>', 'intermediate certificates to embed')
    .requiredOption('--to <file>', 'recipient encryption certificate (repeatable)', collect)
    .requiredOption('--in <file>', 'content to seal')
    .requiredOption('--out <file>', 'DER CMS output (.p7m)')
    .option(
      '--cbc',
      'AES-256-CBC EnvelopedData instead of AES-256-GCM AuthEnvelopedData (protocol 2 receivers refuse it; for tests)',
    )
    .action(sealFile);
  cms
    .command('open')
    .description('decrypt FILE.p7m with the encryption key, verify the signature and chain, write the content')
    .requiredOption('--key <file>', 'decryption private key (PKCS#8 PEM or DER)')
    .requiredOption('--cert <file>', 'the matching encryption certificate')
    .requiredOption('--trust <file>', 'trust anchor(s): the regional CA certificate')
    .option('--crl <file>', 'CRL to check revocation against (repeatable)', collect)
    .option(
      '--enrolment <file>',
      'an enrolment file (.rtsenrol) whose CRL to check against; it must verify against --trust',
    )
    .requiredOption('--in <file>', 'DER CMS input')
    .requiredOption('--out <file>', 'where to write the verified content')
    .option('--json', 'print the signer as JSON')
    .option('--accept-cbc', 'also read AES-256-CBC EnvelopedData (refused by default: unauthenticated)')
    .action(openFile);
  program
    .command('inspect')
    .description(
      'print the structure of a CMS file: content types, algorithms, recipients, signers; never content or keys',
    )
    .argument('<file>', 'DER CMS file')
    .action((file: string) => printJson(inspect(readBytes(file))));
}
