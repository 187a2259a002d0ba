import { IntlMessageFormat } from 'intl-messageformat';
import type { MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { CATALOGS, type MessageId } from './catalogs.ts';
import { PSEUDO_LOCALE, type UiLocale } from './locales.ts';
import { pseudoCatalog } from './pseudo.ts';

/** A message's words in one locale with its values. */
export type Translate = (id: MessageId, values?: Record<string, string | number | Date | undefined>) => string;

let pseudo: Record<string, MessageFormatElement[]> | undefined;

/**
 * A locale's messages (English behind them, which the check makes unreachable) and the locale its dates and numbers
 * are formatted in: the pseudo-locale's are made from English once, and formatted as English.
 */
export function messagesFor(locale: UiLocale): {
  readonly messages: Readonly<Record<string, string | MessageFormatElement[]>>;
  readonly formatLocale: string;
} {
  if (locale === PSEUDO_LOCALE) return { messages: (pseudo ??= pseudoCatalog(CATALOGS.en)), formatLocale: 'en' };
  return { messages: { ...CATALOGS.en, ...CATALOGS[locale] }, formatLocale: locale };
}

const translators = new Map<UiLocale, Translate>();

/**
 * Messages formatted outside the page (the Electron shell's notifications) from the same catalogues, with the
 * platform's Intl; one translator per locale, each message compiled once.
 */
export function translatorFor(locale: UiLocale): Translate {
  const known = translators.get(locale);
  if (known) return known;
  const { messages, formatLocale } = messagesFor(locale);
  const compiled = new Map<MessageId, IntlMessageFormat>();
  const translate: Translate = (id, values) => {
    let format = compiled.get(id);
    if (!format) {
      const message = messages[id];
      if (message === undefined) return id;
      format = new IntlMessageFormat(message, formatLocale);
      compiled.set(id, format);
    }
    return String(format.format(values));
  };
  translators.set(locale, translate);
  return translate;
}
