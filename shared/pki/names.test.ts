import * as asn1js from 'asn1js';
import { RelativeDistinguishedNames } from 'pkijs';
import { describe, expect, it } from 'vitest';
import { encodeName, formatName } from './names.ts';

/** A name as read from a certificate: one attribute per RDN, any ASN.1 value (pkijs types only strings). */
function name(...attributes: [type: string, value: asn1js.BaseBlock][]): RelativeDistinguishedNames {
  const rdns = attributes.map(
    ([type, value]) =>
      new asn1js.Set({
        value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), value] })],
      }),
  );
  return RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns }).toBER());
}

describe('formatName', () => {
  it('writes RFC 4514: most specific first, short names, no spaces', () => {
    const encoded = encodeName({
      commonName: 'Dr. Mei Chen',
      organization: 'North Valley',
      organizationalUnit: 'Clinic B',
      country: 'NO',
      emailAddress: 'mei.chen@clinic-b.example',
    });
    expect(formatName(encoded)).toBe(
      'emailAddress=mei.chen@clinic-b.example,CN=Dr. Mei Chen,OU=Clinic B,O=North Valley,C=NO',
    );
  });

  it('escapes special characters and shows unknown attributes by OID, other values as #hex', () => {
    const formatted = formatName(
      name(
        ['2.5.4.10', new asn1js.Utf8String({ value: 'Smith, Jones + Co; "A<B>"' })],
        ['2.5.4.3', new asn1js.Utf8String({ value: ' #lead and trail ' })],
        ['1.2.3.4', new asn1js.Utf8String({ value: 'back\\slash' })],
        ['2.5.4.5', new asn1js.Integer({ value: 5 })],
      ),
    );
    expect(formatted).toBe(
      'serialNumber=#020105,1.2.3.4=back\\\\slash,CN=\\ #lead and trail\\ ,O=Smith\\, Jones \\+ Co\\; \\"A\\<B\\>\\"',
    );
  });
});
