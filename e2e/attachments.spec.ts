import AxeBuilder from '@axe-core/playwright';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../shared/api/index.ts';
import type { TestPractitioner } from '../testkit/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test, type HarnessCoreOptions, type OpenedWorkstation } from './harness/workstation-fixture.ts';

/**
 * The files of a case as the expert opens them after the applicant sent them: a PDF drawn page by page by pdf.js (its
 * worker served by the app, under the app's unchanged CSP), a file that claims to be a PDF and is not, and saving
 * through the core's save command into the folder the save dialog chose (here, the test's own).
 */
const harness = regionForThisFile();

/** A real PDF, written by hand: one page per text, each with a dark band and a line of Helvetica. */
function handWrittenPdf(texts: readonly string[]): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${texts.map((_, i) => `${4 + 2 * i} 0 R`).join(' ')}] /Count ${texts.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  texts.forEach((text, i) => {
    const content = `0.1 0.3 0.6 rg 72 650 451 60 re f BT /F1 24 Tf 0 g 72 600 Td (${text}) Tj ET`;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`,
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    );
  });
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((object, i) => {
    const offset = pdf.length;
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** A workstation set up for its practitioner, registered, with the region's experts in its directory. */
async function setUp(
  openWorkstation: (options: HarnessCoreOptions) => Promise<OpenedWorkstation>,
  options: HarnessCoreOptions,
  endpointId: string,
  practitioner: TestPractitioner,
): Promise<OpenedWorkstation> {
  const opened = await openWorkstation(options);
  await harness.setUpWorkstation(opened.core, endpointId, practitioner);
  await expect
    .poll(
      async () => {
        const [setup, directory] = await Promise.all([
          opened.core.dispatch(COMMANDS.getSetupState, undefined),
          opened.core.dispatch(COMMANDS.getDirectoryState, undefined),
        ]);
        return (
          setup.ok &&
          directory.ok &&
          (setup.value as { registration: { state: string } }).registration.state === 'accepted' &&
          (directory.value as { experts: number }).experts >= 2
        );
      },
      { message: `${endpointId} registered with the directory mirrored`, timeout: 30_000 },
    )
    .toBe(true);
  return opened;
}

test("a PDF the applicant sends opens page by page in the expert's viewer and is saved with its exact bytes where the expert chose", async ({
  openWorkstation,
  page,
}) => {
  test.setTimeout(150_000);
  const cspRefusals: string[] = [];
  const workers: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspRefusals.push(m.text());
  });
  page.on('worker', (w) => workers.push(w.url()));
  const folder = realpathSync(mkdtempSync(join(tmpdir(), 'rts-e2e-saved-')));
  const offered: string[] = [];
  try {
    // The expert, whose window is the test's page, reads and saves what the applicant sends.
    await setUp(
      openWorkstation,
      {
        ...harness.coreOptions('ws-expert-1'),
        saveDialog: {
          choosePath: async (fileName) => {
            offered.push(fileName);
            return join(folder, fileName);
          },
        },
      },
      'ws-expert-1',
      harness.expert,
    );
    const applicant = await setUp(
      openWorkstation,
      harness.coreOptions('ws-applicant-1'),
      'ws-applicant-1',
      harness.applicant,
    );

    const pdf = handWrittenPdf(['Troponin T 412 ng/L at 08:40', 'CK-MB 38 U/L']);
    const compose = applicant.page;
    await compose.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'New consultation' }).click();
    await compose.getByLabel('Search the directory').fill('cardiology nordby');
    await compose.getByRole('button', { name: /^Choose .*Ahmed/ }).click();
    await compose.getByLabel('Family name').fill('Nilsen');
    await compose.getByLabel('Given names').fill('Kari');
    await compose.getByLabel('Sex').selectOption('female');
    await compose.getByLabel('Birth date').fill('1961-04-12');
    await compose.getByLabel('Reason for the consultation (required)').fill('Chest pain, troponin rising.');
    await compose.getByLabel('Add files (letters, images, results)').setInputFiles([
      { name: 'lab-results.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a PDF at all') },
    ]);
    await compose.getByRole('button', { name: 'Send', exact: true }).click();
    const caseId = await compose.getByTestId('case-screen').getAttribute('data-case-id');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Inbox' }).click();
    await page.locator(`[data-testid="inbox-row"][data-case-id="${caseId}"]`).click({ timeout: 30_000 });
    await expect(page.getByTestId('case-role')).toContainText('Asked by Test Berg');

    const files = page.getByRole('list', { name: 'Attachments of the request' });
    const lab = files.getByTestId('attachment').filter({ hasText: 'lab-results.pdf' });
    const viewer = lab.getByTestId('pdf-viewer');
    await expect(viewer.getByTestId('pdf-page-number')).toHaveText('Page 1 of 2');
    const canvas = viewer.getByRole('img', { name: 'Page 1 of 2 of lab-results.pdf' });
    await expect(canvas).toBeVisible();
    await expect(viewer.getByTestId('pdf-page-text')).toContainText('Troponin T 412 ng/L');
    // Drawn, not blank: the page's dark band covers about 5 % of it.
    const inked = () =>
      viewer.getByTestId('pdf-canvas').evaluate((c: HTMLCanvasElement) => {
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i]! < 128 && data[i + 2]! > 100) dark++;
        return dark / (c.width * c.height);
      });
    await expect.poll(inked).toBeGreaterThan(0.03);
    await page.screenshot({ path: `${SCREENSHOTS}/attachment-pdf.png`, fullPage: true });

    // By keyboard: the next page, then larger.
    await viewer.getByRole('button', { name: 'Next page' }).focus();
    await page.keyboard.press('Enter');
    await expect(viewer.getByTestId('pdf-page-number')).toHaveText('Page 2 of 2');
    await expect(viewer.getByRole('button', { name: 'Next page' })).toBeDisabled();
    await expect(viewer.getByTestId('pdf-page-text')).toContainText('CK-MB 38 U/L');
    const width = (await viewer.getByTestId('pdf-canvas').boundingBox())!.width;
    await viewer.getByRole('button', { name: 'Zoom in' }).click();
    await expect(viewer.getByRole('img', { name: 'Page 2 of 2 of lab-results.pdf' })).toBeVisible();
    await expect.poll(async () => (await viewer.getByTestId('pdf-canvas').boundingBox())!.width).toBeGreaterThan(width);
    await expect.poll(inked).toBeGreaterThan(0.03);

    // A file that is not a PDF says so, and can still be saved.
    const scan = files.getByTestId('attachment').filter({ hasText: 'scan.pdf' });
    await expect(scan.getByTestId('pdf-problem')).toHaveText(
      'This file cannot be shown: it is not a readable PDF. Save it to open it elsewhere.',
    );
    await expect(scan.getByRole('button', { name: 'Save scan.pdf…' })).toBeEnabled();

    await lab.getByRole('button', { name: 'Save lab-results.pdf…' }).click();
    await expect(lab.getByTestId('attachment-saved')).toHaveText(`Saved as lab-results.pdf in ${folder}`);
    expect(offered).toEqual(['lab-results.pdf']);
    expect(readFileSync(join(folder, 'lab-results.pdf')).equals(pdf)).toBe(true);

    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21aa']).analyze();
    expect(
      axe.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    ).toEqual([]);
    // pdf.js ran in its own worker, from the app's origin, and the page's policy refused nothing.
    expect(workers.some((url) => /\/assets\/pdf\.worker\.min-[\w-]+\.mjs$/.test(url))).toBe(true);
    expect(cspRefusals).toEqual([]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
