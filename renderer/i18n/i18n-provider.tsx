import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { RawIntlProvider, useIntl } from 'react-intl';
import { COMMANDS, EVENTS } from '../../shared/api/index.ts';
import { PSEUDO_LOCALE, resolveLocale, type LanguageChoice } from '../../shared/i18n/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { intlFor, translator, type Translate } from './intl.ts';

/** The language the user chose in Settings (`system` until the core has said). */
function useLanguageChoice(api: RtsApi): LanguageChoice {
  const [choice, setChoice] = useState<LanguageChoice>('system');
  useEffect(() => {
    let live = true;
    const off = api.on(EVENTS.setupChanged, (setup) => setChoice(setup.ui.language));
    void api.invoke(COMMANDS.getSetupState).then((result) => {
      if (live && result.ok) setChoice(result.value.ui.language);
    });
    return () => {
      live = false;
      off();
    };
  }, [api]);
  return choice;
}

/**
 * The product's words in the user's language: the one chosen in Settings, else the first of the OS's languages we
 * have (the page's `navigator.languages`, which Electron takes from the OS), else English. Sets the page's `lang`, so
 * that fonts and screen readers follow.
 */
export function I18nProvider({ api, children }: { api: RtsApi; children: ReactNode }) {
  const choice = useLanguageChoice(api);
  const locale = resolveLocale(choice, navigator.languages);
  const intl = useMemo(() => intlFor(locale), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale === PSEUDO_LOCALE ? 'en' : locale;
  }, [locale]);
  return <RawIntlProvider value={intl}>{children}</RawIntlProvider>;
}

/** `t(id, values)`: a message of the catalogues in the user's language. */
export function useT(): Translate {
  const intl = useIntl();
  return useMemo(() => translator(intl), [intl]);
}
