import { decrypt, encrypt } from './enveloped-data.ts';
import { sign, verifySignedData } from './signed-data.ts';
import type { CmsRecipientIdentity, CmsSigner, Der, OpenOptions, OpenResult, SealOptions, TrustConfig } from './types.ts';

/**
 * Signs, then encrypts the SignedData. `recipientCertificates` must include the sender's own encryption certificate
 * when the sender is to read the message later.
 */
export async function seal(content: Uint8Array, signer: CmsSigner, recipientCertificates: readonly Der[], options: SealOptions = {}): Promise<Der> {
  const signed = await sign(content, signer, { signingTime: options.signingTime });
  return encrypt(signed, recipientCertificates, { contentEncryption: options.contentEncryption });
}

/** Decrypts, then verifies the SignedData inside against `trust`. */
export async function open(envelope: Der, recipient: CmsRecipientIdentity, trust: TrustConfig, options: OpenOptions = {}): Promise<OpenResult> {
  const { content: signed, contentEncryption } = await decrypt(envelope, recipient, { maxBytes: options.maxBytes });
  // The decrypted buffer is ours alone, so the content may stay a view into it.
  const verified = await verifySignedData(signed, trust, options, false);
  return { ...verified, contentEncryption };
}
