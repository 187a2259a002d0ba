import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import { buildConsultReport } from '../shared/protocol/fhir/index.ts';
import { BROKER_STATE_ENV, killNode, restartNode } from '../scripts/test-env/index.ts';
import type { TestPractitioner } from '../testkit/index.ts';
import type { WorkstationCore } from '../main/node/index.ts';
import { PROTOCOL_V } from '../integration/testing/region-harness.ts';
import { pdfText } from './harness/pdf-text.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test, type HarnessCoreOptions, type OpenedWorkstation } from './harness/workstation-fixture.ts';

/**
 * A consultation through the UI of two workstations (the applicant dr-berg at ws-applicant-1, the expert dr-ahmed at
 * ws-expert-1) on the real broker and hub: compose with vitals, an ECG file and an attachment; the expert reads,
 * accepts and signs a report; the applicant sees it verified. Then the same while the broker is down, and a tampered
 * report that must show as refused and never as a report.
 */

const harness = regionForThisFile();

/** A command on a core, for what a test checks or waits for behind the UI. */
async function call<C extends CommandChannel>(
  core: WorkstationCore,
  command: C,
  input: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const result = await core.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<C>;
}

/** A datetime-local value (local time, minutes), as the page's inputs take it. */
function localInput(date: Date): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/**
 * Four seconds of a synthetic 3-lead ECG at 250 Hz (inferior ST elevation, 104/min), as a monitor exports it: a time
 * column in milliseconds, then one column per lead in mV.
 */
