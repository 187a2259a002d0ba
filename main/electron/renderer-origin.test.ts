import { describe, expect, it } from 'vitest';
import { isAppUrl, rendererRelativePath } from './renderer-origin.ts';

describe('renderer origin', () => {
  it('recognises only our own origin', () => {
    expect(isAppUrl('app://rts/index.html')).toBe(true);
    expect(isAppUrl('app://rts.evil/index.html')).toBe(false);
    expect(isAppUrl('app://rtsx/')).toBe(false);
    expect(isAppUrl('https://rts/index.html')).toBe(false);
    expect(isAppUrl('file:///app/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('maps paths under the renderer folder and refuses escapes', () => {
    expect(rendererRelativePath('app://rts/')).toBe('index.html');
    expect(rendererRelativePath('app://rts/assets/index.js')).toBe('assets/index.js');
    // The URL parser resolves encoded dot segments at the root: this names <renderer>/etc/passwd, not /etc/passwd.
    expect(rendererRelativePath('app://rts/%2e%2e/%2e%2e/etc/passwd')).toBe('etc/passwd');
    expect(rendererRelativePath('app://rts/assets/..%5c..%5csecret')).toBeUndefined();
    expect(rendererRelativePath('app://other/index.html')).toBeUndefined();
  });
});
