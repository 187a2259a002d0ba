import { OID, derChildren, readDer, type DerElement } from '../shared/cms/index.ts';
import {
  CERTIFICATE_PROFILES,
  EXTENDED_KEY_USAGES,
  extendedKeyUsageOf,
  keyUsageOf,
  parseCertificate,
  type KeyUsage,
} from '../shared/pki/index.ts';
import { derExtendedKeyUsages, derExtensions, derKeyUsages, derOid } from './der-walk.ts';

/**
 * Binding a directory entry to its certificates (docs/protocol.md §3 and §5.1): a practitioner's signing and
 * encryption certificates name the practitioner's directory id (`<clinic endpoint id>.<local id>`) as their subject's
 * one common name, and carry the key usage and extended key usage of the regional profile for their use
 * (`practitioner-signing`, `practitioner-encryption`). Without it, a clinic could publish its own entry carrying another
 * clinic's expert's real signing certificate beside an encryption certificate whose key the clinic holds.
 *
 * This is only the binding: whether the certificate chains to the regional CA, is valid now and not revoked is the
 * certificate validator's check (shared/cms/certificate-validator.ts), which callers run as well.
 *
 * The hub and every workstation check two certificates per practitioner of a directory of up to 100,000; the fields are
 * read straight from the DER (shared-node/der-walk.ts), and only an unusual encoding goes through pkijs.
 */
export type BoundUse = 'signing' | 'encryption';

const PROFILE_OF = { signing: 'practitioner-signing', encryption: 'practitioner-encryption' } as const;
const EXTENDED_KEY_USAGE_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries(EXTENDED_KEY_USAGES).map(([name, oid]) => [oid, name]),
);

/** What the binding rule reads from a certificate. */
interface BindingFacts {
  readonly commonNames: readonly string[];
  readonly keyFamily: 'rsa' | 'ec' | undefined;
  /** Undefined where the certificate has no such extension. */
  readonly keyUsage: readonly KeyUsage[] | undefined;
  /** OIDs. */
  readonly extendedKeyUsage: readonly string[] | undefined;
}

const KEY_FAMILIES: Readonly<Record<string, 'rsa' | 'ec'>> = {
  [OID.rsaEncryption]: 'rsa',
  [OID.rsassaPss]: 'rsa',
  [OID.ecPublicKey]: 'ec',
};
const COMMON_NAME = '2.5.4.3';

/**
 * Why a certificate does not bind: it names someone else (or cannot be read), or lacks its profile's usage. `detail` is
 * in words for a receipt or the refused-entries list.
 */
export interface BindingProblem {
  readonly kind: 'name' | 'usage';
  readonly detail: string;
}

/** Why `der` does not bind to `directoryId` for `use`, or undefined if it does. */
export function certificateBindingProblem(
  der: Uint8Array,
  use: BoundUse,
  directoryId: string,
): BindingProblem | undefined {
  let facts: BindingFacts;
  try {
    facts = factsFromDer(der);
  } catch {
    try {
      facts = factsFromPkijs(der);
    } catch {
      return { kind: 'name', detail: `the ${use} certificate cannot be read` };
    }
  }
  return bindingProblem(facts, use, directoryId);
}

