import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  addRevokedSerial,
  CERTIFICATE_PROFILES,
  commonNameOf,
  createCertificationRequest,
  derToPem,
  describeCertificate,
  exportPrivateKeyPkcs8,
  generateKeyPair,
  importSigningPrivateKey,
  isPkiError,
  issueCertificateFromRequest,
  parsePem,
  parsePkcs12,
  pemToDer,
  pemToDerAll,
  PKI_ERROR_CODES,
  PEM_LABELS,
  PkiError,
  readCrl,
  type CertificateDescription,
  type DistinguishedName,
  type LeafProfileName,
} from '../shared/pki/index.ts';
import { DIRECTORY_ID_PATTERN } from '../shared/protocol/index.ts';
import { CLI_ERROR_CODES, CliError, usageError } from './cli-error.ts';
import { createDemoRegion, DEMO_CRL_VALIDITY_DAYS } from './demo-region.ts';
import { prepareDirectory, readBytes, readText, writeFileAtomic } from './files.ts';
import { MANIFEST_FILE, readManifest, writeManifest } from './manifest.ts';
import { printJson, printLines } from './output.ts';

/** `rts pki …`: the regional PKI as an administrator or tester handles it. */
export function registerPkiCommands(program: Command): void {
  const pki = program
    .command('pki')
    .description('regional PKI: demo region, certificate requests and issuing, revocation, certificate details');
  const leafProfiles = Object.keys(CERTIFICATE_PROFILES).filter((profile) => profile !== 'root-ca');

  pki
    .command('demo-region')
    .description('create a demo regional PKI: CA, hub, two clinic systems, four practitioners (signing + encryption)')
    .requiredOption('--out <dir>', 'directory to write into (created if missing)')
    .option('--region <name>', 'region name used in the certificates', 'Demo Region')
    .addOption(new Option('--key-type <type>', 'key type of every certificate').choices(['ec', 'rsa']).default('ec'))
    .option('--force', 'write into a non-empty directory, replacing files of the same name')
    .option('--json', 'print the manifest and the PKCS#12 password as JSON')
    .action(demoRegion);

  pki
    .command('request')
    .description('make a new key pair and a certification request (PKCS#10) for it, to hand to the CA')
    .option(
      '--directory-id <id>',
      "a practitioner's directory id (<clinic endpoint id>.<local id>): the common name their certificates must have",
    )
    .option(
      '--subject-cn <name>',
      'common name: an endpoint id for a clinic system; for a practitioner use --directory-id',
    )
    .option('--subject-o <name>', 'organization, e.g. the region')
    .option('--subject-ou <name>', 'organizational unit, e.g. the clinic')
    .option('--subject-email <address>', 'e-mail address')
    .option('--subject-c <code>', 'two-letter country code')
    .addOption(new Option('--key-type <type>', 'key type').choices(['ec', 'rsa']).default('ec'))
    .addOption(new Option('--profile <profile>', 'ask for the key usages of this profile').choices(leafProfiles))
    .requiredOption('--key-out <file>', 'where to write the new private key (PKCS#8 PEM, unencrypted, mode 0600)')
    .requiredOption('--out <file>', 'where to write the request (PEM)')
    .option('--force', 'replace an existing --key-out file')
    .option('--json', 'print the result as JSON')
    .action(request);

  pki
    .command('issue')
    .description('issue a certificate from a certification request (PEM or DER), signed by the CA')
    .requiredOption('--csr <file>', 'the certification request')
    .addOption(new Option('--profile <profile>', 'certificate profile').choices(leafProfiles).makeOptionMandatory())
    .requiredOption('--ca-cert <file>', 'the CA certificate (PEM)')
    .requiredOption('--ca-key <file>', 'the CA private key (PKCS#8 PEM)')
    .option('--days <n>', "validity in days (default: the profile's; never past the CA certificate)")
    .requiredOption('--out <file>', 'where to write the certificate (PEM)')
    .option('--json', 'print the certificate description as JSON')
    .action(issue);

  pki
    .command('revoke')
    .description("revoke an identity of a demo region: add its serial to the CA's CRL and mark it in the manifest")
    .argument('<name>', 'identity name from manifest.json, e.g. clinic-a.dr-ahmed.signing')
    .requiredOption('--ca-dir <dir>', 'the demo region directory (manifest.json, ca.pem, ca.key.pem, ca.crl.pem)')
    .option('--json', 'print the result as JSON')
    .action(revoke);

  pki
    .command('show')
    .description('describe a certificate (PEM, possibly several, or DER), or the certificates in a .p12')
    .argument('<file>', 'certificate file or .p12')
    .option('--password <password>', 'password of a .p12')
    .option('--password-file <file>', 'file whose first line is the password of a .p12')
    .option('--json', 'print the descriptions as a JSON array')
    .action(show);
}

