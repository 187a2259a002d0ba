export { AREAS, CATALOGS, type Catalog, type MessageId } from './catalogs.ts';
export {
  LANGUAGE_CHOICES,
  LOCALES,
  PSEUDO_LOCALE,
  localeOf,
  resolveLocale,
  type LanguageChoice,
  type Locale,
  type UiLocale,
} from './locales.ts';
export { pseudoCatalog } from './pseudo.ts';
export { messagesFor, translatorFor, type Translate } from './format.ts';
export { personName, writtenInHan } from './person-name.ts';