function ecgCsv(): string {
  const gauss = (x: number, mu: number, sigma: number) => Math.exp(-((x - mu) ** 2) / (2 * sigma ** 2));
  const rr = 60_000 / 104;
  const beat = (t: number, st: number) => {
    const p = t % rr;
    return (
      0.12 * gauss(p, 90, 18) -
      0.1 * gauss(p, 165, 7) +
      1.15 * gauss(p, 185, 8) -
      0.28 * gauss(p, 205, 8) +
      st * (1 / (1 + Math.exp(-(p - 215) / 6))) * (1 / (1 + Math.exp((p - 330) / 20))) +
      0.32 * gauss(p, 345, 38)
    );
  };
  const rows = ['time,II,III,aVF'];
  for (let i = 0; i < 1_000; i++) {
    const t = i * 4;
    const wander = 0.03 * Math.sin(t / 700);
    rows.push(
      [t, beat(t, 0.22) + wander, 0.85 * beat(t, 0.28) + wander, 0.92 * beat(t, 0.25) + wander]
        .map((v, j) => (j === 0 ? String(v) : v.toFixed(3)))
        .join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}

const REFERRAL = [
  'Sørvik Health Centre — referral for teleconsultation',
  '',
  'Kari Nilsen, chest pain since 06:00, diaphoretic. Known hypertension (amlodipine 5 mg).',
  'ECG 08:10: ST elevation II, III, aVF; reciprocal depression in aVL.',
  'Given: ASA 300 mg chewed 08:15, nitroglycerin 0.4 mg SL x1 with partial relief.',
  'Nearest PCI centre: 2 h 40 min by road.',
].join('\n');

/** Opens a workstation for an endpoint and sets it up as a user would on first run (once: the store is kept between tests). */
async function openSetUp(
  openWorkstation: (options: HarnessCoreOptions) => Promise<OpenedWorkstation>,
  endpointId: string,
  practitioner: TestPractitioner,
): Promise<OpenedWorkstation> {
  const opened = await openWorkstation(harness.coreOptions(endpointId));
  const setup = await call(opened.core, COMMANDS.getSetupState, undefined);
  if (!setup.identity?.ready || !setup.profile || !setup.hasBrokerPassword) {
    await harness.setUpWorkstation(opened.core, endpointId, practitioner);
  }
  await expect(opened.page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect
    .poll(
      async () => {
        const state = await call(opened.core, COMMANDS.getSetupState, undefined);
        const directory = await call(opened.core, COMMANDS.getDirectoryState, undefined);
        return state.registration.state === 'accepted' && directory.experts >= 2;
      },
      { message: `${endpointId} registered with the directory mirrored`, timeout: 30_000 },
    )
    .toBe(true);
  return opened;
}

/** axe-core (WCAG 2.1 AA rules) over what the page shows now: serious and critical findings fail. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
  const findings = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${screen}: ${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 5)
          .join(', ')}`,
    );
  expect(findings).toEqual([]);
}

async function caseIdOnScreen(page: Page): Promise<string> {
  const screen = page.getByTestId('case-screen');
  await expect(screen).toBeVisible();
  return (await screen.getAttribute('data-case-id'))!;
}

/** The applicant's compose screen, filled by its labels; `full` adds vitals, blood pressure, an ECG file and a letter. */
async function compose(page: Page, full: boolean): Promise<string> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'New consultation' }).click();
  await page.getByLabel('Search the directory').fill('cardiology nordby');
  await page.getByRole('button', { name: /^Choose .*Ahmed/ }).click();
  await expect(page.getByTestId('chosen-expert')).toContainText('Nordby Hospital');
  await page.getByLabel('Family name').fill('Nilsen');
  await page.getByLabel('Given names').fill('Kari');
  await page.getByLabel('Sex').selectOption('female');
  await page.getByLabel('Birth date').fill('1961-04-12');
  await page.getByLabel('National id (optional)').fill('12046112345');
  await page.getByRole('radio', { name: /^Urgent/ }).check();
  await page
    .getByLabel('Reason for the consultation (required)')
    .fill('Chest pain since 06:00, ST elevation in II, III, aVF.');
  await page.getByLabel('Question to the expert').fill('Thrombolysis here before the 2 h 40 min transfer to PCI?');
  if (full) {
    const now = Date.now();
    const vitals: [string, string, Date][] = [
      ['heartRate', '96', new Date(now - 50 * 60_000)],
      ['heartRate', '104', new Date(now - 5 * 60_000)],
      ['oxygenSaturation', '95', new Date(now - 50 * 60_000)],
      ['oxygenSaturation', '93', new Date(now - 5 * 60_000)],
    ];
    for (const [i, [sign, value, at]] of vitals.entries()) {
      await page.getByRole('button', { name: 'Add vital sign' }).click();
      const row = page.getByRole('group', { name: `Vital sign ${i + 1}` });
      await row.getByLabel('Measure').selectOption(sign);
      await row.getByLabel(/^Value/).fill(value);
      await row.getByLabel('Time').fill(localInput(at));
    }
    await page.getByLabel('Systolic (mmHg)').fill('96');
    await page.getByLabel('Diastolic (mmHg)').fill('61');
    await page
      .getByLabel('Waveform file (CSV)')
      .setInputFiles({ name: 'ecg-0810.csv', mimeType: 'text/csv', buffer: Buffer.from(ecgCsv()) });
    const wave = page.getByRole('group', { name: 'ecg-0810.csv' });
    await expect(wave).toContainText('ECG, leads II, III, aVF: 1,000 samples per channel (4 s)');
    await expect(wave.getByLabel('Sample period (ms)')).toHaveValue('4');
    await expect(wave.getByTestId('waveform-plot').locator('.ecg-paper canvas')).toHaveCount(3);
    await page
      .getByLabel('Add files (letters, images, results)')
      .setInputFiles({ name: 'referral.txt', mimeType: 'text/plain', buffer: Buffer.from(REFERRAL) });
    await expect(page.getByRole('list', { name: /chosen$/ })).toContainText('referral.txt');
    await expect(page.getByTestId('compose-summary')).toContainText('1 file');
  }
  if (full) {
    await page.screenshot({ path: `${SCREENSHOTS}/compose.png`, fullPage: true });
    await expectAccessible(page, 'compose, filled');
  }
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  const caseId = await caseIdOnScreen(page);
  await expect(page.getByRole('heading', { name: 'Consultation for Kari Nilsen' })).toBeVisible();
  await expect(page.getByTestId('case-role')).toContainText('You asked Test Ahmed, Nordby Hospital');
  return caseId;
}

