/**
 * The renderer's Content Security Policy. The Electron shell sends it as a header with every page; the renderer's
 * index.html carries the same policy in a meta tag (a test keeps the two equal), so the browser harness enforces it too.
 * Nothing remote, nothing inline, no eval: the page talks to the world only through the preload bridge.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Only valid as a header (meta tags cannot carry it). */
export const FRAME_ANCESTORS_DIRECTIVE = "frame-ancestors 'none'";