interface DemoRegionOptions {
  out: string;
  region: string;
  keyType: 'ec' | 'rsa';
  force?: true;
  json?: true;
}

async function demoRegion(options: DemoRegionOptions): Promise<void> {
  const region = options.region.trim();
  if (!region) throw usageError('--region must not be empty');
  if (prepareDirectory(options.out).nonEmpty && !options.force) {
    throw new CliError(CLI_ERROR_CODES.dirNotEmpty, `${options.out} is not empty; use --force to write into it anyway`);
  }
  const demo = await createDemoRegion({ region, keyType: options.keyType === 'rsa' ? 'rsa-2048' : 'ec-p256' });
  for (const file of demo.files) writeFileAtomic(join(options.out, file.name), file.data, file.secret ? 0o600 : 0o644);
  writeManifest(options.out, demo.manifest);

  if (options.json) {
    printJson({ directory: options.out, pkcs12Password: demo.pkcs12Password, manifest: demo.manifest });
    return;
  }
  const { manifest } = demo;
  const width = Math.max(...manifest.identities.map((identity) => identity.name.length));
  printLines([
    `Created demo region "${manifest.region}" (${manifest.keyType}) in ${options.out}:`,
    ...[manifest.ca, ...manifest.identities].map(
      (identity) => `  ${identity.name.padEnd(width)}  ${identity.profile.padEnd(23)}  ${identity.subject}`,
    ),
    'Each identity: NAME.cert.pem, NAME.key.pem (unencrypted: demo only), NAME.p12. CA: ca.pem, ca.key.pem, ca.crl.pem.',
    `PKCS#12 password (also in ${join(options.out, manifest.pkcs12PasswordFile)}): ${demo.pkcs12Password}`,
  ]);
}

interface RequestOptions {
  directoryId?: string;
  subjectCn?: string;
  subjectO?: string;
  subjectOu?: string;
  subjectEmail?: string;
  subjectC?: string;
  keyType: 'ec' | 'rsa';
  profile?: LeafProfileName;
  keyOut: string;
  out: string;
  force?: true;
  json?: true;
}

async function request(options: RequestOptions): Promise<void> {
  // The key of a request already handed to the CA is the only one its certificate will work with.
  if (existsSync(options.keyOut) && !options.force) {
    throw new CliError(CLI_ERROR_CODES.fileExists, `${options.keyOut} exists; use --force to replace it`);
  }
  const commonName = requestCommonName(options);
  const subject: DistinguishedName = {
    commonName,
    organization: options.subjectO,
    organizationalUnit: options.subjectOu,
    emailAddress: options.subjectEmail,
    country: options.subjectC,
  };
  const keyType = options.keyType === 'rsa' ? 'rsa-2048' : 'ec-p256';
  const keyPair = await generateKeyPair(keyType);
  const csr = await createCertificationRequest({ keyPair, subject, profile: options.profile });
  writeFileAtomic(
    options.keyOut,
    derToPem(await exportPrivateKeyPkcs8(keyPair.privateKey), PEM_LABELS.privateKey),
    0o600,
  );
  writeFileAtomic(options.out, derToPem(csr, PEM_LABELS.certificationRequest));

  if (options.json) {
    printJson({ request: options.out, privateKey: options.keyOut, keyType, profile: options.profile ?? null, subject });
  } else {
    printLines([
      `Wrote the request for "${subject.commonName}" (${keyType}) to ${options.out}: hand it to the CA.`,
      `The private key is in ${options.keyOut}; keep it there, the certificate issued from the request needs it.`,
    ]);
  }
}

