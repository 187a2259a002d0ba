import { AttributeTypeAndValue, RelativeDistinguishedNames } from 'pkijs';
import * as asn1js from 'asn1js';
import { PKI_ERROR_CODES, PkiError } from './errors.ts';

/** The subject or issuer attributes this PKI uses. */
export interface DistinguishedName {
  readonly commonName: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
  /** ISO 3166 two-letter code. */
  readonly country?: string;
  readonly emailAddress?: string;
}

const ATTRIBUTES = {
  country: { oid: '2.5.4.6', short: 'C' },
  organization: { oid: '2.5.4.10', short: 'O' },
  organizationalUnit: { oid: '2.5.4.11', short: 'OU' },
  commonName: { oid: '2.5.4.3', short: 'CN' },
  emailAddress: { oid: '1.2.840.113549.1.9.1', short: 'emailAddress' },
} as const;

/** Most general first, as X.500 orders them and OpenSSL prints them. */
const ORDER = ['country', 'organization', 'organizationalUnit', 'commonName', 'emailAddress'] as const;

export function encodeName(name: DistinguishedName): RelativeDistinguishedNames {
  validateName(name);
  // One attribute per RDN (pkijs would put them all in one multi-valued RDN, which OpenSSL prints joined with "+").
  const rdns = ORDER.flatMap((key) => {
    const value = name[key];
    if (value === undefined) return [];
    const attribute = new AttributeTypeAndValue({ type: ATTRIBUTES[key].oid, value: encodeValue(key, value) });
    return [new asn1js.Set({ value: [attribute.toSchema()] })];
  });
  return RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER());
}

function validateName(name: DistinguishedName): void {
  const invalid = (message: string) => new PkiError(PKI_ERROR_CODES.invalidInput, message);
  if (!name.commonName.trim()) throw invalid('the common name is empty');
  if (name.country !== undefined && !/^[A-Z]{2}$/.test(name.country)) {
    throw invalid('the country must be two capital letters');
  }
  // IA5String: ASCII only, and a plausible mailbox.
  if (name.emailAddress !== undefined && !/^[\x21-\x7e]+@[\x21-\x7e]+$/.test(name.emailAddress)) {
    throw invalid(`invalid e-mail address ${JSON.stringify(name.emailAddress)}`);
  }
}

function encodeValue(
  key: (typeof ORDER)[number],
  value: string,
): asn1js.Utf8String | asn1js.PrintableString | asn1js.IA5String {
  // RFC 5280: countryName is PrintableString and emailAddress IA5String; everything else UTF8String.
  if (key === 'country') return new asn1js.PrintableString({ value });
  if (key === 'emailAddress') return new asn1js.IA5String({ value });
  return new asn1js.Utf8String({ value });
}

const SHORT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(ATTRIBUTES).map(({ oid, short }) => [oid, short]),
);

/** One line, in certificate order: "C=DE, O=Region, CN=Dr. A". Unknown attributes appear by OID. */
export function formatName(name: RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map(({ type, value }) => `${SHORT_NAMES[type] ?? type}=${value.valueBlock.value}`)
    .join(', ');
}