/** The case as the other side opens it: from its inbox row. */
async function openFromInbox(page: Page, caseId: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
  const row = page.locator(`[data-testid="inbox-row"][data-case-id="${caseId}"]`);
  await expect(row).toBeVisible({ timeout: 30_000 });
  await row.click();
  expect(await caseIdOnScreen(page)).toBe(caseId);
}

/** The expert's report through the editor: one diagnosis, one prescription, preview, confirmation, signature. */
async function writeReport(page: Page, screenshot?: string): Promise<void> {
  await page.getByRole('button', { name: 'Write report' }).click();
  const editor = page.getByRole('region', { name: 'Write the report' });
  await editor
    .getByLabel('Findings')
    .fill(
      'Inferior STEMI: ST elevation II, III, aVF up to 0.25 mV with reciprocal change; sinus tachycardia 104/min. SpO2 falling 95 → 93 %.',
    );
  await editor.getByRole('button', { name: 'Preview report' }).click();
  await expect(editor.getByText('A report needs a conclusion.')).toBeVisible();
  await editor
    .getByLabel('Conclusion and advice (required)')
    .fill('Give tenecteplase now (no contraindications listed), then transfer for PCI. Oxygen to SpO2 ≥ 94 %.');
  const diagnosis = editor.getByRole('group', { name: 'Diagnosis 1' });
  await diagnosis
    .getByLabel('Diagnosis', { exact: true })
    .fill('Acute transmural myocardial infarction of inferior wall');
  await diagnosis.getByLabel('ICD-10 code (optional)').fill('i21.1');
  await editor.getByRole('button', { name: 'Add prescription' }).click();
  const prescription = editor.getByRole('group', { name: 'Prescription 1' });
  await prescription.getByLabel('Medication').fill('Acetylsalicylic acid');
  await prescription.getByLabel('Dose', { exact: true }).fill('75');
  await prescription.getByLabel('Unit', { exact: true }).fill('mg');
  await prescription.getByLabel('Times per period').fill('1');
  await prescription.getByLabel('Period', { exact: true }).fill('1');
  await prescription.getByLabel('Period unit').selectOption('d');
  await prescription.getByLabel('Route', { exact: true }).fill('oral');
  await prescription.getByLabel('Instructions').fill('After the 300 mg loading dose; continue indefinitely.');
  if (screenshot) {
    await page.screenshot({ path: `${SCREENSHOTS}/${screenshot}`, fullPage: true });
    await expectAccessible(page, 'report editor');
  }
  await editor.getByRole('button', { name: 'Preview report' }).click();

  const preview = page.getByRole('region', { name: 'Preview: the report as it will be signed and sent' });
  await expect(preview.getByTestId('report-preview')).toContainText(
    'I21.1 Acute transmural myocardial infarction of inferior wall',
  );
  await expect(preview.getByRole('table', { name: 'Prescriptions' })).toContainText(
    'Acetylsalicylic acid75 mgonce per dayoral',
  );
  await preview.getByRole('button', { name: 'Sign and send…' }).click();
  const confirm = preview.getByRole('alertdialog');
  await expect(confirm).toContainText('Sign with your signing certificate and send to clinic-b.dr-berg?');
  if (screenshot) await expectAccessible(page, 'report preview and confirmation');
  await confirm.getByRole('button', { name: 'Sign and send', exact: true }).click();
  await expect(page.getByRole('region', { name: 'Your report' })).toBeVisible();
}