function bindingProblem(facts: BindingFacts, use: BoundUse, directoryId: string): BindingProblem | undefined {
  const profileName = PROFILE_OF[use];
  const name = (detail: string): BindingProblem => ({ kind: 'name', detail });
  const usage = (detail: string): BindingProblem => ({ kind: 'usage', detail });
  if (facts.commonNames.length !== 1)
    return name(
      `the ${use} certificate has ${facts.commonNames.length} subject common names; it must have one, the directory id ${directoryId}`,
    );
  const [commonName] = facts.commonNames;
  if (commonName !== directoryId)
    return name(
      `the ${use} certificate is issued to ${JSON.stringify(commonName)}, not to the directory id ${directoryId}`,
    );
  if (!facts.keyFamily)
    return usage(`the ${use} certificate has a key of a type the ${profileName} profile does not use`);
  const profile = CERTIFICATE_PROFILES[profileName];
  const missingUsage = profile.keyUsage[facts.keyFamily].filter((u) => !facts.keyUsage?.includes(u));
  if (missingUsage.length > 0)
    return usage(`the ${use} certificate lacks the key usage ${missingUsage.join(', ')} of the ${profileName} profile`);
  const missingPurpose = profile.extendedKeyUsage.filter(
    (p) => !facts.extendedKeyUsage?.includes(EXTENDED_KEY_USAGES[p]),
  );
  if (missingPurpose.length > 0)
    return usage(
      `the ${use} certificate lacks the extended key usage ${missingPurpose.join(', ')} of the ${profileName} profile`,
    );
  // A TLS client purpose is what makes a certificate a clinic system's in the hub's eyes (endpoint.register).
  const foreign = (facts.extendedKeyUsage ?? []).filter(
    (oid) => oid === EXTENDED_KEY_USAGES.clientAuth || oid === EXTENDED_KEY_USAGES.serverAuth,
  );
  if (foreign.length > 0)
    return usage(
      `the ${use} certificate is also issued for ${foreign.map((oid) => EXTENDED_KEY_USAGE_NAMES.get(oid)).join(', ')}, which the ${profileName} profile does not allow`,
    );
  return undefined;
}

// --- reading the DER --------------------------------------------------------------------------------------------------

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A directory string's text: UTF8String, PrintableString, IA5String or BMPString; anything else goes to pkijs. */
function stringOf(der: Uint8Array, element: DerElement): string {
  const bytes = der.subarray(element.contentStart, element.end);
  switch (element.tag) {
    case 0x0c:
    case 0x13:
    case 0x16:
      return UTF8.decode(bytes);
    case 0x1e: {
      if (bytes.length % 2 !== 0) throw new Error('odd BMPString');
      let text = '';
      for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
      return text;
    }
    default:
      throw new Error('unusual string type');
  }
}

/** Exported for tests: they hold it to pkijs's reading. */
export function factsFromDer(der: Uint8Array): BindingFacts {
  const certificate = readDer(der, 0, 0x30);
  const [tbs] = derChildren(der, certificate);
  if (certificate.end !== der.length || tbs?.tag !== 0x30) throw new Error('not a certificate');
  const fields = derChildren(der, tbs);
  // TBSCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[at + 4];
  const publicKeyInfo = fields[at + 5];
  if (subject?.tag !== 0x30 || publicKeyInfo?.tag !== 0x30) throw new Error('not a certificate');

  const commonNames: string[] = [];
  for (const rdn of derChildren(der, subject)) {
    if (rdn.tag !== 0x31) throw new Error('not a name');
    for (const attribute of derChildren(der, rdn)) {
      const [type, value] = derChildren(der, attribute);
      if (type?.tag !== 0x06 || !value) throw new Error('not an attribute');
      if (derOid(der, type) === COMMON_NAME) commonNames.push(stringOf(der, value));
    }
  }

  const [algorithm] = derChildren(der, publicKeyInfo);
  const [algorithmOid] = algorithm?.tag === 0x30 ? derChildren(der, algorithm) : [];
  if (algorithmOid?.tag !== 0x06) throw new Error('not a public key');
  const keyFamily = KEY_FAMILIES[derOid(der, algorithmOid)];

  const extensions = derExtensions(der, fields);
  const keyUsage = derKeyUsages(extensions.get(OID.keyUsage)?.value);
  const extendedKeyUsage = derExtendedKeyUsages(extensions.get(OID.extKeyUsage)?.value);
  return { commonNames, keyFamily, keyUsage, extendedKeyUsage };
}

export function factsFromPkijs(der: Uint8Array): BindingFacts {
  const certificate = parseCertificate(der);
  const commonNames = certificate.subject.typesAndValues
    .filter((atv) => atv.type === COMMON_NAME)
    .map((atv) => {
      const text = (atv.value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
      if (typeof text !== 'string') throw new Error('a common name that is not a string');
      return text;
    });
  return {
    commonNames,
    keyFamily: KEY_FAMILIES[certificate.subjectPublicKeyInfo.algorithm.algorithmId],
    keyUsage: keyUsageOf(certificate),
    extendedKeyUsage: extendedKeyUsageOf(certificate),
  };
}
