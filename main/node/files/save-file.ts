import { randomUUID } from 'node:crypto';
import { link, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { API_ERROR_CODES } from '../../../shared/api/index.ts';
import { CoreError } from '../core-error.ts';

/**
 * Where the user wants a file: the shell asks with the system's save dialog (Electron: dialog.showSaveDialog), tests
 * answer with a folder of their own. The suggested name is already safe (safeFileName).
 */
export interface SaveDialog {
  /** The absolute path the user chose for a file suggested as `fileName`, or undefined when they cancelled. */
  choosePath(fileName: string): Promise<string | undefined>;
}

/**
 * Control characters, the characters Windows refuses in names (path separators among them), and the bidirectional
 * overrides that can show "report‮fdp.exe" as "reportexe.pdf".
 */
const UNSAFE_CHARACTERS = /[\p{Cc}<>:"/\\|?*\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
/** Device names Windows reserves whatever the extension ("CON.txt" is the console). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
/** Well under the 255 bytes most file systems allow, leaving room for the dialog's "(1)" and the like. */
const MAX_NAME_BYTES = 120;
const FALLBACK_STEM = 'attachment';
/** The extension a file without one gets from its type, so that the system knows what opens it. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'text/plain': 'txt',
  'text/csv': 'csv',
};

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');
/** Leading dots hide a file (or climb out of a folder); trailing dots and spaces vanish on Windows. */
const trimDotsAndSpaces = (s: string) => s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');

/**
 * A file name made from a title that came with a message (anyone's words): one name, never a path, valid on Windows,
 * macOS and Linux, at most MAX_NAME_BYTES, keeping its extension (or taking one from the content type).
 */
export function safeFileName(title: string, contentType = ''): string {
  const cleaned = trimDotsAndSpaces(
    title
      .normalize('NFC')
      .replace(UNSAFE_CHARACTERS, '_')
      .replace(/\.{2,}/g, '.'),
  );
  const dot = cleaned.lastIndexOf('.');
  const given = dot > 0 ? cleaned.slice(dot + 1) : '';
  const keeps = /^[\p{L}\p{N}]{1,10}$/u.test(given);
  const extension = keeps ? given : (EXTENSIONS[contentType.toLowerCase()] ?? '');
  let stem = keeps ? cleaned.slice(0, dot) : cleaned;
  const budget = MAX_NAME_BYTES - (extension ? utf8Length(extension) + 1 : 0);
  if (utf8Length(stem) > budget) {
    const points = Array.from(stem);
    while (utf8Length(points.join('')) > budget) points.pop();
    stem = points.join('');
  }
  stem = trimDotsAndSpaces(stem) || FALLBACK_STEM;
  if (WINDOWS_RESERVED.test(stem.split('.')[0]!.trim())) stem = `_${stem}`;
  return extension ? `${stem}.${extension}` : stem;
}

/**
 * Writes `bytes` at the path the save dialog gave, inside the folder it names and nowhere else: the name is made safe
 * again (a dialog may hand back what it was offered), the folder's real path is resolved and the file checked to lie
 * directly in it. The bytes go to a new file beside the target (`wx`: never through an existing file or link), which
 * is then renamed over the target: a link there is replaced, not followed, and a failed write leaves no half file.
 * Only the user can read what is written (patient data).
 */
export async function writeChosenFile(
  chosenPath: string,
  bytes: Uint8Array,
): Promise<{ folder: string; fileName: string }> {
  if (!isAbsolute(chosenPath))
    throw new CoreError(
      API_ERROR_CODES.invalidRequest,
      'save-no-folder',
      'The save dialog did not give a folder to save in.',
    );
  const fileName = safeFileName(basename(chosenPath));
  let folder: string;
  try {
    folder = await realpath(dirname(resolve(chosenPath)));
  } catch (error) {
    throw cannotWrite(error);
  }
  const target = resolve(folder, fileName);
  if (dirname(target) !== folder)
    throw new CoreError(
      API_ERROR_CODES.invalidRequest,
      'save-name-leaves-folder',
      'That file name would leave the chosen folder.',
    );
  const part = join(folder, `.${randomUUID()}.part`);
  try {
    await writeFile(part, bytes, { flag: 'wx', mode: 0o600 });
    // The dialog asked the user before replacing the file they chose; a name made safe is another file, never replaced.
    const saved =
      fileName === basename(chosenPath)
        ? (await rename(part, target), fileName)
        : await linkFree(part, folder, fileName);
    return { folder, fileName: saved };
  } catch (error) {
    throw error instanceof CoreError ? error : cannotWrite(error);
  } finally {
    await rm(part, { force: true });
  }
}

/** Links `part` under `fileName` in `folder`, or `name (1).ext`, `name (2).ext`… where none exists yet. */
async function linkFree(part: string, folder: string, fileName: string): Promise<string> {
  const dot = fileName.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [fileName.slice(0, dot), fileName.slice(dot)] : [fileName, ''];
  for (let n = 0; n < 100; n++) {
    const name = n === 0 ? fileName : `${stem} (${n})${extension}`;
    try {
      await link(part, join(folder, name));
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new CoreError(
    API_ERROR_CODES.notAllowed,
    'file-name-taken',
    'That folder already holds files of this name: choose another name.',
  );
}

/** The system's reason by its code only: its message quotes the path, which may name the patient. */
function cannotWrite(error: unknown): CoreError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new CoreError(
    API_ERROR_CODES.notAllowed,
    'file-not-written',
    `The file could not be written in that folder${code ? ` (${code})` : ''}: choose another folder.`,
    { params: { code: code ?? '' }, retryable: true },
  );
}
