import { CMS_ERROR_CODES, CmsError } from './cms-errors.ts';

/**
 * Once the content key of an encrypted message has been unwrapped, every failure to open it — the unwrap itself,
 * content decryption (GCM tag, CBC padding), the inner SignedData's structure, algorithms, signature and signer
 * certificate — is one error with one message. A receiver that answered these differently, over a channel the sender
 * or a forwarding hub can read (a receipt), would be a decryption oracle: "bad padding" against "good padding, bad
 * content" decrypts a captured CBC message block by block. The precise failure travels as the `cause`, for the
 * receiver's own records only (withheldFailure).
 */
export const OPENING_FAILED_MESSAGE = 'The message could not be opened';

function isOpeningFailure(error: CmsError): boolean {
  return error.code === CMS_ERROR_CODES.decryptFailed && error.message === OPENING_FAILED_MESSAGE;
}

export function openingFailed(cause: CmsError): CmsError {
  return isOpeningFailure(cause)
    ? cause
    : new CmsError(CMS_ERROR_CODES.decryptFailed, OPENING_FAILED_MESSAGE, { cause });
}

/**
 * Runs a step that works on the unwrapped key or the decrypted bytes: any CmsError becomes the one opening failure.
 * Other errors (a fault of the receiver, not of the message) pass unchanged.
 */
export async function afterUnwrap<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw error instanceof CmsError ? openingFailed(error) : error;
  }
}

/** The precise failure behind an opening failure (the error itself otherwise): for local records, never for the wire. */
export function withheldFailure(error: CmsError): CmsError {
  return isOpeningFailure(error) && error.cause instanceof CmsError ? error.cause : error;
}
