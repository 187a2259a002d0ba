import AxeBuilder from '@axe-core/playwright';
import { regionForThisFile } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * axe-core over every main screen of a set-up workstation: labels, roles, names, contrast (WCAG 2.1 AA rules). Serious
 * and critical findings fail the test, with the rule and the elements in the message.
 */
const harness = regionForThisFile();

const SCREENS = ['Inbox', 'Directory', 'New consultation', 'Outbox', 'Refused messages', 'Settings'] as const;

test('every main screen passes axe-core without serious or critical findings', async ({ openWorkstation }) => {
  const { core, page } = await openWorkstation(harness.coreOptions('ws-applicant-1'));
  const firstRun = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const report = (screen: string, violations: typeof firstRun.violations) =>
    violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${screen}: ${v.id} (${v.impact}): ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 5)
            .join(', ')}`,
      );
  const findings = report('first run', firstRun.violations);
  await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
  for (const screen of SCREENS) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: screen }).click();
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: screen })).toHaveAttribute(
      'aria-current',
      'page',
    );
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
    findings.push(...report(screen, result.violations));
  }
  expect(findings).toEqual([]);
});
