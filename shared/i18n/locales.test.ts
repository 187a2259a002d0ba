import { describe, expect, it } from 'vitest';
import { localeOf, resolveLocale } from './locales.ts';

describe('locales', () => {
  it('maps the tags an OS names onto the four languages', () => {
    expect(localeOf('zh-CN')).toBe('zh-Hans');
    expect(localeOf('zh_TW')).toBe('zh-Hans');
    expect(localeOf('bn-BD')).toBe('bn');
    expect(localeOf('nn-NO')).toBe('nb');
    expect(localeOf('no')).toBe('nb');
    expect(localeOf('en-GB')).toBe('en');
    expect(localeOf('de-DE')).toBeUndefined();
  });

  it('follows the OS unless the user chose, and falls back to English', () => {
    expect(resolveLocale('system', ['de-DE', 'bn-IN', 'en'])).toBe('bn');
    expect(resolveLocale(undefined, ['fr'])).toBe('en');
    expect(resolveLocale('nb', ['zh-CN'])).toBe('nb');
    expect(resolveLocale('en-XA', ['zh-CN'])).toBe('en-XA');
  });
});
