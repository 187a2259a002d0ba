import type { IntlShape } from 'react-intl';

/** Files in the page: it has no file system, only what an <input type="file"> hands it and what the core sends. */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  // In slices: String.fromCharCode with a whole attachment as arguments would overflow the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The bytes of a file as the core hands it over (base64). */
export function bytesOfBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A file's size as the user's language writes numbers: "512 B", "1.5 KB", "16.0 MB". */
export function formatBytes(intl: IntlShape, size: number): string {
  const tenths = (value: number) => intl.formatNumber(value, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  if (size < 1024) return intl.formatMessage({ id: 'compose.size.bytes' }, { size: intl.formatNumber(size) });
  if (size < 1024 * 1024) return intl.formatMessage({ id: 'compose.size.kilobytes' }, { size: tenths(size / 1024) });
  return intl.formatMessage({ id: 'compose.size.megabytes' }, { size: tenths(size / 1024 / 1024) });
}
