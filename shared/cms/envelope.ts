import { encrypt, unwrapEnvelope } from './enveloped-data.ts';
import { afterUnwrap } from './opening-failure.ts';
import { sign, verifySignedData } from './signed-data.ts';
import type { CmsRecipients, CmsSigner, Der, OpenOptions, OpenResult, SealOptions, TrustConfig } from './types.ts';

/**
 * Signs, then encrypts the SignedData. `recipientCertificates` must include the sender's own encryption certificate
 * when the sender is to read the message later.
 */
export async function seal(
  content: Uint8Array,
  signer: CmsSigner,
  recipientCertificates: readonly Der[],
  options: SealOptions = {},
): Promise<Der> {
  const signed = await sign(content, signer, { signingTime: options.signingTime });
  return encrypt(signed, recipientCertificates, { contentEncryption: options.contentEncryption });
}

/**
 * Decrypts, then verifies the SignedData inside against `trust`. Once the content key is unwrapped, every failure —
 * decryption, the inner structure, the signature, the signer certificate — is the one opening failure
 * (`cms-decrypt-failed`, OPENING_FAILED_MESSAGE) with the precise failure as its cause (withheldFailure).
 */
export async function open(
  envelope: Der,
  recipient: CmsRecipients,
  trust: TrustConfig,
  options: OpenOptions = {},
): Promise<OpenResult> {
  const unwrapped = await unwrapEnvelope(envelope, recipient, options);
  return afterUnwrap(async () => {
    // The decrypted buffer is ours alone, so the content may stay a view into it.
    const verified = await verifySignedData(await unwrapped.decryptContent(), trust, options, false);
    return { ...verified, contentEncryption: unwrapped.contentEncryption };
  });
}
