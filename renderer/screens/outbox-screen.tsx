import { useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS, type CommandOutput } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useAction, useCommand, useEvent } from '../hooks/use-command.ts';
import { formatDateTime } from '../components/case-format.ts';
import type { Navigate } from '../navigation.ts';

type OutboxState = CommandOutput<typeof COMMANDS.getOutboxState>;

/** What waits to leave this workstation (a request not yet sent can be withdrawn), and what could not be sent (with why). */
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
          <WaitingList api={api} navigate={navigate} waiting={value.waiting} onChange={outbox.reload} />
          {value.waiting.length > 0 &&
            value.waiting.length < 100 &&
            value.pending + value.inFlight > value.waiting.length && (
              <p className="hint">
                The others are the workstation’s own messages (its registration, receipts), sent the same way.
              </p>
            )}
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

const TYPE_WORDS: Readonly<Record<string, string>> = {
  'consult.request': 'Consultation request',
  'consult.status': 'Step of a case',
  'consult.report': 'Report',
};

/** The consult messages still waiting to leave, each with its case; a request not yet sent can be taken back. */
function WaitingList({
  api,
  navigate,
  waiting,
  onChange,
}: {
  api: RtsApi;
  navigate: Navigate;
  waiting: OutboxState['waiting'];
  onChange: () => void;
}) {
  const intl = useIntl();
  const withdraw = useAction(api, COMMANDS.withdrawMessage);
  const [withdrawn, setWithdrawn] = useState<string>();
  const take = async (messageId: string, caseId: string) => {
    if (await withdraw.run({ messageId })) {
      setWithdrawn(caseId);
      onChange();
    }
  };
  return (
    <>
      {waiting.length > 0 && (
        <table className="data-table" aria-label="Messages waiting to be sent">
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Queued</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {waiting.map((w) => (
              <tr key={w.messageId} data-testid="outbox-waiting">
                <td>{TYPE_WORDS[w.type] ?? w.type}</td>
                <td>{formatDateTime(intl, w.at)}</td>
                <td>
                  <button type="button" className="link" onClick={() => navigate({ name: 'case', caseId: w.caseId })}>
                    Open case
                  </button>{' '}
                  {w.withdrawable && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={withdraw.busy}
                      onClick={() => void take(w.messageId, w.caseId)}
                    >
                      Withdraw
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorMessage error={withdraw.error} />
      {withdrawn && (
        <p role="status" className="notice">
          Withdrawn before it was sent: the expert never received it, and the case is cancelled here.{' '}
          <button
            type="button"
            className="link"
            onClick={() => navigate({ name: 'compose', from: { caseId: withdrawn, take: 'request' } })}
          >
            Edit and send again
          </button>
        </p>
      )}
    </>
  );
}
