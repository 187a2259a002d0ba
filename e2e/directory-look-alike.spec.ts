import { COMMANDS } from '../shared/api/index.ts';
import { expertEntry, hospital } from '../testkit/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

const harness = regionForThisFile();

/**
 * A clinic may publish an entry that reads exactly like another clinic's expert (same name, a hospital of the same
 * name) under its own directory id, with certificates issued to that id: the hub and the workstation accept it, since
 * nothing binds a name to a person. The directory marks both entries and says who published each (issue #16, item 4).
 */
test("marks an entry whose name and hospital duplicate another clinic's, and says who published each", async ({
  openWorkstation,
}) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  await expect
    .poll(async () => core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 2 } });

  const lookAlike = await harness.region.practitioner('clinic-b.dr-ahmed');
  await harness.publishDelta('clinic-b', [
    { upsert: hospital('clinic-b.nordby', 'Nordby Hospital') },
    ...expertEntry(lookAlike, {
      organizationId: 'clinic-b.nordby',
      endpoints: ['clinic-b'],
      family: 'Ahmed',
      specialty: 'Cardiology',
    }).map((upsert) => ({ upsert })),
  ]);
  await expect
    .poll(async () => core.dispatch(COMMANDS.getDirectoryState, undefined), { timeout: 20_000 })
    .toMatchObject({ ok: true, value: { experts: 3 } });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Directory' }).click();
  const list = page.getByRole('listbox', { name: 'Experts' });
  await expect(list.getByRole('option')).toHaveCount(3);
  const marks = list.getByTestId('look-alike');
  await expect(marks).toHaveCount(2);
  for (const mark of await marks.all()) await expect(mark).toBeVisible();
  await expect(marks.filter({ hasText: 'published by clinic-a, also listed by clinic-b' })).toHaveCount(1);
  await expect(marks.filter({ hasText: 'published by clinic-b, also listed by clinic-a' })).toHaveCount(1);
  // The applicant's own entry (Test Berg) looks like no one.
  await expect(list.getByRole('option', { name: 'Test Berg' }).getByTestId('look-alike')).toHaveCount(0);

  await page.getByRole('searchbox', { name: 'Search experts' }).fill('ahmed');
  await expect(list.getByRole('option')).toHaveCount(2);
  await list.getByRole('option').filter({ hasText: 'published by clinic-b' }).click();
  const details = page.getByRole('region', { name: 'Test Ahmed' });
  await expect(details).toContainText('clinic-b.dr-ahmed');
  await expect(details.getByTestId('look-alike-warning')).toContainText(
    '(clinic-a.dr-ahmed) has the same name and hospital, published by clinic-a; this one is published by clinic-b',
  );
  await page.screenshot({ path: `${SCREENSHOTS}/directory-look-alike.png` });
});
