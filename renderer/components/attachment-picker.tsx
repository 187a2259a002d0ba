import { useId, useState, type ChangeEvent } from 'react';
import { useIntl } from 'react-intl';
import type { CaseView } from '../../shared/api/index.ts';
import { fileToBase64, formatBytes } from '../files.ts';
import { useT } from '../i18n/index.ts';

export type PickedAttachment = CaseView['attachments'][number];

/** What one message may carry (shared/api/consult-schemas.ts): 20 files of at most 16 MB. */
export const MAX_ATTACHMENTS = 20;
export const MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024;
/** All files of one message together, so that the encrypted payload stays under the protocol's 24 MiB. */
export const MAX_TOTAL_ATTACHMENT_BYTES = 16 * 1024 * 1024;

const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/**
 * Files the user adds to a message, read into base64 in the page (the page has no file system), each listed with its
 * size and a button to remove it. Files the message cannot carry are refused at once, with why.
 */
export function AttachmentPicker({
  label,
  attachments,
  onChange,
}: {
  label: string;
  attachments: readonly PickedAttachment[];
  onChange: (next: PickedAttachment[]) => void;
}) {
  const intl = useIntl();
  const t = useT();
  const id = useId();
  const [problem, setProblem] = useState<string>();
  const [reading, setReading] = useState(false);
  const total = attachments.reduce((sum, a) => sum + a.size, 0);

  const add = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length === 0) return;
    setProblem(undefined);
    setReading(true);
    try {
      const next = [...attachments];
      const refused: string[] = [];
      let sum = total;
      for (const file of files) {
        if (next.length >= MAX_ATTACHMENTS) {
          refused.push(t('compose.attachment.tooMany', { file: file.name, max: MAX_ATTACHMENTS }));
        } else if (file.size > MAX_ATTACHMENT_BYTES) {
          refused.push(
            t('compose.attachment.tooBig', {
              file: file.name,
              size: formatBytes(intl, file.size),
              max: formatBytes(intl, MAX_ATTACHMENT_BYTES),
            }),
          );
        } else if (sum + file.size > MAX_TOTAL_ATTACHMENT_BYTES) {
          refused.push(
            t('compose.attachment.totalTooBig', {
              file: file.name,
              max: formatBytes(intl, MAX_TOTAL_ATTACHMENT_BYTES),
            }),
          );
        } else {
          const contentType = CONTENT_TYPE.test(file.type) ? file.type : 'application/octet-stream';
          next.push({
            title: file.name.slice(0, 200) || t('compose.attachment.untitled'),
            contentType,
            base64: await fileToBase64(file),
            size: file.size,
          });
          sum += file.size;
        }
      }
      onChange(next);
      if (refused.length > 0) setProblem(t('compose.attachment.notAdded', { reasons: refused.join('; ') }));
    } finally {
      setReading(false);
    }
  };

  return (
    <div className="attachment-picker">
      <label htmlFor={`${id}-files`}>{label}</label>
      <input
        id={`${id}-files`}
        type="file"
        multiple
        onChange={(e) => void add(e)}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      {reading && (
        <p className="hint" role="status">
          {t('compose.attachment.reading')}
        </p>
      )}
      {problem && (
        <p id={`${id}-problem`} className="field-error" role="alert">
          {problem}
        </p>
      )}
      {attachments.length > 0 && (
        <ul className="picked-files" aria-label={t('compose.attachment.chosen', { label })}>
          {attachments.map((a, i) => (
            <li key={`${i}:${a.title}`}>
              <span>{a.title}</span> <span className="hint">{formatBytes(intl, a.size)}</span>
              <button
                type="button"
                className="link"
                onClick={() => onChange(attachments.filter((_, j) => j !== i))}
                aria-label={t('compose.attachment.removeNamed', { title: a.title })}
              >
                {t('compose.attachment.remove')}
              </button>
            </li>
          ))}
          <li className="hint">{t('compose.attachment.together', { size: formatBytes(intl, total) })}</li>
        </ul>
      )}
    </div>
  );
}
