import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { COMMANDS } from '../shared/api/index.ts';
import { CATALOGS, type UiLocale } from '../shared/i18n/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * The languages of the region (issue 22): the main screens shown in each language and in the pseudo-locale, each
 * screenshot kept in test-results/screenshots/languages/, and English left on a non-English screen is a failure.
 */
const harness = regionForThisFile();
const DIR = `${SCREENSHOTS}/languages`;

/** The side navigation's buttons, in their order in app.tsx (their names change with the language). */
const NAV = { inbox: 0, directory: 1, compose: 2, outbox: 3, settings: 5 } as const;

/** What the test region publishes in English-looking words: data, not the product's words. */
const DATA = [
  'RTS Workstation',
  'Nordby Hospital',
  'Sørvik Health Centre',
  'Testville',
  'Cardiology',
  'General practice',
  'Test Ahmed',
  'Test Berg',
  'Brystsmerter siden i morges',
];

/**
 * Whole phrases of the English catalogue (the text between a message's arguments, at least two words): none may show
 * on a screen in another language.
 */
const ENGLISH_PHRASES = [
  ...new Set(
    Object.values(CATALOGS.en)
      .flatMap((message) => message.split(/\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}/))
      .map((part) => part.trim().replace(/[.:,;()]+$/, ''))
      .filter((part) => /^[A-Za-z][A-Za-z' ]+ [A-Za-z']+$/.test(part) && part.length >= 9),
  ),
];

/** Two plain English-looking words in a row (never in Chinese or Bengali words), on a screen meant in another script. */
const LATIN_WORDS = /(?:^|[\s(])[A-Za-z]{3,} [A-Za-z]{3,}(?=$|[\s.,:;)])/m;

async function screenText(page: Page): Promise<string> {
  let text = await page.locator('body').innerText();
  // Text the page declares English on purpose (records kept as written, such as the audit log's details).
  for (const declared of await page.locator('body [lang="en"]').allInnerTexts())
    if (declared.trim()) text = text.replaceAll(declared, ' ');
  for (const data of DATA) text = text.replaceAll(data, ' ');
  // Certificate subjects and issuers (distinguished names) are data too.
  text = text.replace(/\b(?:CN|O|OU|C)=[^\t\n]*/g, ' ');
  return text;
}

async function expectNoEnglish(page: Page, locale: UiLocale, screen: string): Promise<void> {
  const text = await screenText(page);
  const left = ENGLISH_PHRASES.filter((phrase) => text.includes(phrase));
  expect(left, `English phrases on the ${screen} screen in ${locale}`).toEqual([]);
  if (locale !== 'nb') {
    // Norwegian is written in Latin letters too; the other three show no plain English words at all.
    const line = text.split('\n').find((l) => LATIN_WORDS.test(l));
    expect(line, `English words on the ${screen} screen in ${locale}`).toBeUndefined();
  }
}

test('the main screens speak Chinese, Bengali, Norwegian and the pseudo-locale, with nothing left in English', async ({
  openWorkstation,
}) => {
  test.setTimeout(240_000);
  mkdirSync(DIR, { recursive: true });
  const expert = await openWorkstation(harness.coreOptions('ws-expert-1'));
  await harness.setUpWorkstation(expert.core, 'ws-expert-1', harness.expert);
  const applicant = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(applicant.core, 'ws-applicant-1', harness.applicant);
  await expect
    .poll(async () => applicant.core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });
  // Patients and reasons in the scripts of the region, so that the screenshots show their fonts too.
  for (const [patient, reason] of [
    [{ family: '张', given: ['伟明'], gender: 'male', birthDate: '1958-03-02' }, '胸痛两小时，伴出汗'],
    [{ family: 'রহমান', given: ['আয়েশা'], gender: 'female', birthDate: '1979-11-20' }, 'শ্বাসকষ্ট ও জ্বর'],
    [{ family: 'Ødegård', given: ['Åse'], gender: 'female', birthDate: '1947-06-15' }, 'Brystsmerter siden i morges'],
  ] as const) {
    expect(
      await applicant.core.dispatch(COMMANDS.createConsult, {
        expertId: harness.expert.id,
        patient: { ...patient, given: [...patient.given] },
        priority: 'urgent',
        reason,
      }),
    ).toMatchObject({ ok: true });
  }
  await expect(expert.page.getByTestId('inbox-row')).toHaveCount(3, { timeout: 60_000 });

  for (const locale of ['zh-Hans', 'bn', 'nb', 'en-XA', 'en'] as const) {
    for (const { core } of [expert, applicant])
      expect(await core.dispatch(COMMANDS.setUiPreferences, { language: locale })).toMatchObject({ ok: true });
    const lang = locale === 'en-XA' ? 'en' : locale;
    await expect(expert.page.locator('html')).toHaveAttribute('lang', lang);
    await expect(applicant.page.locator('html')).toHaveAttribute('lang', lang);
    const nav = (page: Page, item: keyof typeof NAV) =>
      page.getByRole('navigation').first().getByRole('button').nth(NAV[item]).click();
    const shoot = async (page: Page, screen: string) => {
      await page.screenshot({ path: `${DIR}/${locale}-${screen}.png`, fullPage: true });
      if (locale !== 'en') await expectNoEnglish(page, locale, screen);
      // Words 30 % longer must wrap, not push the page sideways.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `the ${screen} screen in ${locale} scrolls sideways`).toBeLessThanOrEqual(0);
    };

    await nav(expert.page, 'inbox');
    await expect(expert.page.getByTestId('inbox-row')).toHaveCount(3);
    await shoot(expert.page, 'inbox');
    await expert.page.getByTestId('inbox-row').first().click();
    await expect(expert.page.getByTestId('case-screen')).toBeVisible();
    await shoot(expert.page, 'case');
    await nav(expert.page, 'directory');
    await expect(expert.page.getByRole('searchbox').first()).toBeVisible();
    await shoot(expert.page, 'directory');
    await nav(expert.page, 'settings');
    await expect(expert.page.locator('#ui-language')).toHaveValue(locale);
    await shoot(expert.page, 'settings');
    await nav(applicant.page, 'compose');
    await expect(applicant.page.getByRole('heading', { level: 2 }).first()).toBeVisible();
    await shoot(applicant.page, 'compose');
    await nav(applicant.page, 'outbox');
    await shoot(applicant.page, 'outbox');
  }
});
