/**
 * The renderer is served from a privileged custom scheme rather than file://, so that it has a real origin that IPC
 * handlers can check and that no downloaded file can share.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'rts';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const RENDERER_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** True only for our own pages: the origin must match exactly (no prefix tricks such as app://rts.evil). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * Resolves a request path under the renderer folder; refuses anything that would escape it. Returns the path relative
 * to the renderer root, with the root's index for "/".
 */
export function rendererRelativePath(url: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  const pathname = decodeURIComponent(new URL(url).pathname);
  const segments = pathname.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) return undefined;
  return segments.length === 0 ? 'index.html' : segments.join('/');
}