/**
 * The request's common name. A practitioner's certificates name their directory id (docs/protocol.md §3): the hub and
 * every workstation refuse a directory entry whose certificates name anyone else.
 */
function requestCommonName(options: RequestOptions): string {
  const { directoryId, subjectCn } = options;
  if (directoryId === undefined && subjectCn === undefined)
    throw usageError('give --directory-id (a practitioner) or --subject-cn');
  if (directoryId !== undefined) {
    if (!DIRECTORY_ID_PATTERN.test(directoryId))
      throw usageError(
        `--directory-id must be <clinic endpoint id>.<local id>, e.g. clinic-a.dr-lima, not ${JSON.stringify(directoryId)}`,
      );
    if (subjectCn !== undefined && subjectCn !== directoryId)
      throw usageError("--subject-cn and --directory-id differ: a practitioner's common name is the directory id");
    return directoryId;
  }
  if (options.profile?.startsWith('practitioner-') && !DIRECTORY_ID_PATTERN.test(subjectCn!)) {
    throw usageError(
      `a ${options.profile} certificate names the practitioner's directory id: give --directory-id, not --subject-cn ${JSON.stringify(subjectCn)}`,
    );
  }
  return subjectCn!;
}

interface IssueOptions {
  csr: string;
  profile: LeafProfileName;
  caCert: string;
  caKey: string;
  days?: string;
  out: string;
  json?: true;
}

async function issue(options: IssueOptions): Promise<void> {
  const days = options.days === undefined ? undefined : Number(options.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0)) {
    throw usageError(`--days must be a positive whole number, not ${JSON.stringify(options.days)}`);
  }
  const issuer = {
    certificate: pemToDer(readText(options.caCert), PEM_LABELS.certificate),
    privateKey: await importSigningPrivateKey(pemToDer(readText(options.caKey), PEM_LABELS.privateKey)),
  };
  const issued = await issueCertificateFromRequest({
    request: readRequest(options.csr),
    profile: options.profile,
    issuer,
    validityDays: days,
  });
  // The hub and workstations bind a practitioner's certificates to the directory id they name (docs/protocol.md §3):
  // one issued to a person's name could never join, whatever made the request.
  const commonName = commonNameOf(issued.der) ?? '';
  if (options.profile.startsWith('practitioner-') && !DIRECTORY_ID_PATTERN.test(commonName)) {
    throw new PkiError(
      PKI_ERROR_CODES.invalidInput,
      `${options.csr} names ${JSON.stringify(commonName)}: a ${options.profile} certificate must name the practitioner's directory id (<clinic endpoint id>.<local id>); make the request with rts pki request --directory-id`,
    );
  }
  writeFileAtomic(options.out, derToPem(issued.der, PEM_LABELS.certificate));

  const description = describeCertificate(issued.der);
  if (options.json) {
    printJson({ certificate: options.out, profile: options.profile, ...description });
  } else {
    printLines([
      `Issued ${options.profile} certificate ${issued.serialNumber} to ${options.out}:`,
      ...formatDescription(description),
    ]);
  }
}

/** PEM ("CERTIFICATE REQUEST", or the older "NEW CERTIFICATE REQUEST" some tools write) or DER. */
function readRequest(file: string): Uint8Array {
  const bytes = readBytes(file);
  const text = new TextDecoder().decode(bytes);
  if (!text.includes('-----BEGIN')) return bytes;
  const labels: readonly string[] = [PEM_LABELS.certificationRequest, `NEW ${PEM_LABELS.certificationRequest}`];
  const block = parsePem(text).find((candidate) => labels.includes(candidate.label));
  if (!block) throw new CliError(CLI_ERROR_CODES.noRequest, `${file} holds no CERTIFICATE REQUEST block`);
  return block.der;
}

