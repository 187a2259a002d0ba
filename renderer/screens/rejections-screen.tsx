import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { reasonLabel } from '../components/reason-words.ts';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';

/** Messages this workstation refused, with the reason; the sender was told the same reason in a receipt. */
export function RejectionsScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const intl = useIntl();
  const rejections = useCommand(api, COMMANDS.listRejections, undefined);
  useEvent(api, EVENTS.caseChanged, rejections.reload);
  return (
    <div className="screen-stack">
      <h2 className="screen-title">Refused messages</h2>
      <p className="hint">
        Messages that failed a check on arrival: damaged, not for you, not signed by whom they claim, or out of order.
        Nothing of their content is shown.
      </p>
      <ErrorMessage error={rejections.error} />
      {rejections.value && rejections.value.length === 0 && <p>No refused messages.</p>}
      {rejections.value && rejections.value.length > 0 && (
        <table className="data-table" aria-label="Refused messages">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Type</th>
              <th scope="col">From</th>
              <th scope="col">Reason</th>
              <th scope="col">Detail</th>
              <th scope="col">
                <span className="visually-hidden">Case</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rejections.value.map((r) => (
              <tr key={r.id}>
                <td>{new Date(r.receivedAt).toLocaleString()}</td>
                <td>{r.type ?? '—'}</td>
                <td>{r.sender ?? '—'}</td>
                <td>
                  <span className="badge" data-tone="bad">
                    {reasonLabel(intl, r.reason, 'refused')}
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
                      Open case
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
