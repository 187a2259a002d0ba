import AxeBuilder from '@axe-core/playwright';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS } from '../shared/api/index.ts';
import { regionForThisFile, SCREENSHOTS } from './harness/region-for-file.ts';
import { expect, test } from './harness/workstation-fixture.ts';

/**
 * The files of a case as a clinician opens them: a PDF drawn page by page by pdf.js (its worker served by the app,
 * under the app's unchanged CSP), a file that claims to be a PDF and is not, and saving through the core's save
 * command into the folder the save dialog chose (here, the test's own).
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

test('a PDF attachment opens page by page in the viewer and is saved with its exact bytes where the user chose', async ({
  openWorkstation,
  page,
}) => {
  test.setTimeout(120_000);
  const cspRefusals: string[] = [];
  const workers: string[] = [];
  page.on('console', (m) => {
    if (m.text().includes('Content Security Policy')) cspRefusals.push(m.text());
  });
  page.on('worker', (w) => workers.push(w.url()));
  const folder = realpathSync(mkdtempSync(join(tmpdir(), 'rts-e2e-saved-')));
  const offered: string[] = [];
  try {
    const { core } = await openWorkstation({
      ...harness.coreOptions('ws-applicant-1'),
      saveDialog: {
        choosePath: async (fileName) => {
          offered.push(fileName);
          return join(folder, fileName);
        },
      },
    });
    await harness.setUpWorkstation(core, 'ws-applicant-1', harness.applicant);
    await expect
      .poll(async () => {
        const directory = await core.dispatch(COMMANDS.getDirectoryState, undefined);
        return directory.ok && (directory.value as { experts: number }).experts >= 2;
      })
      .toBe(true);

    const pdf = handWrittenPdf(['Troponin T 412 ng/L at 08:40', 'CK-MB 38 U/L']);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'New consultation' }).click();
    await page.getByLabel('Search the directory').fill('cardiology nordby');
    await page.getByRole('button', { name: /^Choose .*Ahmed/ }).click();
    await page.getByLabel('Family name').fill('Nilsen');
    await page.getByLabel('Given names').fill('Kari');
    await page.getByLabel('Sex').selectOption('female');
    await page.getByLabel('Birth date').fill('1961-04-12');
    await page.getByLabel('Reason for the consultation (required)').fill('Chest pain, troponin rising.');
    await page.getByLabel('Add files (letters, images, results)').setInputFiles([
      { name: 'lab-results.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a PDF at all') },
    ]);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect(page.getByTestId('case-screen')).toBeVisible();

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
