import { IntlMessageFormat } from 'intl-messageformat';
import { CATALOGS, type MessageId } from './catalogs.ts';
import { PSEUDO_LOCALE, type UiLocale } from './locales.ts';
import { pseudoCatalog } from './pseudo.ts';

/** A message's words in one locale with its values. */
export type Translate = (id: MessageId, values?: Record<string, string | number | Date | undefined>) => string;

/**
 * Messages formatted outside the page (the Electron shell's notifications) from the same catalogues, with the
 * platform's Intl; compiled once per message and locale.
 */
export function translatorFor(locale: UiLocale): Translate {
  const isPseudo = locale === PSEUDO_LOCALE;
  const messages = isPseudo ? pseudoCatalog(CATALOGS.en) : { ...CATALOGS.en, ...CATALOGS[locale] };
  const compiled = new Map<MessageId, IntlMessageFormat>();
  return (id, values) => {
    let format = compiled.get(id);
    if (!format) {
      const message = messages[id];
      if (message === undefined) return id;
      format = new IntlMessageFormat(message, isPseudo ? 'en' : locale);
      compiled.set(id, format);
    }
    return String(format.format(values));
  };
}