async function revoke(name: string, options: { caDir: string; json?: true }): Promise<void> {
  const directory = options.caDir;
  const manifest = readManifest(directory);
  const identity = manifest.identities.find((candidate) => candidate.name === name);
  if (!identity) {
    throw new CliError(CLI_ERROR_CODES.unknownIdentity, `no identity "${name}" in ${join(directory, MANIFEST_FILE)}`);
  }
  // The certificate file, not the manifest, says which serial is revoked.
  const readPem = (file: string, label: string) => pemToDer(readText(join(directory, file)), label);
  const { serialNumber } = describeCertificate(readPem(identity.files.certificate, PEM_LABELS.certificate));
  const issuer = {
    certificate: readPem(manifest.ca.files.certificate, PEM_LABELS.certificate),
    privateKey: await importSigningPrivateKey(readPem(manifest.ca.files.privateKey, PEM_LABELS.privateKey)),
  };
  const crlPath = join(directory, manifest.crl.file);
  const revokedAt = new Date();
  const crl = await addRevokedSerial(readPem(manifest.crl.file, PEM_LABELS.crl), serialNumber, issuer, {
    revocationDate: revokedAt,
    validityDays: DEMO_CRL_VALIDITY_DAYS,
  });
  writeFileAtomic(crlPath, derToPem(crl, PEM_LABELS.crl));
  const crlNumber = readCrl(crl).crlNumber ?? manifest.crl.crlNumber + 1;
  writeManifest(directory, {
    ...manifest,
    crl: { ...manifest.crl, crlNumber },
    identities: manifest.identities.map((candidate) =>
      candidate === identity ? { ...candidate, revokedAt: revokedAt.toISOString() } : candidate,
    ),
  });

  if (options.json) printJson({ name, serialNumber, revokedAt: revokedAt.toISOString(), crlFile: crlPath, crlNumber });
  else printLines([`Revoked ${name} (serial ${serialNumber}); ${crlPath} is now CRL number ${crlNumber}.`]);
}

async function show(file: string, options: { password?: string; passwordFile?: string; json?: true }): Promise<void> {
  if (options.password !== undefined && options.passwordFile !== undefined) {
    throw usageError('give --password or --password-file, not both');
  }
  const password =
    options.passwordFile === undefined ? options.password : (readText(options.passwordFile).split(/\r?\n/)[0] ?? '');
  const bytes = readBytes(file);
  let certificates: Uint8Array[];
  if (password !== undefined || /\.(p12|pfx)$/i.test(file)) {
    if (password === undefined) throw usageError(`${file} looks like a .p12: give --password or --password-file`);
    const contents = await parsePkcs12(bytes, password);
    certificates = [contents.certificate, ...contents.chain];
  } else if (new TextDecoder().decode(bytes).includes('-----BEGIN')) {
    certificates = pemToDerAll(new TextDecoder().decode(bytes), PEM_LABELS.certificate);
    if (certificates.length === 0) {
      throw new CliError(CLI_ERROR_CODES.noCertificate, `${file} holds no CERTIFICATE block`);
    }
  } else {
    certificates = [bytes];
  }
  const descriptions = certificates.map((der) => {
    try {
      return describeCertificate(der);
    } catch (error) {
      if (isPkiError(error) && error.code === PKI_ERROR_CODES.malformed) {
        const message = `${file} holds no readable certificate (${error.message})`;
        throw new CliError(CLI_ERROR_CODES.noCertificate, message, { cause: error });
      }
      throw error;
    }
  });
  if (options.json) {
    printJson(descriptions);
    return;
  }
  // A blank line between certificates.
  printLines([descriptions.map((description) => formatDescription(description).join('\n')).join('\n\n')]);
}

function formatDescription(description: CertificateDescription): string[] {
  const list = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : '-');
  return [
    `subject:            ${description.subject}`,
    `issuer:             ${description.issuer}`,
    `serial:             ${description.serialNumber}`,
    `valid:              ${description.notBefore} to ${description.notAfter}`,
    `key:                ${description.keyAlgorithm}`,
    `key usage:          ${list(description.keyUsage)}`,
    `extended key usage: ${list(description.extendedKeyUsage)}`,
    `CA:                 ${description.isCa ? 'yes' : 'no'}`,
  ];
}