test('a consultation goes from the applicant to the expert and a verified report comes back, all through the UI', async ({
  openWorkstation,
}) => {
  test.setTimeout(180_000);
  const expert = await openSetUp(openWorkstation, 'ws-expert-1', harness.expert);
  const applicant = await openSetUp(openWorkstation, 'ws-applicant-1', harness.applicant);

  // The applicant: a complete request.
  const caseId = await compose(applicant.page, true);
  await expect(applicant.page.getByTestId('case-status')).toHaveText('Requested');

  // The expert: the request arrives in the inbox and opens decrypted, with everything the applicant entered.
  await openFromInbox(expert.page, caseId);
  const page = expert.page;
  await expect(page.getByTestId('case-role')).toContainText('Asked by Test Berg, Sørvik Health Centre');
  await expect(page.getByTestId('case-priority')).toHaveText('Urgency: Urgent');
  await expect(page.getByTestId('patient-summary')).toContainText('Kari Nilsen');
  await expect(page.getByTestId('patient-summary')).toContainText('Female');
  await expect(page.getByTestId('patient-summary')).toContainText('1961-04-12');
  await expect(page.getByTestId('patient-summary')).toContainText('12046112345');
  await expect(page.getByTestId('case-reason')).toHaveText('Chest pain since 06:00, ST elevation in II, III, aVF.');
  const vitals = page.getByRole('table', { name: 'Vital signs' });
  await expect(vitals.getByRole('row')).toHaveCount(6);
  await expect(vitals).toContainText('Heart rate104/min');
  await expect(vitals).toContainText('Blood pressure96/61mmHg');
  for (const measure of ['Heart rate', 'Oxygen saturation (SpO2)']) {
    const plot = page.getByRole('figure', { name: `Trend of ${measure}` });
    await expect(plot.locator('canvas')).toBeVisible();
    await expect(plot).toContainText('2 measurements');
  }
  const ecg = page.getByTestId('waveform-plot');
  await expect(ecg).toHaveAttribute('aria-label', /^ECG, leads II, III, aVF: 4 s at 250 Hz/);
  // On ECG paper: one strip per lead at 25 mm/s and 10 mm/mV (4.4 s with the calibration pulse: 110 mm wide).
  const strips = ecg.locator('.ecg-paper canvas');
  await expect(strips).toHaveCount(3);
  expect((await strips.first().boundingBox())?.width).toBeCloseTo((110 * 96) / 25.4, -1);
  await expect(ecg.getByTestId('ecg-paper')).toContainText('25 mm/s, 10 mm/mV');
  // Calipers by keyboard: two R peaks of lead II, 577 ms apart (104/min).
  await ecg.getByLabel('From (s)').fill('0.185');
  await ecg.getByLabel('To (s)').fill('0.762');
  await expect(ecg.getByTestId('ecg-caliper')).toHaveText(/^Lead II: 577 ms, [\d.]+ mV \(104\/min\)$/);
  // And by two clicks on lead III: 100 px apart at true size is 100 / 94.49 px per s = 1,058 ms.
  const lead3 = ecg.locator('.ecg-paper .u-over').nth(1);
  await lead3.click({ position: { x: 150, y: 20 } });
  await lead3.click({ position: { x: 250, y: 20 } });
  await expect(ecg.getByTestId('ecg-caliper')).toHaveText(/^Lead III: 1,0[56]\d ms, 0 mV \(5[67]\/min\)$/);
  await ecg.getByRole('button', { name: 'Zoom in' }).click();
  await expect(ecg.getByTestId('ecg-paper')).toContainText('×1.5');
  await ecg.getByRole('button', { name: 'Zoom out' }).click();
  await ecg.screenshot({ path: `${SCREENSHOTS}/ecg.png` });
  await expect(page.getByRole('region', { name: 'Attachments' }).getByLabel('Content of referral.txt')).toContainText(
    'ST elevation II, III, aVF',
  );
  const request = page.getByTestId('history-row').first();
  await expect(request).toContainText('Consultation requested');
  await expect(request.getByTestId('signature-verified')).toContainText(
    /Signed by Test Berg \(Sørvik Health Centre\) at .*; signature and certificate chain to the region's CA checked/,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/case-expert.png`, fullPage: true });
  await expectAccessible(page, 'case, expert');

  // Accept, then the report.
  await page.getByRole('button', { name: 'Accept', exact: true }).click();
  await expect(page.getByTestId('case-status')).toHaveText('Accepted');
  await writeReport(page, 'report-editor.png');
  await expect(page.getByTestId('case-status')).toHaveText('Completed');
  await expect(page.getByTestId('report-signature')).toContainText('Test Ahmed (Nordby Hospital)');

  // The applicant: the report, verified, with its signer; printable alone.
  const applicantPage = applicant.page;
  const report = applicantPage.getByRole('region', { name: 'Report from the expert' });
  await expect(report).toBeVisible({ timeout: 30_000 });
  await expect(applicantPage.getByTestId('case-status')).toHaveText('Completed');
  await expect(report.getByTestId('report-signature')).toContainText(
    /Signed by Test Ahmed \(Nordby Hospital\) at .*; signature and certificate chain to the region's CA checked/,
  );
  await expect(report.getByTestId('report-conclusion')).toContainText('Give tenecteplase now');
  await expect(report.getByRole('list', { name: 'Diagnoses' })).toHaveText(
    'I21.1 Acute transmural myocardial infarction of inferior wall',
  );
  await expect(report.getByRole('table', { name: 'Prescriptions' })).toContainText(
    'Acetylsalicylic acid75 mgonce per dayoralAfter the 300 mg loading dose; continue indefinitely.',
  );
  const history = applicantPage.getByTestId('history-row');
  await expect(history).toHaveCount(3);
  await expect(history.nth(1)).toContainText('Accepted');
  await expect(history.nth(2).getByTestId('message-state')).toHaveText('verified');
  await applicantPage.screenshot({ path: `${SCREENSHOTS}/report-applicant.png`, fullPage: true });
  await expectAccessible(applicantPage, 'case with report, applicant');

  await applicantPage.evaluate(() => {
    (window as { __printed?: number }).__printed = 0;
    window.print = () => {
      (window as { __printed?: number }).__printed! += 1;
    };
  });
  await report.getByRole('button', { name: 'Print / save as PDF' }).click();
  await expect.poll(() => applicantPage.evaluate(() => (window as { __printed?: number }).__printed)).toBe(1);
  await applicantPage.emulateMedia({ media: 'print' });
  // On paper: the printout made from the verified report, and nothing else of the case or the app.
  const printout = applicantPage.getByTestId('report-printout');
  await expect(printout).toBeVisible();
  await expect(report).toBeHidden();
  await expect(applicantPage.getByRole('region', { name: 'Patient' })).toBeHidden();
  await expect(applicantPage.getByRole('navigation', { name: 'Main' })).toBeHidden();
  await applicantPage.screenshot({ path: `${SCREENSHOTS}/report-printout.png`, fullPage: true });
  const pdf = await applicantPage.pdf({ format: 'A4', printBackground: true, path: `${SCREENSHOTS}/report.pdf` });
  const [page1, ...more] = await pdfText(pdf);
  const printed = [page1, ...more].join(' ').replace(/\s+/g, ' ');
  // Text as laid out on the page: ligatures ("fi"), hyphens and groups of the digest may be split, so compare
  // without spaces.
  const compact = printed.replace(/\s/g, '');
  for (const part of [
    'TEST REGION',
    'Consultation report',
    'Expert Test Ahmed (Cardiology), Nordby Hospital',
    'Asked by Test Berg (General practice), Sørvik Health Centre',
    'Kari Nilsen, born 1961-04-12',
    'Question',
    'Findings',
    'Inferior STEMI',
    'I21.1 Acute transmural myocardial infarction of inferior wall',
    'Acetylsalicylic acid',
    'Signed by Test Ahmed (clinic-a.dr-ahmed), Nordby Hospital',
    "chain to the region's CA",
  ])
    expect(compact).toContain(part.replace(/\s/g, ''));
  expect(compact).toMatch(/Certificateserial[0-9a-f]+,issuedbyCN=TestRegionRootCA/i);
  const digest = (await printout.getByTestId('printout-digest').textContent())!.replace(/\s/g, '');
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  expect(compact).toContain(`SHA-256is${digest}.`);
  // The digest is the envelope's as it travelled: the expert's copy of the same report has it too.
  expect((await call(expert.core, COMMANDS.openCase, { caseId })).report?.envelopeSha256).toBe(digest);
  expect(printed).not.toContain('Print / save as PDF');
  await applicantPage.emulateMedia({ media: 'screen' });
  await expect(printout).toBeHidden();
  await expect(report).toBeVisible();
});

test('the expert answers while the broker is down; the report waits queued and arrives verified once it is back', async ({
  openWorkstation,
}) => {
  test.setTimeout(240_000);
  const expert = await openSetUp(openWorkstation, 'ws-expert-1', harness.expert);
  const applicant = await openSetUp(openWorkstation, 'ws-applicant-1', harness.applicant);
  const caseId = await compose(applicant.page, false);
  await expect
    .poll(
      async () => {
        const cases = await call(expert.core, COMMANDS.listCases, {});
        return cases.some((c) => c.caseId === caseId);
      },
      { message: 'the request at the expert', timeout: 30_000 },
    )
    .toBe(true);

  const stateFile = process.env[BROKER_STATE_ENV]!;
  await killNode(stateFile, 0);
  try {
    const page = expert.page;
    await expect(page.getByTestId('offline-banner')).toBeVisible({ timeout: 30_000 });
    await openFromInbox(page, caseId);
    await expect(page.getByTestId('patient-summary')).toContainText('Kari Nilsen');
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await expect(page.getByTestId('case-status')).toHaveText('Accepted');
    await writeReport(page);
    await expect(page.getByTestId('report-state')).toHaveText('queued');
    const rows = page.getByTestId('history-row');
    await expect(rows.filter({ hasText: 'Accepted' }).getByTestId('message-state')).toHaveText('queued');
    await expect(rows.filter({ hasText: 'Report' }).getByTestId('message-state')).toHaveText('queued');
    await expect(page.getByTestId('offline-banner')).toContainText('wait in the outbox');
    await page.screenshot({ path: `${SCREENSHOTS}/report-offline-queued.png`, fullPage: true });
  } finally {
    await restartNode(stateFile, 0);
    await harness.connectClinics();
  }

  // Back online: the applicant's open case fills in by itself (case events), the report verified.
  const report = applicant.page.getByRole('region', { name: 'Report from the expert' });
  await expect(report.getByTestId('report-signature')).toContainText(
    /Test Ahmed \(Nordby Hospital\).*certificate chain to the region's CA checked/,
    {
      timeout: 90_000,
    },
  );
  await expect(applicant.page.getByTestId('case-status')).toHaveText('Completed');
  await expect(expert.page.getByTestId('offline-banner')).toBeHidden({ timeout: 30_000 });
  await expect(expert.page.getByTestId('report-state')).toHaveText(/delivered|processed/, { timeout: 30_000 });
});

test('a tampered report shows in its case as refused, with no report and nothing that looks verified', async ({
  openWorkstation,
}) => {
  test.setTimeout(120_000);
  const applicant = await openSetUp(openWorkstation, 'ws-applicant-1', harness.applicant);

  // Nothing is sent before the form is complete; problems show next to their fields.
  await applicant.page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'New consultation' })
    .click();
  await applicant.page
    .getByLabel('Waveform file (CSV)')
    .setInputFiles({ name: 'monitor.csv', mimeType: 'text/csv', buffer: Buffer.from('time,II,X7\n0,0.1,0.2\n') });
  await expect(applicant.page.getByRole('alert').filter({ hasText: 'monitor.csv' })).toContainText(
    '"X7" in the header row is not an ECG lead',
  );
  await applicant.page.getByLabel('Birth date').fill('2999-01-01');
  await applicant.page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(applicant.page.getByText('Choose the expert to ask.')).toBeVisible();
  await expect(applicant.page.getByText('The birth date is in the future.')).toBeVisible();
  await expect(applicant.page.getByLabel('Reason for the consultation (required)')).toHaveAccessibleDescription(
    'Say why you ask: the reason is required.',
  );
  await expect(applicant.page.getByRole('alert').filter({ hasText: 'fields need attention' })).toBeVisible();
  const caseId = await compose(applicant.page, false);

  // dr-ahmed's clinic system sends a report for the case, damaged on the way (one byte of the ciphertext flipped).
  await harness.sendAsClinic('clinic-a', {
    properties: {
      rtsType: 'consult.report',
      rtsVersion: PROTOCOL_V,
      rtsSender: 'clinic-a',
      rtsCase: caseId,
      rtsFromPractitioner: 'clinic-a.dr-ahmed',
      rtsToPractitioner: 'clinic-b.dr-berg',
      rtsSequence: 1,
    },
    payload: (messageId, timestamp) =>
      buildConsultReport(
        { messageId, timestamp, sender: 'clinic-a' },
        {
          caseId,
          from: 'clinic-a.dr-ahmed',
          to: 'clinic-b.dr-berg',
          sequence: 1,
          patient: { family: 'Nilsen', given: ['Kari'], gender: 'female', birthDate: '1961-04-12' },
          conclusion: 'Forged advice: discharge home',
        },
      ),
    signer: harness.expert,
    recipients: [harness.applicant.encryption.certificate, harness.expert.encryption.certificate],
    damage: (body) => {
      body[body.length - 20] = body[body.length - 20]! ^ 0xff;
    },
  });

  const page = applicant.page;
  const refused = page.getByTestId('history-row').filter({ has: page.getByTestId('refused-badge') });
  await expect(refused).toHaveCount(1, { timeout: 30_000 });
  await expect(refused.getByTestId('refused-badge')).toHaveText(
    'Refused: decrypt-failed: the message could not be opened',
  );
  await expect(refused).toContainText('Report (refused)');
  await expect(refused.getByTestId('signature-verified')).toHaveCount(0);
  await expect(refused.getByTestId('message-state')).toHaveText('rejected');
  await expect(page.getByTestId('case-attention')).toHaveText('A received message was refused: decrypt-failed');
  await expect(page.getByTestId('case-status')).toHaveText('Requested');
  const section = page.getByTestId('report-section');
  await expect(section.getByTestId('no-report')).toContainText('No valid report.');
  await expect(section.getByTestId('no-report')).toContainText('Refused: decrypt-failed');
  await expect(section.getByTestId('report-signature')).toHaveCount(0);
  await expect(section.getByRole('button', { name: 'Print / save as PDF' })).toHaveCount(0);
  await expect(page.getByText('Forged advice')).toHaveCount(0);
  // The signer is shown by the directory's name for the certificate's directory id: no trace of either.
  await expect(page.getByText(/Test Ahmed \(clinic-a\.dr-ahmed\)|CN=clinic-a\.dr-ahmed/)).toHaveCount(0);
  await page.screenshot({ path: `${SCREENSHOTS}/tampered-report.png`, fullPage: true });
  await expectAccessible(page, 'case with a refused report');

  // The case goes on: the applicant cancels it, after a confirmation.
  await page.getByRole('button', { name: 'Cancel consultation…' }).click();
  await page
    .getByLabel('Why you cancel (the expert reads this)')
    .fill('Patient transferred directly to the PCI centre.');
  await page.getByRole('button', { name: 'Cancel the consultation…' }).click();
  await expect(page.getByRole('alertdialog')).toContainText(
    'Cancel this consultation? The case closes and clinic-a.dr-ahmed is told: “Patient transferred directly to the PCI centre.”',
  );
  await page.getByRole('button', { name: 'Yes, cancel it' }).click();
  await expect(page.getByTestId('case-status')).toHaveText('Cancelled');
  await expect(page.getByTestId('history-row').last()).toContainText('Patient transferred directly to the PCI centre.');
  expect(await call(applicant.core, COMMANDS.checkAuditLog, undefined)).toMatchObject({ ok: true });
});
