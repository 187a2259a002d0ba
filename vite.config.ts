import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY } from './shared/security/content-security-policy.ts';

/** The meta CSP comes from the same constant the Electron shell sends as a header. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'rts-content-security-policy',
    transformIndexHtml: (html) => html.replace('%RTS_CSP%', CONTENT_SECURITY_POLICY),
  };
}

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    target: 'chrome140',
    sourcemap: true,
  },
});
