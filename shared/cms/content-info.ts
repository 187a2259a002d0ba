import type * as asn1js from 'asn1js';
import { CMS_ERROR_CODES, CmsError } from './cms-errors.ts';
import {
  CONTEXT,
  UNIVERSAL,
  children,
  encode,
  explicit,
  hasTag,
  objectIdentifier,
  oidOf,
  sequence,
  type DerPart,
} from './der.ts';

/** ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY } */
export function writeContentInfo(contentType: string, content: DerPart): Uint8Array<ArrayBuffer> {
  return encode(sequence(objectIdentifier(contentType), explicit(0, content)));
}

export function readContentInfo(root: asn1js.AsnType, what: string): { contentType: string; content: asn1js.AsnType } {
  const [type, wrapper, ...rest] = children(root);
  const content = wrapper ? children(wrapper)[0] : undefined;
  if (!hasTag(root, UNIVERSAL, 16) || !hasTag(wrapper, CONTEXT, 0) || !content || rest.length > 0) {
    throw new CmsError(CMS_ERROR_CODES.malformed, `${what} is not a CMS ContentInfo`);
  }
  return { contentType: oidOf(type, what), content };
}
