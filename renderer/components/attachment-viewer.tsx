import { useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type CaseView } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { bytesOfBase64, formatBytes } from '../files.ts';
import { ErrorMessage } from './error-message.tsx';
import { PdfViewer } from './pdf-viewer.tsx';

type Attachment = CaseView['attachments'][number];

/** Pictures a browser shows safely inline (no SVG: it can carry script and links). */
const INLINE_IMAGES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);
const INLINE_TEXT: ReadonlySet<string> = new Set(['text/plain', 'text/csv']);
/** Longer texts are cut on screen (the whole file can still be saved). */
const MAX_TEXT_CHARS = 100_000;

/** The text of a base64 file as UTF-8, or undefined when it is not text. */
function decodeText(base64: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytesOfBase64(base64));
  } catch {
    return undefined;
  }
}

/**
 * The files of a case, from its decrypted messages: pictures inline (data: URLs, which the CSP allows for images),
 * PDFs drawn page by page (pdf-viewer.tsx), plain text in a <pre>, anything else listed with its size. Each can be
 * saved: the core writes it where the user chooses in the system's save dialog (the page cannot download). `messageId`
 * names the message the files came with; none: the request's.
 */
export function AttachmentViewer({
  api,
  caseId,
  messageId,
  attachments,
  label,
}: {
  api: RtsApi;
  caseId: string;
  messageId?: string;
  attachments: readonly Attachment[];
  label?: string;
}) {
  const intl = useIntl();
  const t = useT();
  if (attachments.length === 0) return <p className="hint">{t('viewer.attachments.none')}</p>;
  return (
    <ul className="attachment-list" aria-label={label ?? t('viewer.attachments.label')}>
      {attachments.map((a, i) => {
        const type = a.contentType.toLowerCase();
        return (
          <li key={`${i}:${a.title}`} className="attachment" data-testid="attachment">
            <div className="attachment-head">
              <span className="attachment-title">{a.title}</span>
              <span className="hint attachment-meta">
                {a.contentType}, {formatBytes(intl, a.size)}
              </span>
            </div>
            <SaveButton api={api} file={{ caseId, ...(messageId && { messageId }), index: i }} title={a.title} />
            {INLINE_IMAGES.has(type) && (
              <img className="attachment-image" src={`data:${type};base64,${a.base64}`} alt={a.title} />
            )}
            {INLINE_TEXT.has(type) && <AttachmentText base64={a.base64} title={a.title} />}
            {type === 'application/pdf' && <PdfViewer base64={a.base64} title={a.title} />}
          </li>
        );
      })}
    </ul>
  );
}

/** Saving asks the core, which opens the save dialog: where the file went, nothing when cancelled, or why not. */
function SaveButton({
  api,
  file,
  title,
}: {
  api: RtsApi;
  file: { caseId: string; messageId?: string; index: number };
  title: string;
}) {
  const t = useT();
  const save = useAction(api, COMMANDS.saveAttachment);
  const [saved, setSaved] = useState<string>();
  const onSave = async () => {
    setSaved(undefined);
    const result = await save.run(file);
    if (result?.saved) setSaved(t('viewer.attachments.saved', { file: result.fileName, folder: result.folder }));
  };
  return (
    <div className="attachment-save no-print">
      <button
        type="button"
        disabled={save.busy}
        aria-label={t('viewer.attachments.saveLabel', { title })}
        onClick={() => void onSave()}
      >
        {t('viewer.attachments.save')}
      </button>
      <p className="hint attachment-saved" role="status" data-testid="attachment-saved">
        {saved}
      </p>
      <ErrorMessage error={save.error} />
    </div>
  );
}

function AttachmentText({ base64, title }: { base64: string; title: string }) {
  const t = useT();
  const text = decodeText(base64);
  if (text === undefined) return <p className="hint">{t('viewer.attachments.notText')}</p>;
  const cut = text.length > MAX_TEXT_CHARS;
  return (
    <>
      <pre className="attachment-text" aria-label={t('viewer.attachments.content', { title })} tabIndex={0}>
        {cut ? text.slice(0, MAX_TEXT_CHARS) : text}
      </pre>
      {cut && <p className="hint">{t('viewer.attachments.cut', { max: MAX_TEXT_CHARS })}</p>}
    </>
  );
}
