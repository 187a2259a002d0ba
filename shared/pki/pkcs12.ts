import {
  Attribute,
  AuthenticatedSafe,
  CertBag,
  type ContentInfo,
  EncryptedContentInfo,
  EncryptedData,
  getCrypto,
  PFX,
  PKCS8ShroudedKeyBag,
  PrivateKeyInfo,
  SafeBag,
  SafeContents,
  type AlgorithmIdentifier,
  type ContentEncryptionAlgorithm,
  type MacData,
} from 'pkijs';
import * as asn1js from 'asn1js';
import { toArrayBuffer } from './bytes.ts';
import { parseCertificate } from './certificate.ts';
import { PKI_ERROR_CODES, PkiError, parseOrThrow } from './errors.ts';
import { privateKeyMatchesPublicKey } from './keys.ts';

export interface Pkcs12Contents {
  /** DER PKCS#8 PrivateKeyInfo, unencrypted. */
  readonly privateKeyPkcs8: Uint8Array;
  /** DER of the certificate that belongs to the private key. */
  readonly certificate: Uint8Array;
  /** DER of the other certificates in the file (normally the CA chain), in file order. */
  readonly chain: Uint8Array[];
}

export interface Pkcs12Options extends Pkcs12Contents {
  readonly password: string;
  /** Shown by key stores (Windows, macOS, Firefox) as the entry's name. */
  readonly friendlyName?: string;
  /** PBKDF2 and MAC iterations. OpenSSL 3's default is 2048. */
  readonly iterations?: number;
}

const DEFAULT_ITERATIONS = 2048;

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
} as const;

/** What OpenSSL 3 writes by default: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC. */
const ENCRYPTION = {
  // pkijs draws the IV itself; its type asks for one all the same.
  contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 } as ContentEncryptionAlgorithm,
  hmacHashAlgorithm: 'SHA-256',
};

/**
 * A password-protected .p12 laid out as OpenSSL 3 lays it out: the certificates in a PBES2-encrypted SafeContents, the
 * key in a PBES2-shrouded key bag, and an HMAC-SHA256 integrity MAC over the whole.
 */
export async function createPkcs12(options: Pkcs12Options): Promise<Uint8Array> {
  if (options.password.length === 0) {
    // OpenSSL and others disagree on how an empty password enters the MAC; refuse rather than write an unreadable file.
    throw new PkiError(PKI_ERROR_CODES.invalidInput, 'a PKCS#12 password must not be empty');
  }
  const password = toArrayBuffer(new TextEncoder().encode(options.password));
  const iterationCount = options.iterations ?? DEFAULT_ITERATIONS;
  const spki = new Uint8Array(parseCertificate(options.certificate).subjectPublicKeyInfo.toSchema().toBER());
  if (!(await privateKeyMatchesPublicKey(options.privateKeyPkcs8, spki))) {
    throw new PkiError(PKI_ERROR_CODES.invalidInput, 'the private key does not belong to the certificate');
  }
  const privateKeyInfo = parseOrThrow('the PKCS#8 private key', () =>
    PrivateKeyInfo.fromBER(toArrayBuffer(options.privateKeyPkcs8)),
  );

  // The localKeyId pairs the key with its certificate for readers that look for it (OpenSSL uses a SHA-1 of the cert).
  const localKeyId = new Uint8Array(await crypto.subtle.digest('SHA-1', toArrayBuffer(options.certificate)));
  const attributes = [
    new Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: localKeyId })] }),
    ...(options.friendlyName === undefined
      ? []
      : [new Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: options.friendlyName })] })]),
  ];

  const keyBag = new PKCS8ShroudedKeyBag({ parsedValue: privateKeyInfo });
  await keyBag.makeInternalValues({ password, iterationCount, ...ENCRYPTION });

  const certificateBags = [options.certificate, ...options.chain].map(
    (der, index) =>
      new SafeBag({
        bagId: OID.certBag,
        bagValue: new CertBag({
          certId: OID.x509Certificate,
          certValue: new asn1js.OctetString({ valueHex: toArrayBuffer(der) }),
        }),
        ...(index === 0 ? { bagAttributes: attributes } : {}),
      }),
  );

  const authenticatedSafe = new AuthenticatedSafe({
    parsedValue: {
      safeContents: [
        { privacyMode: 1, value: new SafeContents({ safeBags: certificateBags }) },
        {
          privacyMode: 0,
          value: new SafeContents({
            safeBags: [new SafeBag({ bagId: OID.shroudedKeyBag, bagValue: keyBag, bagAttributes: attributes })],
          }),
        },
      ],
    },
  });
  await authenticatedSafe.makeInternalValues({
    safeContents: [{ password, iterationCount, ...ENCRYPTION }, {}],
  });

  const pfx = new PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({
    password,
    iterations: iterationCount,
    pbkdf2HashAlgorithm: { name: 'SHA-256' },
    hmacHashAlgorithm: 'SHA-256',
  });
  return new Uint8Array(pfx.toSchema().toBER());
}

