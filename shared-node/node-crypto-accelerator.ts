import { createHash, KeyObject, sign } from 'node:crypto';
import type { CryptoAccelerator, CryptoKey } from '../shared/cms/index.ts';

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/** A private key as node:crypto holds it, made once per Web Crypto key (non-extractable ones too). */
function keyObjectOf(privateKey: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(privateKey);
  if (!keyObject) keyObjects.set(privateKey, (keyObject = KeyObject.from(privateKey)));
  return keyObject;
}

/** shared/cms's synchronous SHA-256 and ECDSA P-256 by OpenSSL (see CryptoAccelerator): hosts install it at start. */
export const nodeCryptoAccelerator: CryptoAccelerator = {
  sha256: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  signEcdsaP256(privateKey, data) {
    const algorithm = privateKey.algorithm as { name?: string; namedCurve?: string };
    if (privateKey.type !== 'private' || algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256')
      return undefined;
    if (!privateKey.usages.includes('sign')) return undefined;
    return new Uint8Array(sign('sha256', data, { key: keyObjectOf(privateKey), dsaEncoding: 'ieee-p1363' }));
  },
};
