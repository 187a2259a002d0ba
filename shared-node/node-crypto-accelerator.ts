import { createECDH, createHash, KeyObject, sign } from 'node:crypto';
import type { CryptoAccelerator, CryptoKey } from '../shared/cms/index.ts';

const keyObjects = new WeakMap<CryptoKey, KeyObject>();

/** A private key as node:crypto holds it, made once per Web Crypto key (non-extractable ones too). */
function keyObjectOf(privateKey: CryptoKey): KeyObject {
  let keyObject = keyObjects.get(privateKey);
  if (!keyObject) keyObjects.set(privateKey, (keyObject = KeyObject.from(privateKey)));
  return keyObject;
}

const points = new WeakMap<CryptoKey, Buffer>();

/** A P-256 public key as its uncompressed point (04 ‖ x ‖ y), made once per Web Crypto key. */
function pointOf(publicKey: CryptoKey): Buffer {
  let point = points.get(publicKey);
  if (!point) {
    const { x, y } = KeyObject.from(publicKey).export({ format: 'jwk' });
    point = Buffer.concat([Buffer.of(4), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
    points.set(publicKey, point);
  }
  return point;
}

/**
 * shared/cms's synchronous SHA-256, ECDSA P-256 signing and ephemeral ECDH by OpenSSL (see CryptoAccelerator): hosts
 * install it at start.
 */
export const nodeCryptoAccelerator: CryptoAccelerator = {
  sha256: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  signEcdsaP256(privateKey, data) {
    const algorithm = privateKey.algorithm as { name?: string; namedCurve?: string };
    if (privateKey.type !== 'private' || algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256')
      return undefined;
    if (!privateKey.usages.includes('sign')) return undefined;
    return new Uint8Array(sign('sha256', data, { key: keyObjectOf(privateKey), dsaEncoding: 'ieee-p1363' }));
  },
  ecdhP256Ephemeral(recipientKey) {
    const algorithm = recipientKey.algorithm as { name?: string; namedCurve?: string };
    if (recipientKey.type !== 'public' || algorithm.name !== 'ECDH' || algorithm.namedCurve !== 'P-256')
      return undefined;
    // The ephemeral private key lives in this object only, and goes with it.
    const ephemeral = createECDH('prime256v1');
    const ephemeralPoint = new Uint8Array(ephemeral.generateKeys());
    return { sharedSecret: new Uint8Array(ephemeral.computeSecret(pointOf(recipientKey))), ephemeralPoint };
  },
};