/**
 * Reads a password-based .p12 (ours, or OpenSSL 3's default output). Exactly one private key is expected; the
 * certificate is the one whose public key matches it, the others are returned as the chain.
 */
export async function parsePkcs12(der: Uint8Array, password: string): Promise<Pkcs12Contents> {
  const passwordBytes = toArrayBuffer(new TextEncoder().encode(password));
  const pfx = parseOrThrow('the PKCS#12 file', () => PFX.fromBER(toArrayBuffer(der)));
  if (pfx.authSafe.contentType !== OID.data) {
    throw new PkiError(PKI_ERROR_CODES.unsupported, 'PKCS#12 files with public-key integrity are not supported');
  }
  const content: unknown = pfx.authSafe.content;
  if (!(content instanceof asn1js.OctetString))
    throw new PkiError(PKI_ERROR_CODES.malformed, 'malformed PKCS#12 content');
  const authenticatedSafeBytes = content.getValue();
  const secret: Secret = {
    password: passwordBytes,
    macVerified: await verifyMac(pfx.macData, authenticatedSafeBytes, passwordBytes),
  };
  const authenticatedSafe = parseOrThrow('the PKCS#12 AuthenticatedSafe', () =>
    AuthenticatedSafe.fromBER(authenticatedSafeBytes),
  );

  const safeBags: SafeBag[] = [];
  for (const content of authenticatedSafe.safeContents) safeBags.push(...(await readSafeContents(content, secret)));

  const keys: Uint8Array[] = [];
  const certificates: Uint8Array[] = [];
  for (const bag of safeBags) {
    if (bag.bagId === OID.keyBag && bag.bagValue instanceof PrivateKeyInfo) {
      keys.push(new Uint8Array(bag.bagValue.toSchema().toBER()));
    } else if (bag.bagId === OID.shroudedKeyBag && bag.bagValue instanceof PKCS8ShroudedKeyBag) {
      const key = await decrypt(bag.bagValue.encryptionAlgorithm, bag.bagValue.encryptedData, secret);
      decrypted(secret, () => parseOrThrow('the PKCS#8 private key', () => PrivateKeyInfo.fromBER(toArrayBuffer(key))));
      keys.push(key);
    } else if (
      bag.bagId === OID.certBag &&
      bag.bagValue instanceof CertBag &&
      bag.bagValue.certId === OID.x509Certificate
    ) {
      const value: unknown = bag.bagValue.certValue;
      if (value instanceof asn1js.OctetString) certificates.push(value.valueBlock.valueHexView.slice());
    }
    // CRL, secret and attribute-certificate bags are not ours to interpret.
  }

  const [privateKeyPkcs8, ...otherKeys] = keys;
  if (!privateKeyPkcs8) throw new PkiError(PKI_ERROR_CODES.malformed, 'the PKCS#12 file holds no private key');
  if (otherKeys.length > 0) {
    throw new PkiError(PKI_ERROR_CODES.unsupported, 'the PKCS#12 file holds more than one private key');
  }
  let certificateIndex = -1;
  for (const [index, certificate] of certificates.entries()) {
    const spki = new Uint8Array(parseCertificate(certificate).subjectPublicKeyInfo.toSchema().toBER());
    if (await privateKeyMatchesPublicKey(privateKeyPkcs8, spki)) {
      certificateIndex = index;
      break;
    }
  }
  const certificate = certificates[certificateIndex];
  if (!certificate) throw new PkiError(PKI_ERROR_CODES.malformed, 'the PKCS#12 file has no certificate for its key');
  return { privateKeyPkcs8, certificate, chain: certificates.filter((_, index) => index !== certificateIndex) };
}

