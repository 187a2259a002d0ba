/**
 * The languages of the region's users (issue 22): the product's words exist in each of these, complete
 * (`npm run i18n:check`). BCP 47 tags; `zh-Hans` is Chinese in simplified characters, `nb` Norwegian Bokmål.
 */
export const LOCALES = ['en', 'zh-Hans', 'bn', 'nb'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * A pseudo-locale made from English at run time (accented letters, 30 % longer): a test or a translator chooses it to
 * see that no word is left untranslated and no layout breaks with longer words. Never offered to users.
 */
export const PSEUDO_LOCALE = 'en-XA';
export type UiLocale = Locale | typeof PSEUDO_LOCALE;

/** What the user chose in Settings: a language, or `system` to follow the operating system. */
export const LANGUAGE_CHOICES = ['system', ...LOCALES, PSEUDO_LOCALE] as const;
export type LanguageChoice = (typeof LANGUAGE_CHOICES)[number];

/**
 * The locale of ours for one the OS names (`zh-CN`, `nn-NO`, `bn-IN` …), or undefined when we have none. Any Chinese is
 * shown in simplified characters (there are no traditional ones yet); Norwegian Nynorsk and plain `no` read Bokmål.
 */
export function localeOf(tag: string): Locale | undefined {
  const language = tag.toLowerCase().split(/[-_]/)[0];
  switch (language) {
    case 'en':
      return 'en';
    case 'zh':
      return 'zh-Hans';
    case 'bn':
      return 'bn';
    case 'nb':
    case 'nn':
    case 'no':
      return 'nb';
    default:
      return undefined;
  }
}

/** The locale to show: the user's choice, else the first of the OS's preferred languages we have, else English. */
export function resolveLocale(choice: LanguageChoice | undefined, preferred: readonly string[]): UiLocale {
  if (choice && choice !== 'system') return choice;
  for (const tag of preferred) {
    const locale = localeOf(tag);
    if (locale) return locale;
  }
  return 'en';
}
