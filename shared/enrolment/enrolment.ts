import { ContentInfo, SignedData } from 'pkijs';
import { z } from 'zod';
import { isCmsError, sign, verify, type CmsSigner } from '../cms/index.ts';
import { commonNameOf, PEM_LABELS, pemToDer } from '../pki/index.ts';
import type { ApiErrorParams, ApiErrorReason } from '../api/index.ts';
import { BROKER_KINDS } from '../broker/index.ts';
import { endpointIdSchema } from '../protocol/identifiers.ts';

/**
 * The enrolment file (`.rtsenrol`): everything an endpoint needs to join a region that is not secret, as JSON signed
 * (CMS SignedData, content attached) by the region's enrolment signer, a certificate the region's CA issued for this
 * one purpose. Its common name is no endpoint id, so no protocol message can pass for it and it for none. The broker
 * password and the .p12 passwords travel separately.
 */

export const ENROLMENT_FORMAT = 'rts-enrolment/1';
/** The enrolment signer's common name: spaces and capitals, so never an endpoint or directory id. */
export const ENROLMENT_SIGNER_COMMON_NAME = 'RTS Region Administration';
export const ENROLMENT_FILE_EXTENSION = '.rtsenrol';
export const ENDPOINT_KINDS = ['workstation', 'clinic-system'] as const;

const pemCertificate = z
  .string()
  .refine((pem) => pem.includes(`-----BEGIN ${PEM_LABELS.certificate}-----`), 'a PEM certificate');

const enrolmentSchema = z
  .object({
    format: z.literal(ENROLMENT_FORMAT),
    region: z.string().min(1),
    endpoint: z.object({ id: endpointIdSchema, kind: z.enum(ENDPOINT_KINDS) }).strict(),
    broker: z
      .object({
        /** Which broker the region runs; absent in files written before Artemis was supported, which mean RabbitMQ. */
        kind: z.enum(BROKER_KINDS).optional(),
        hosts: z.array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict()).min(1),
        vhost: z.string().min(1),
        username: z.string().min(1),
        /** The CA (PEM) of the broker's TLS certificate; absent only for a broker on this computer (loopback). */
        tlsCaPem: pemCertificate.optional(),
        /**
         * The name the broker's TLS certificate is checked against (and sent as SNI); absent: the host itself. Not the
         * AMQP open frame's hostname (`vhost:…`), which names the virtual host.
         */
        tlsServerName: z.string().min(1).max(253).optional(),
      })
      .strict(),
    caCertificatePem: pemCertificate,
    crlPem: z.string().refine((pem) => pem.includes(`-----BEGIN ${PEM_LABELS.crl}-----`), 'a PEM CRL'),
    hubCertificatePem: pemCertificate,
    issuedAt: z.string().datetime(),
  })
  .strict();

export type Enrolment = z.infer<typeof enrolmentSchema>;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

/**
 * A refused enrolment file: `message` is one line an operator can act on (English, for the log and the CLI); `reason`
 * and `params` name the same refusal for the workstation's UI to word.
 */
export class EnrolmentError extends Error {
  readonly code = 'enrolment-refused';
  readonly reason: ApiErrorReason;
  readonly params: ApiErrorParams | undefined;
  constructor(reason: ApiErrorReason, message: string, options?: { cause?: unknown; params?: ApiErrorParams }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnrolmentError';
    this.reason = reason;
    this.params = options?.params;
  }
}

export function isEnrolmentError(error: unknown): error is EnrolmentError {
  return error instanceof EnrolmentError;
}

/** The signed file (DER). The signer must be the region's enrolment signer. */
export async function signEnrolment(enrolment: Enrolment, signer: CmsSigner): Promise<Uint8Array> {
  const checked = enrolmentSchema.parse(enrolment);
  return sign(new TextEncoder().encode(JSON.stringify(checked)), signer);
}

/**
 * Verifies a file against the region CA the reader trusts (obtained out of band, e.g. its fingerprint read over the
 * phone) and returns its contents. Refused: a file not signed by that CA's enrolment signer, altered after signing,
 * whose signer the file's own CRL lists as revoked or whose CRL is out of date, or that names another CA.
 */