interface Secret {
  readonly password: ArrayBuffer;
  /** Once the MAC has confirmed the password, a decryption failure means something else. */
  readonly macVerified: boolean;
}

/** False if there is no MAC to verify; throws on a wrong password. */
async function verifyMac(macData: MacData | undefined, content: ArrayBuffer, password: ArrayBuffer): Promise<boolean> {
  if (!macData) return false;
  const engine = getCrypto(true);
  const hash = engine.getAlgorithmByOID(macData.mac.digestAlgorithm.algorithmId);
  if (!('name' in hash)) throw new PkiError(PKI_ERROR_CODES.unsupported, 'unsupported PKCS#12 MAC algorithm');
  let valid: boolean;
  try {
    valid = await engine.verifyDataStampedWithPassword({
      password,
      hashAlgorithm: hash.name,
      salt: toArrayBuffer(macData.macSalt.valueBlock.valueHexView),
      iterationCount: macData.iterations ?? 1,
      contentToVerify: content,
      signatureToVerify: toArrayBuffer(macData.mac.digest.valueBlock.valueHexView),
    });
  } catch (error) {
    throw new PkiError(PKI_ERROR_CODES.unsupported, `unsupported PKCS#12 MAC (${hash.name})`, { cause: error });
  }
  if (!valid) throw new PkiError(PKI_ERROR_CODES.wrongPassword, 'wrong password for the PKCS#12 file');
  return true;
}

async function readSafeContents(content: ContentInfo, secret: Secret): Promise<SafeBag[]> {
  const value: unknown = content.content;
  let bytes: Uint8Array;
  if (content.contentType === OID.data && value instanceof asn1js.OctetString) {
    bytes = new Uint8Array(value.getValue());
  } else if (content.contentType === OID.encryptedData) {
    const encrypted = parseOrThrow('the PKCS#12 encrypted content', () => new EncryptedData({ schema: value }));
    const info = encrypted.encryptedContentInfo;
    const ciphertext = info.encryptedContent;
    if (!ciphertext) throw new PkiError(PKI_ERROR_CODES.malformed, 'the PKCS#12 encrypted content is empty');
    bytes = await decrypt(info.contentEncryptionAlgorithm, ciphertext, secret);
  } else {
    throw new PkiError(PKI_ERROR_CODES.unsupported, `unsupported PKCS#12 content type ${content.contentType}`);
  }
  const safeContents = () => parseOrThrow('the PKCS#12 SafeContents', () => SafeContents.fromBER(toArrayBuffer(bytes)));
  return (content.contentType === OID.encryptedData ? decrypted(secret, safeContents) : safeContents()).safeBags;
}

/**
 * What a decryption gave, parsed. Without a MAC, a wrong password decrypts to garbage whose padding is valid now and
 * then (about 1 in 256 per encrypted part: the CI saw it once): garbage there is a wrong password, not a damaged file.
 */
function decrypted<T>(secret: Secret, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!secret.macVerified && error instanceof PkiError && error.code === PKI_ERROR_CODES.malformed)
      throw new PkiError(PKI_ERROR_CODES.wrongPassword, 'wrong password for the PKCS#12 file', { cause: error });
    throw error;
  }
}

/** PBES2 decryption; the legacy PKCS#12 PBEs (RC2, 3DES: `openssl -legacy`) are refused with a clear code. */
async function decrypt(
  algorithm: AlgorithmIdentifier,
  ciphertext: asn1js.OctetString,
  secret: Secret,
): Promise<Uint8Array> {
  if (algorithm.algorithmId !== OID.pbes2) {
    throw new PkiError(
      PKI_ERROR_CODES.unsupported,
      `legacy PKCS#12 encryption ${algorithm.algorithmId} is not supported; export with PBES2/AES (OpenSSL 3's default)`,
    );
  }
  const encrypted = new EncryptedData({
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: algorithm,
      encryptedContent: ciphertext,
    }),
  });
  try {
    return new Uint8Array(await encrypted.decrypt({ password: secret.password }));
  } catch (error) {
    if (secret.macVerified) {
      throw new PkiError(PKI_ERROR_CODES.unsupported, 'the PKCS#12 content uses an unsupported cipher or PRF', {
        cause: error,
      });
    }
    throw new PkiError(PKI_ERROR_CODES.wrongPassword, 'wrong password for the PKCS#12 file', { cause: error });
  }
}
