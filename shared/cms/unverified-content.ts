import { readContentInfo } from './content-info.ts';
import { hasTag, octets, parseBer, TAG, UNIVERSAL } from './der.ts';
import { OID } from './oids.ts';
import { readSignedData } from './signed-data.ts';

/**
 * The encapsulated content of an attached CMS SignedData (of type data), read WITHOUT verifying its signature or
 * signer. Only for content that proves itself (a CRL, which carries its CA's signature): nothing read here may be
 * trusted because of the envelope. Undefined for anything else, for more than `maxBytes`, and for damaged input; never
 * throws, since its input comes straight from the network.
 */
export function readUnverifiedSignedContent(der: Uint8Array, maxBytes: number): Uint8Array | undefined {
  try {
    const { contentType, content } = readContentInfo(
      parseBer(der, maxBytes, 'The signed message'),
      'The signed message',
    );
    if (contentType !== OID.signedData) return undefined;
    const signed = readSignedData(content);
    if (signed.eContentType !== OID.data || !hasTag(signed.eContent, UNIVERSAL, TAG.octetString)) return undefined;
    // A copy: the caller may keep it after `der` is reused.
    return new Uint8Array(octets(signed.eContent));
  } catch {
    return undefined;
  }
}
