import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { reasonLabel } from '../components/reason-words.ts';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import { formatDateTime } from '../components/case-format.ts';
import { useT } from '../i18n/index.ts';

/** Messages this workstation refused, with the reason; the sender was told the same reason in a receipt. */
export function RejectionsScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const t = useT();
  const intl = useIntl();
  const rejections = useCommand(api, COMMANDS.listRejections, undefined);
  useEvent(api, EVENTS.caseChanged, rejections.reload);
  return (
    <div className="screen-stack">
      <h2 className="screen-title">{t('inbox.rejections.title')}</h2>
      <p className="hint">{t('inbox.rejections.hint')}</p>
      <ErrorMessage error={rejections.error} />
      {rejections.value && rejections.value.length === 0 && <p>{t('inbox.rejections.none')}</p>}
      {rejections.value && rejections.value.length > 0 && (
        <table className="data-table" aria-label={t('inbox.rejections.title')}>
          <thead>
            <tr>
              <th scope="col">{t('inbox.rejections.received')}</th>
              <th scope="col">{t('inbox.rejections.type')}</th>
              <th scope="col">{t('inbox.rejections.from')}</th>
              <th scope="col">{t('inbox.rejections.reason')}</th>
              <th scope="col">{t('inbox.rejections.detail')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('inbox.caseColumn')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rejections.value.map((r) => (
              <tr key={r.id}>
                <td>{formatDateTime(intl, r.receivedAt)}</td>
                <td>{r.type ?? '—'}</td>
                <td>{r.sender ?? '—'}</td>
                <td>
                  <span className="badge" data-tone="bad">
                    {reasonLabel(intl, r.reason, t('inbox.rejections.refused'))}
                  </span>
                </td>
                <td>{r.detail}</td>
                <td>
                  {r.caseId && (
                    <button
                      type="button"
                      className="link"
                      onClick={() => navigate({ name: 'case', caseId: r.caseId! })}
                    >
                      {t('inbox.openCase')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
