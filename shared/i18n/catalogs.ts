// The product's words, one catalogue per language and area (catalogs/<locale>/<area>.json; every key begins with
// its area). Imported statically so that the Electron shell, the renderer's bundle and the tests read the same files.
import en_common from './catalogs/en/common.json' with { type: 'json' };
import en_frame from './catalogs/en/frame.json' with { type: 'json' };
import en_setup from './catalogs/en/setup.json' with { type: 'json' };
import en_settings from './catalogs/en/settings.json' with { type: 'json' };
import en_directory from './catalogs/en/directory.json' with { type: 'json' };
import en_inbox from './catalogs/en/inbox.json' with { type: 'json' };
import en_compose from './catalogs/en/compose.json' with { type: 'json' };
import en_case from './catalogs/en/case.json' with { type: 'json' };
import en_report from './catalogs/en/report.json' with { type: 'json' };
import en_viewer from './catalogs/en/viewer.json' with { type: 'json' };
import en_errors from './catalogs/en/errors.json' with { type: 'json' };
import en_notify from './catalogs/en/notify.json' with { type: 'json' };
import zhHans_common from './catalogs/zh-Hans/common.json' with { type: 'json' };
import zhHans_frame from './catalogs/zh-Hans/frame.json' with { type: 'json' };
import zhHans_setup from './catalogs/zh-Hans/setup.json' with { type: 'json' };
import zhHans_settings from './catalogs/zh-Hans/settings.json' with { type: 'json' };
import zhHans_directory from './catalogs/zh-Hans/directory.json' with { type: 'json' };
import zhHans_inbox from './catalogs/zh-Hans/inbox.json' with { type: 'json' };
import zhHans_compose from './catalogs/zh-Hans/compose.json' with { type: 'json' };
import zhHans_case from './catalogs/zh-Hans/case.json' with { type: 'json' };
import zhHans_report from './catalogs/zh-Hans/report.json' with { type: 'json' };
import zhHans_viewer from './catalogs/zh-Hans/viewer.json' with { type: 'json' };
import zhHans_errors from './catalogs/zh-Hans/errors.json' with { type: 'json' };
import zhHans_notify from './catalogs/zh-Hans/notify.json' with { type: 'json' };
import bn_common from './catalogs/bn/common.json' with { type: 'json' };
import bn_frame from './catalogs/bn/frame.json' with { type: 'json' };
import bn_setup from './catalogs/bn/setup.json' with { type: 'json' };
import bn_settings from './catalogs/bn/settings.json' with { type: 'json' };
import bn_directory from './catalogs/bn/directory.json' with { type: 'json' };
import bn_inbox from './catalogs/bn/inbox.json' with { type: 'json' };
import bn_compose from './catalogs/bn/compose.json' with { type: 'json' };
import bn_case from './catalogs/bn/case.json' with { type: 'json' };
import bn_report from './catalogs/bn/report.json' with { type: 'json' };
import bn_viewer from './catalogs/bn/viewer.json' with { type: 'json' };
import bn_errors from './catalogs/bn/errors.json' with { type: 'json' };
import bn_notify from './catalogs/bn/notify.json' with { type: 'json' };
import nb_common from './catalogs/nb/common.json' with { type: 'json' };
import nb_frame from './catalogs/nb/frame.json' with { type: 'json' };
import nb_setup from './catalogs/nb/setup.json' with { type: 'json' };
import nb_settings from './catalogs/nb/settings.json' with { type: 'json' };
import nb_directory from './catalogs/nb/directory.json' with { type: 'json' };
import nb_inbox from './catalogs/nb/inbox.json' with { type: 'json' };
import nb_compose from './catalogs/nb/compose.json' with { type: 'json' };
import nb_case from './catalogs/nb/case.json' with { type: 'json' };
import nb_report from './catalogs/nb/report.json' with { type: 'json' };
import nb_viewer from './catalogs/nb/viewer.json' with { type: 'json' };
import nb_errors from './catalogs/nb/errors.json' with { type: 'json' };
import nb_notify from './catalogs/nb/notify.json' with { type: 'json' };
import type { Locale } from './locales.ts';

const en = {
  ...en_common,
  ...en_frame,
  ...en_setup,
  ...en_settings,
  ...en_directory,
  ...en_inbox,
  ...en_compose,
  ...en_case,
  ...en_report,
  ...en_viewer,
  ...en_errors,
  ...en_notify,
};

/** Every message's id; a misspelt id is a type error. */
export type MessageId = keyof typeof en;
export type Catalog = Readonly<Record<MessageId, string>>;

/** Each locale's catalogue; `npm run i18n:check` proves each has every key of English and no other. */
export const CATALOGS: Readonly<Record<Locale, Readonly<Record<string, string>>>> = {
  en,
  'zh-Hans': {
    ...zhHans_common,
    ...zhHans_frame,
    ...zhHans_setup,
    ...zhHans_settings,
    ...zhHans_directory,
    ...zhHans_inbox,
    ...zhHans_compose,
    ...zhHans_case,
    ...zhHans_report,
    ...zhHans_viewer,
    ...zhHans_errors,
    ...zhHans_notify,
  },
  bn: {
    ...bn_common,
    ...bn_frame,
    ...bn_setup,
    ...bn_settings,
    ...bn_directory,
    ...bn_inbox,
    ...bn_compose,
    ...bn_case,
    ...bn_report,
    ...bn_viewer,
    ...bn_errors,
    ...bn_notify,
  },
  nb: {
    ...nb_common,
    ...nb_frame,
    ...nb_setup,
    ...nb_settings,
    ...nb_directory,
    ...nb_inbox,
    ...nb_compose,
    ...nb_case,
    ...nb_report,
    ...nb_viewer,
    ...nb_errors,
    ...nb_notify,
  },
};

/** The areas, in the order of the files above (the check reads the same list). */
export const AREAS = [
  'common',
  'frame',
  'setup',
  'settings',
  'directory',
  'inbox',
  'compose',
  'case',
  'report',
  'viewer',
  'errors',
  'notify',
] as const;
