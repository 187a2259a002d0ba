export { I18nProvider, useT } from './i18n-provider.tsx';
export { intlFor, translator, type Translate } from './intl.ts';
