import { AttributeTypeAndValue, RelativeDistinguishedNames } from 'pkijs';
import * as asn1js from 'asn1js';
import { toHex } from './bytes.ts';
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

const ATTRIBUTE_OIDS = {
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

/** Most general first, as X.500 orders them and OpenSSL prints them. */
const ORDER = ['country', 'organization', 'organizationalUnit', 'commonName', 'emailAddress'] as const;

export function encodeName(name: DistinguishedName): RelativeDistinguishedNames {
  validateName(name);
  // One attribute per RDN (pkijs would put them all in one multi-valued RDN, which OpenSSL prints joined with "+").
  const rdns = ORDER.flatMap((key) => {
    const value = name[key];
    if (value === undefined) return [];
    const attribute = new AttributeTypeAndValue({ type: ATTRIBUTE_OIDS[key], value: encodeValue(key, value) });
    return [new asn1js.Set({ value: [attribute.toSchema()] })];
  });
  return RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER());
}

/**
 * The DistinguishedName of an encoded name, e.g. the subject of a certification request. Only the attributes this PKI
 * issues are taken, each at most once; anything else is refused rather than dropped, so that a certificate never names
 * less than was asked for without anyone noticing.
 */
export function decodeName(name: RelativeDistinguishedNames): DistinguishedName {
  const decoded: Partial<Record<(typeof ORDER)[number], string>> = {};
  for (const atv of name.typesAndValues) {
    const key = ORDER.find((candidate) => ATTRIBUTE_OIDS[candidate] === atv.type);
    const label = SHORT_NAMES[atv.type] ?? atv.type;
    if (!key)
      throw new PkiError(PKI_ERROR_CODES.unsupported, `the name has attribute ${label}, which this PKI does not use`);
    if (decoded[key] !== undefined)
      throw new PkiError(PKI_ERROR_CODES.unsupported, `the name has more than one ${label}`);
    const value = stringValueOf(atv.value);
    if (value === undefined) throw new PkiError(PKI_ERROR_CODES.malformed, `the name's ${label} is not a string`);
    decoded[key] = value;
  }
  const { commonName, ...rest } = decoded;
  if (commonName === undefined) throw new PkiError(PKI_ERROR_CODES.invalidInput, 'the name has no common name');
  const result: DistinguishedName = { commonName, ...rest };
  validateName(result);
  return result;
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

/** The attribute names of RFC 4514 and OpenSSL; any other attribute is shown by its OID. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/**
 * A distinguished name in RFC 4514 form: most specific RDN first, e.g. "CN=Dr A,O=Clinic A". Special characters are
 * escaped; a value that is not a string is shown as '#' and the hex of its DER.
 */
export function formatName(name: RelativeDistinguishedNames): string {
  // pkijs flattens multi-valued RDNs into one list; that loses only the '+' grouping, which display can spare.
  return name.typesAndValues
    .map((atv) => `${SHORT_NAMES[atv.type] ?? atv.type}=${formatValue(atv.value)}`)
    .reverse()
    .join(',');
}

function formatValue(value: unknown): string {
  const text = stringValueOf(value);
  if (text !== undefined) return escapeValue(text);
  if (value instanceof asn1js.BaseBlock) return `#${toHex(new Uint8Array(value.toBER(false)))}`;
  return '';
}

/** The text of any ASN.1 string type (UTF8String, PrintableString, IA5String, BMPString, …). */
function stringValueOf(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'valueBlock' in value) {
    const block = value.valueBlock;
    if (block && typeof block === 'object' && 'value' in block && typeof block.value === 'string') return block.value;
  }
  return undefined;
}

function escapeValue(text: string): string {
  return text
    .replace(/[\\"+,;<>]/g, (c) => `\\${c}`)
    .replace(/\0/g, '\\00')
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ');
}
