import { createIntl, createIntlCache, type IntlShape } from 'react-intl';
import { messagesFor, type MessageId, type Translate, type UiLocale } from '../../shared/i18n/index.ts';

declare global {
  // react-intl's ids are ours: `formatMessage({ id })` with an id no catalogue has is a type error.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace FormatjsIntl {
    interface Message {
      ids: MessageId;
    }
  }
}

const cache = createIntlCache();

/**
 * The formatter of one locale: its messages, and its dates, numbers and plurals through the platform's `Intl`. The
 * pseudo-locale formats as English. A message missing from a catalogue would show English (the check forbids it).
 */
export function intlFor(locale: UiLocale): IntlShape {
  const { messages, formatLocale } = messagesFor(locale);
  return createIntl(
    {
      locale: formatLocale,
      defaultLocale: 'en',
      messages: messages as Record<MessageId, string>,
      onError: (error) => {
        // A message of ours that cannot format is a bug the check and the tests catch; say it where it is seen.
        console.error(error.message);
      },
    },
    cache,
  );
}

/** A message's words in a locale with its values (shared with the shell); what components use through `useT`. */
export type { Translate };

export function translator(intl: IntlShape): Translate {
  return (id, values) => intl.formatMessage({ id }, values);
}
