import type { CaseView } from '../../shared/api/index.ts';
import { formatBytes } from '../files.ts';

type Attachment = CaseView['attachments'][number];

/** Pictures a browser shows safely inline (no SVG: it can carry script and links). */
const INLINE_IMAGES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);
const INLINE_TEXT: ReadonlySet<string> = new Set(['text/plain', 'text/csv']);
/** Longer texts are cut on screen (the whole file can still be saved). */
const MAX_TEXT_CHARS = 100_000;

/** The text of a base64 file as UTF-8, or undefined when it is not text. */
function decodeText(base64: string): string | undefined {
  try {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The files of a case, from its decrypted messages: pictures inline (data: URLs, which the CSP allows for images),
 * plain text in a <pre>, anything else listed with its size. Each can be saved; a save link carries the bytes as
 * application/octet-stream so that the browser downloads rather than opens it.
 */
export function AttachmentViewer({
  attachments,
  label = 'Attachments',
}: {
  attachments: readonly Attachment[];
  label?: string;
}) {
  if (attachments.length === 0) return <p className="hint">No files attached.</p>;
  return (
    <ul className="attachment-list" aria-label={label}>
      {attachments.map((a, i) => {
        const type = a.contentType.toLowerCase();
        return (
          <li key={`${i}:${a.title}`} className="attachment" data-testid="attachment">
            <div className="attachment-head">
              <span className="attachment-title">{a.title}</span>
              <span className="hint attachment-meta">
                {a.contentType}, {formatBytes(a.size)}
              </span>
              <a
                className="attachment-save no-print"
                href={`data:application/octet-stream;base64,${a.base64}`}
                download={a.title}
                aria-label={`Save ${a.title}`}
              >
                Save
              </a>
            </div>
            {INLINE_IMAGES.has(type) && (
              <img className="attachment-image" src={`data:${type};base64,${a.base64}`} alt={a.title} />
            )}
            {INLINE_TEXT.has(type) && <AttachmentText base64={a.base64} title={a.title} />}
          </li>
        );
      })}
    </ul>
  );
}

function AttachmentText({ base64, title }: { base64: string; title: string }) {
  const text = decodeText(base64);
  if (text === undefined) return <p className="hint">This file is not readable text; save it to open it elsewhere.</p>;
  const cut = text.length > MAX_TEXT_CHARS;
  return (
    <>
      <pre className="attachment-text" aria-label={`Content of ${title}`} tabIndex={0}>
        {cut ? text.slice(0, MAX_TEXT_CHARS) : text}
      </pre>
      {cut && (
        <p className="hint">
          Shown up to {MAX_TEXT_CHARS.toLocaleString()} characters; save the file to read all of it.
        </p>
      )}
    </>
  );
}
