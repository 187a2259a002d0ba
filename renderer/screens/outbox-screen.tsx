import { COMMANDS, EVENTS } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';

/** What waits to leave this workstation, and what could not be sent (with why). */
export function OutboxScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const outbox = useCommand(api, COMMANDS.getOutboxState, undefined);
  useEvent(api, EVENTS.outboxChanged, outbox.reload);
  const value = outbox.value;
  return (
    <div className="screen-stack">
      <h2 className="screen-title">Outbox</h2>
      <ErrorMessage error={outbox.error} />
      {value && (
        <section className="panel" aria-label="Outbox state">
          <dl className="facts">
            <dt>Waiting to be sent</dt>
            <dd data-testid="outbox-pending">{value.pending}</dd>
            <dt>Being sent</dt>
            <dd>{value.inFlight}</dd>
            <dt>Could not be sent</dt>
            <dd data-testid="outbox-failed">{value.failed}</dd>
          </dl>
          {value.failures.length > 0 && (
            <table className="data-table" aria-label="Messages that could not be sent">
              <thead>
                <tr>
                  <th scope="col">Message</th>
                  <th scope="col">Why</th>
                  <th scope="col">Queued</th>
                  <th scope="col">
                    <span className="visually-hidden">Case</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {value.failures.map((f) => (
                  <tr key={f.messageId}>
                    <td>{f.type}</td>
                    <td>{f.reason}</td>
                    <td>{new Date(f.at).toLocaleString()}</td>
                    <td>
                      {f.caseId && (
                        <button
                          type="button"
                          className="link"
                          onClick={() => navigate({ name: 'case', caseId: f.caseId! })}
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
        </section>
      )}
    </div>
  );
}
