import { describe, expect, it } from 'vitest';
import { checkCatalogs } from './i18n-catalogs.ts';

const en = { inbox: { 'inbox.title': 'Inbox', 'inbox.count': '{n, plural, one {# case} other {# cases}} from {who}' } };
const source = 't(\'inbox.title\'); t("inbox.count", { n, who })';

describe('i18n catalogue check', () => {
  it('passes complete catalogues whose every message is used', () => {
    const nb = {
      inbox: { 'inbox.title': 'Innboks', 'inbox.count': '{n, plural, one {# sak} other {# saker}} fra {who}' },
    };
    expect(checkCatalogs({ en, nb }, [source])).toEqual({
      locales: 2,
      keys: 2,
      missing: [],
      unused: [],
      extra: [],
      invalid: [],
    });
  });

  it('finds a missing, an extra, a misplaced, an unused id and a translation taking other arguments', () => {
    const nb = { inbox: { 'inbox.count': '{n} saker fra {hvem}', 'inbox.gone': 'Borte' }, case: { 'inbox.x': 'x' } };
    const found = checkCatalogs({ en, nb }, ["t('inbox.count')"]);
    expect(found.missing).toEqual(['nb: inbox.title']);
    expect(found.unused).toEqual(['inbox.title']);
    expect(found.extra).toEqual([
      'nb: inbox.x is not in the file of its area',
      'nb: inbox.gone is not in English',
      'nb: inbox.x is not in English',
    ]);
    expect(found.invalid).toEqual([
      expect.stringMatching(/^nb: inbox.count takes n:text, hvem:text; English takes n:plural, who:text$/),
    ]);
  });

  it('refuses a message that does not parse', () => {
    const found = checkCatalogs({ en: { inbox: { 'inbox.title': 'Inbox {' } } }, ["'inbox.title'"]);
    expect(found.invalid).toHaveLength(1);
  });
});
