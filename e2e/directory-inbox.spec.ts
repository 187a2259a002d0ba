import { COMMANDS, type ComposeConsult } from '../shared/api/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

const consult = (priority: ComposeConsult['priority']): ComposeConsult => ({
  expertId: harness.expert.id,
  patient: { family: 'Testperson', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
  priority,
  reason: 'Chest pain on exertion',
});

test('lists sent consultations by urgency, finds an expert by specialty, and reaches the request form by keyboard', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('button', { name: 'Inbox' })).toHaveAttribute('aria-current', 'page');

  // A request is encrypted to the expert's certificate from the directory, which the hub sends after registration.
  await expect
    .poll(async () => core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });
  // The inbox is open while the cases are created: they arrive through case events, not a reload.
  const inbox = page.getByRole('region', { name: 'Inbox' });
  for (const priority of ['routine', 'stat'] as const) {
    expect(await core.dispatch(COMMANDS.createConsult, consult(priority))).toMatchObject({ ok: true });
  }
  // Nothing is new for an applicant: the inbox opens on the first tab that has cases.
  await expect(inbox.getByRole('tab', { name: 'In progress 2' })).toHaveAttribute('aria-selected', 'true');
  await expect(inbox.getByRole('tab', { name: 'New 0' })).toHaveAttribute('aria-selected', 'false');
  const rows = inbox.getByTestId('inbox-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText('STAT');
  await expect(rows.nth(1)).toContainText('Routine');
  // Triage without opening: patient, age and sex, reason, the expert by name and hospital, on whom and how long it waits.
  await expect(
    inbox.getByRole('option', {
      name: /Kari Testperson \d+ y F.*Chest pain on exertion.*To Test Ahmed\s*Nordby Hospital.*Requested.*\d+ min\s*waits on them/,
    }),
  ).toHaveCount(2);
  await expect(rows.first()).not.toContainText('clinic-a.dr-ahmed');
  await page.screenshot({ path: `${SCREENSHOTS}/inbox.png` });

  // Tabs follow the arrow keys.
  await inbox.getByRole('tab', { name: 'In progress 2' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(inbox.getByRole('tab', { name: 'Waiting for information 0' })).toBeFocused();
  await expect(inbox.getByRole('tab', { name: 'Waiting for information 0' })).toHaveAttribute('aria-selected', 'true');
  await expect(inbox.getByText('No cases here.')).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(inbox.getByRole('tab', { name: 'In progress 2' })).toHaveAttribute('aria-selected', 'true');
  // To the case search, into the list, and open the most urgent case with Enter.
  await page.keyboard.press('Tab');
  await expect(inbox.getByRole('searchbox', { name: 'Search cases' })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(inbox.getByRole('listbox', { name: 'In progress cases' })).toBeFocused();
  const stat = await rows.first().getAttribute('data-case-id');
  await page.keyboard.press('Enter');
  await expect(inbox).toHaveCount(0);
  expect(stat).toMatch(/^[0-9a-f-]{36}$/);

  // The directory from the hub: dr-ahmed and dr-berg.
  await nav.getByRole('button', { name: 'Directory' }).click();
  await expect(page.getByTestId('directory-experts')).toHaveText('2 experts');
  const list = page.getByRole('listbox', { name: 'Experts' });
  await expect(list.getByRole('option')).toHaveCount(2);
  await expect(page.getByTestId('directory-count')).toHaveText('2 experts');

  // Keyboard only from here: arrows move within the list, Enter opens the details beside it.
  const search = page.getByRole('searchbox', { name: 'Search experts' });
  await search.focus();
  await page.keyboard.press('ArrowDown');
  await expect(list).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 3 })).toHaveText('Test Berg');
  await expect(list.getByRole('option', { name: 'Test Berg' })).toHaveAttribute('aria-selected', 'true');
  // Back past the four filters to the search.
  for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab');
  await expect(search).toBeFocused();

  await page.keyboard.type('cardio');
  await expect(list).toHaveAttribute('data-query', 'cardio');
  await expect(list.getByRole('option')).toHaveCount(1);
  await expect(list.getByRole('option', { name: 'Test Ahmed' })).toBeVisible();
  await expect(page.getByTestId('directory-count')).toHaveText('1 expert');

  // Through the four filters to the list.
  for (const filter of ['Specialty', 'Language', 'Hospital', 'Region or city']) {
    await page.keyboard.press('Tab');
    await expect(page.getByRole('combobox', { name: filter })).toBeFocused();
  }
  await page.keyboard.press('Tab');
  await expect(list).toBeFocused();
  await page.keyboard.press('Enter');
  const details = page.getByRole('region', { name: 'Test Ahmed' });
  await expect(details).toContainText('Cardiology');
  await expect(details).toContainText('Nordby Hospital');
  await expect(details).toContainText('ws-expert-1');
  const certificates = details.getByRole('table', { name: 'Certificates of Test Ahmed' });
  await expect(certificates.getByRole('row')).toHaveCount(3);
  await expect(certificates.getByText('Valid', { exact: true })).toHaveCount(2);
  await page.screenshot({ path: `${SCREENSHOTS}/directory.png` });

  await page.keyboard.press('Tab');
  await expect(details.getByRole('button', { name: 'Ask for a consultation' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(nav.getByRole('button', { name: 'New consultation' })).toHaveAttribute('aria-current', 'page');
});

test('a specialty filter keeps only experts of that specialty', async ({ openWorkstation }) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  const list = page.getByRole('listbox', { name: 'Experts' });
  await expect(list.getByRole('option')).toHaveCount(2, { timeout: 20_000 });
  await page.getByRole('combobox', { name: 'Specialty' }).selectOption('General practice');
  await expect(list).toHaveAttribute('data-query', 'General practice');
  await expect(list.getByRole('option')).toHaveCount(1);
  await expect(list.getByRole('option', { name: 'Test Berg' })).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search experts' }).fill('ahmed');
  await expect(page.getByTestId('directory-count')).toHaveText('No expert in General practice matches “ahmed”.');
});

test('offers the hospitals, places, specialties and languages the directory holds, and a hospital keeps only its experts', async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  const list = page.getByRole('listbox', { name: 'Experts' });
  await expect(list.getByRole('option')).toHaveCount(2, { timeout: 20_000 });

  // The choices are what the directory holds, each with its number of experts: no list of specialties the region lacks.
  const hospital = page.getByRole('combobox', { name: 'Hospital' });
  await expect(hospital.getByRole('option')).toHaveText([
    'Any hospital',
    'Nordby Hospital (1)',
    'Sørvik Health Centre (1)',
  ]);
  await expect(page.getByRole('combobox', { name: 'Specialty' }).getByRole('option')).toHaveText([
    'Any specialty',
    'Cardiology (1)',
    'General practice (1)',
  ]);
  await expect(page.getByRole('combobox', { name: 'Language' }).getByRole('option')).toHaveText([
    'Any language',
    'English (2)',
  ]);
  // The region is what the hospitals' addresses name: here both are in the city of Testville.
  const region = page.getByRole('combobox', { name: 'Region or city' });
  await expect(region.locator('optgroup')).toHaveAttribute('label', 'City');
  await expect(region.getByRole('option')).toHaveText(['Any region or city', 'Testville (2)']);

  // Chosen by keyboard, as a select is.
  await hospital.focus();
  await page.keyboard.press('ArrowDown');
  await expect(hospital).toHaveValue('clinic-a.nordby');
  await expect(list).toHaveAttribute('data-query', 'clinic-a.nordby');
  await expect(list.getByRole('option')).toHaveCount(1);
  await expect(list.getByRole('option', { name: 'Test Ahmed' })).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/directory-hospital-filter.png` });

  // With words and the region filter too; a word of the other hospital's expert finds nobody here.
  await region.selectOption('Testville');
  await page.getByRole('searchbox', { name: 'Search experts' }).fill('test');
  await expect(list).toHaveAttribute('data-query', 'test clinic-a.nordby Testville');
  await expect(list.getByRole('option')).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Search experts' }).fill('berg');
  await expect(page.getByTestId('directory-count')).toHaveText(
    'No expert at Nordby Hospital in Testville matches “berg”.',
  );
  await hospital.selectOption('');
  await expect(list.getByRole('option', { name: 'Test Berg' })).toBeVisible();
});
