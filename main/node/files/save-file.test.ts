import fc from 'fast-check';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { safeFileName, writeChosenFile } from './save-file.ts';

const root = mkdtempSync(join(tmpdir(), 'rts-save-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshFolder = () => {
  const dir = join(root, `f${++folders}`);
  mkdirSync(dir);
  return dir;
};

describe('a file name from a title anyone could have written', () => {
  it.each([
    ['../../etc/passwd', '', '_._etc_passwd'],
    ['a/b\\c.pdf', 'application/pdf', 'a_b_c.pdf'],
    ['CON.txt', 'text/plain', '_CON.txt'],
    ['lpt1', '', '_lpt1'],
    ['nul .tar.gz', '', '_nul .tar.gz'],
    ['', 'application/pdf', 'attachment.pdf'],
    ['..', '', 'attachment'],
    ['a\u0000b.pdf', 'application/pdf', 'a_b.pdf'],
    ['report\u202efdp.exe', '', 'report_fdp.exe'],
    ['ECG 08:10', 'image/png', 'ECG 08_10.png'],
    ['scan.PDF', 'application/pdf', 'scan.PDF'],
    ['letter.pdf. ', 'application/pdf', 'letter.pdf'],
    ['.hidden', 'text/plain', 'hidden.txt'],
    ['what? <now> | "here" *', '', 'what_ _now_ _ _here_ _'],
  ])('%j (%s) becomes %j', (title, contentType, expected) => {
    expect(safeFileName(title, contentType)).toBe(expected);
  });

  it('cuts a long name to 120 bytes between characters, keeping the extension', () => {
    const latin = safeFileName(`${'x'.repeat(300)}.pdf`);
    expect(latin).toBe(`${'x'.repeat(116)}.pdf`);
    const wide = safeFileName(`${'🫀'.repeat(100)}.jpeg`);
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(120);
    expect(wide).toMatch(/^(🫀)+\.jpeg$/u);
  });

  it('is always one name inside the folder it is written to, whatever the title', () => {
    const folder = resolve(root, 'any');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.constantFrom('', 'application/pdf'), (t, type) => {
        const name = safeFileName(t, type);
        expect(name.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(120);
        expect(name).not.toMatch(/[\p{Cc}<>:"/\\|?*]|\.\.|^[.\s]|[.\s]$/u);
        expect(dirname(resolve(folder, name))).toBe(folder);
        // Made safe once, it stays as it is.
        expect(safeFileName(name)).toBe(name);
      }),
    );
  });
});

describe('writing where the save dialog pointed', () => {
  const bytes = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x0a]);

  it('writes the exact bytes, readable by the user only, and leaves nothing else', async () => {
    const folder = freshFolder();
    expect(await writeChosenFile(join(folder, 'letter.pdf'), bytes)).toEqual({ folder, fileName: 'letter.pdf' });
    expect(new Uint8Array(readFileSync(join(folder, 'letter.pdf')))).toEqual(bytes);
    expect(readdirSync(folder)).toEqual(['letter.pdf']);
    if (process.platform !== 'win32') expect(statSync(join(folder, 'letter.pdf')).mode & 0o777).toBe(0o600);
  });

  it('makes the name the dialog gave back safe too, never replacing a file under the safe name the user did not choose', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, '_CON.txt'), 'older');
    expect(await writeChosenFile(join(folder, 'CON.txt'), bytes)).toEqual({ folder, fileName: '_CON (1).txt' });
    expect(readFileSync(join(folder, '_CON.txt'), 'utf8')).toBe('older');
    expect(new Uint8Array(readFileSync(join(folder, '_CON (1).txt')))).toEqual(bytes);
    expect(await writeChosenFile(join(folder, 'CON.txt'), bytes)).toMatchObject({ fileName: '_CON (2).txt' });
    expect(readdirSync(folder).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('replaces the file the user chose to overwrite in the dialog', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'letter.pdf'), 'older');
    expect(await writeChosenFile(join(folder, 'letter.pdf'), bytes)).toEqual({ folder, fileName: 'letter.pdf' });
    expect(new Uint8Array(readFileSync(join(folder, 'letter.pdf')))).toEqual(bytes);
  });

  it('replaces a link at the chosen name instead of writing through it', async () => {
    const folder = freshFolder();
    const outside = join(freshFolder(), 'passwd');
    writeFileSync(outside, 'keep me');
    symlinkSync(outside, join(folder, 'scan.pdf'));
    await writeChosenFile(join(folder, 'scan.pdf'), bytes);
    expect(readFileSync(outside, 'utf8')).toBe('keep me');
    expect(lstatSync(join(folder, 'scan.pdf')).isSymbolicLink()).toBe(false);
    expect(new Uint8Array(readFileSync(join(folder, 'scan.pdf')))).toEqual(bytes);
  });

  it('writes into the real folder a linked folder stands for', async () => {
    const real = freshFolder();
    const link = join(root, `link${folders}`);
    symlinkSync(real, link);
    expect(await writeChosenFile(join(link, 'a.pdf'), bytes)).toEqual({ folder: real, fileName: 'a.pdf' });
    expect(readdirSync(real)).toEqual(['a.pdf']);
  });

  it('refuses a relative path, and says why a folder cannot take the file without naming it', async () => {
    await expect(writeChosenFile('letters/a.pdf', bytes)).rejects.toMatchObject({ code: 'invalid-request' });
    const missing = join(root, 'Kari Nilsen', 'a.pdf');
    const refusal = writeChosenFile(missing, bytes);
    await expect(refusal).rejects.toMatchObject({
      code: 'not-allowed',
      message: 'The file could not be written in that folder (ENOENT): choose another folder.',
    });
  });
});