export async function verifyEnrolment(
  file: Uint8Array,
  trustedCa: Uint8Array,
  now: Date = new Date(),
): Promise<Enrolment> {
  const contents = readUnverified(file);
  let signed;
  try {
    signed = await verify(file, { anchors: [trustedCa], crls: [pemToDer(contents.crlPem, PEM_LABELS.crl)] }, { now });
  } catch (error) {
    if (isCmsError(error))
      throw new EnrolmentError(
        'enrolment-signature-refused',
        `the enrolment file's signature is refused: ${error.message}`,
        {
          cause: error,
        },
      );
    throw new EnrolmentError(
      'enrolment-crl-unreadable',
      `the enrolment file's CRL cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const signerName = commonNameOf(signed.signer.certificate);
  if (signerName !== ENROLMENT_SIGNER_COMMON_NAME) {
    throw new EnrolmentError(
      'enrolment-wrong-signer',
      `the enrolment file is signed by "${signerName ?? '(no name)'}", not by the region's enrolment signer`,
    );
  }
  // Parsed again from the verified bytes: what is returned is exactly what was signed.
  const enrolment = parseContent(signed.content);
  if (!bytesEqual(caOf(enrolment), trustedCa)) {
    throw new EnrolmentError('enrolment-other-ca', 'the enrolment file names another CA than the one trusted here');
  }
  return enrolment;
}

/**
 * Verifies a file against the CA it carries itself: the first enrolment of an endpoint that trusts no region CA yet.
 * The signature must chain to that CA, so the file is whole; whether the CA is the region's the user decides by
 * comparing `caFingerprint` with the fingerprint the administrator gave them by another channel.
 */
export async function verifyEnrolmentWithItsOwnCa(
  file: Uint8Array,
  now: Date = new Date(),
): Promise<{ enrolment: Enrolment; caFingerprint: string }> {
  const ca = caOf(readUnverified(file));
  return { enrolment: await verifyEnrolment(file, ca, now), caFingerprint: await certificateFingerprint(ca) };
}

/** The CA certificate (DER) a file names, before any check: for choosing which trusted CA to verify it against. */
export function enrolmentCaOf(file: Uint8Array): Uint8Array {
  return caOf(readUnverified(file));
}

function caOf(enrolment: Enrolment): Uint8Array {
  try {
    return pemToDer(enrolment.caCertificatePem, PEM_LABELS.certificate);
  } catch (error) {
    throw new EnrolmentError('enrolment-ca-unreadable', "the enrolment file's CA certificate cannot be read", {
      cause: error,
    });
  }
}

/**
 * A certificate's SHA-256 fingerprint as OpenSSL prints it (`openssl x509 -noout -fingerprint -sha256`): upper-case
 * hex pairs joined by colons, so an administrator and a user can read it to each other and compare.
 */
export async function certificateFingerprint(der: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(der)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** The CRL must be read before the signature can be checked against it; the content is parsed again once verified. */
function readUnverified(file: Uint8Array): Enrolment {
  let content: Uint8Array;
  try {
    content = eContentOf(file);
  } catch (error) {
    throw new EnrolmentError('enrolment-not-enrolment-file', 'the file is not an enrolment file (no signed content)', {
      cause: error,
    });
  }
  return parseContent(content);
}

function eContentOf(file: Uint8Array): Uint8Array {
  // A copy: `file` may be a view into a larger buffer (Node's Buffer pool), and pkijs reads a whole ArrayBuffer.
  const signedData = new SignedData({ schema: ContentInfo.fromBER(new Uint8Array(file).buffer).content });
  const eContent = signedData.encapContentInfo.eContent;
  if (!eContent) throw new Error('detached');
  return new Uint8Array(eContent.getValue());
}

function parseContent(content: Uint8Array): Enrolment {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(content));
  } catch (error) {
    throw new EnrolmentError('enrolment-not-json', 'the enrolment file does not hold JSON', { cause: error });
  }
  const parsed = enrolmentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EnrolmentError(
      'enrolment-format-invalid',
      `the enrolment file is not ${ENROLMENT_FORMAT}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
