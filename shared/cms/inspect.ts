import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { serialHex } from '../pki/certificate.ts';
import { summarizeCertificate, type CertificateSummary } from '../pki/describe.ts';
import { formatName } from '../pki/names.ts';
import { parseOrThrow } from './cms-errors.ts';
import { readContentInfo } from './content-info.ts';
import { toHex } from '../pki/bytes.ts';
import { DEFAULT_MAX_BYTES, octets, parseBer } from './der.ts';
import { readEnvelope } from './enveloped-data.ts';
import { readSignedData } from './signed-data.ts';
import { OID, oidName } from './oids.ts';
import type { Der } from './types.ts';

/**
 * A JSON-able description of a CMS message for logs and support: content types, algorithms by name, who it is for
 * and who signed it, and sizes. Never content, keys or encrypted keys.
 */
export type CmsStructure = SignedDataStructure | EnvelopeStructure;

export interface SignedDataStructure {
  contentType: 'signedData';
  size: number;
  encapsulatedContentType: string;
  /** null for a detached signature. */
  contentSize: number | null;
  digestAlgorithms: string[];
  certificates: CertificateSummary[];
  signers: SignerStructure[];
}

export interface IdentifierStructure {
  issuer?: string;
  serialNumber?: string;
  subjectKeyIdentifier?: string;
}

export interface SignerStructure extends IdentifierStructure {
  /** Known when the signer certificate is in the message. */
  subject?: string;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  signingTime?: string;
}

export interface EnvelopeStructure {
  contentType: 'envelopedData' | 'authEnvelopedData';
  size: number;
  encryptedContentType: string;
  contentEncryption: string;
  encryptedContentSize: number;
  /** authEnvelopedData only. */
  macSize?: number;
  recipients: RecipientStructure[];
}

export type RecipientStructure =
  | ({ type: 'key-transport'; keyEncryption: string; oaepHash?: string } & IdentifierStructure)
  | { type: 'key-agreement'; keyAgreement: string; keyWrap: string; recipients: IdentifierStructure[] }
  | { type: 'other' };

function issuerAndSerial(value: pkijs.IssuerAndSerialNumber): IdentifierStructure {
  return { issuer: formatName(value.issuer), serialNumber: serialHex(value.serialNumber) };
}

function identifier(value: unknown): IdentifierStructure {
  if (value instanceof pkijs.IssuerAndSerialNumber) return issuerAndSerial(value);
  if (value instanceof pkijs.RecipientKeyIdentifier) return identifier(value.subjectKeyIdentifier);
  if (value instanceof asn1js.BaseBlock) return { subjectKeyIdentifier: toHex(octets(value)) };
  return {};
}

function signingTimeOf(signerInfo: pkijs.SignerInfo): string | undefined {
  // pkijs leaves `values` undefined for an attribute whose SET it could not read.
  const values: readonly unknown[] | undefined = signerInfo.signedAttrs?.attributes.find(
    (a) => a.type === OID.signingTime,
  )?.values;
  const value = values?.[0];
  return value instanceof asn1js.UTCTime || value instanceof asn1js.GeneralizedTime
    ? value.toDate().toISOString()
    : undefined;
}

function signedDataStructure(der: Der, schema: asn1js.AsnType): SignedDataStructure {
  const sd = readSignedData(schema);
  const certificates = sd.certificates.map((known) => known.certificate);
  const eContent = sd.eContent;
  return {
    contentType: 'signedData',
    size: der.byteLength,
    encapsulatedContentType: oidName(sd.eContentType),
    contentSize: eContent ? octets(eContent).byteLength : null,
    digestAlgorithms: sd.digestAlgorithms.map((a) => oidName(a.algorithmId)),
    certificates: certificates.map(summarizeCertificate),
    signers: sd.signerInfos.map((signerInfo) => {
      const id = identifier(signerInfo.sid);
      const sid: unknown = signerInfo.sid;
      const certificate =
        sid instanceof pkijs.IssuerAndSerialNumber
          ? certificates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber))
          : undefined;
      const signingTime = signingTimeOf(signerInfo);
      return {
        ...id,
        ...(certificate ? { subject: formatName(certificate.subject) } : {}),
        digestAlgorithm: oidName(signerInfo.digestAlgorithm.algorithmId),
        signatureAlgorithm: oidName(signerInfo.signatureAlgorithm.algorithmId),
        ...(signingTime ? { signingTime } : {}),
      };
    }),
  };
}

function recipientStructure(info: pkijs.RecipientInfo): RecipientStructure {
  const value: unknown = info.value;
  if (value instanceof pkijs.KeyTransRecipientInfo) {
    const algorithm = value.keyEncryptionAlgorithm;
    const oaepHash =
      algorithm.algorithmId === OID.rsaesOaep
        ? oidName(
            parseOrThrow(
              'The RSA-OAEP parameters',
              () => new pkijs.RSAESOAEPParams({ schema: algorithm.algorithmParams }),
            ).hashAlgorithm.algorithmId,
          )
        : undefined;
    return {
      type: 'key-transport',
      keyEncryption: oidName(algorithm.algorithmId),
      ...(oaepHash ? { oaepHash } : {}),
      ...identifier(value.rid),
    };
  }
  if (value instanceof pkijs.KeyAgreeRecipientInfo) {
    const params: unknown = value.keyEncryptionAlgorithm.algorithmParams;
    const wrap =
      params instanceof asn1js.Sequence
        ? parseOrThrow('The key wrap algorithm', () => new pkijs.AlgorithmIdentifier({ schema: params }))
        : undefined;
    return {
      type: 'key-agreement',
      keyAgreement: oidName(value.keyEncryptionAlgorithm.algorithmId),
      keyWrap: wrap ? oidName(wrap.algorithmId) : 'unknown',
      recipients: value.recipientEncryptedKeys.encryptedKeys.map((k) => identifier(k.rid.value)),
    };
  }
  return { type: 'other' };
}

/** Describes a ContentInfo (SignedData, EnvelopedData or AuthEnvelopedData) without decrypting or verifying it. */
export function inspect(der: Der): CmsStructure {
  const root = parseBer(der, DEFAULT_MAX_BYTES, 'The message');
  const { contentType, content } = readContentInfo(root, 'The message');
  if (contentType === OID.signedData) return signedDataStructure(der, content);
  const envelope = readEnvelope(contentType, content);
  return {
    contentType: envelope.contentType === OID.authEnvelopedData ? 'authEnvelopedData' : 'envelopedData',
    size: der.byteLength,
    encryptedContentType: oidName(envelope.encryptedContentType),
    contentEncryption: oidName(envelope.contentEncryptionAlgorithm.algorithmId),
    encryptedContentSize: envelope.encryptedContent?.byteLength ?? 0,
    ...(envelope.mac ? { macSize: envelope.mac.byteLength } : {}),
    recipients: envelope.recipientInfos.map(recipientStructure),
  };
}
