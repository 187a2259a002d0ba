import { useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS, type CommandOutput } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useAction, useCommand, useEvent } from '../hooks/use-command.ts';
import { formatDateTime } from '../components/case-format.ts';
import type { Navigate } from '../navigation.ts';
import { useT } from '../i18n/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';

type OutboxState = CommandOutput<typeof COMMANDS.getOutboxState>;

/** What waits to leave this workstation (a request not yet sent can be withdrawn), and what could not be sent (with why). */
export function OutboxScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const t = useT();
  const intl = useIntl();
  const outbox = useCommand(api, COMMANDS.getOutboxState, undefined);
  useEvent(api, EVENTS.outboxChanged, outbox.reload);
  const value = outbox.value;
  return (
    <div className="screen-stack">
      <h2 className="screen-title">{t('inbox.outbox.title')}</h2>
      <ErrorMessage error={outbox.error} />
      {value && (
        <section className="panel" aria-label={t('inbox.outbox.stateLabel')}>
          <dl className="facts">
            <dt>{t('inbox.outbox.pending')}</dt>
            <dd data-testid="outbox-pending">{intl.formatNumber(value.pending)}</dd>
            <dt>{t('inbox.outbox.inFlight')}</dt>
            <dd>{intl.formatNumber(value.inFlight)}</dd>
            <dt>{t('inbox.outbox.failed')}</dt>
            <dd data-testid="outbox-failed">{intl.formatNumber(value.failed)}</dd>
          </dl>
          <WaitingList api={api} navigate={navigate} waiting={value.waiting} onChange={outbox.reload} />
          {value.waiting.length > 0 &&
            value.waiting.length < 100 &&
            value.pending + value.inFlight > value.waiting.length && <p className="hint">{t('inbox.outbox.others')}</p>}
          {value.failures.length > 0 && (
            <table className="data-table" aria-label={t('inbox.outbox.failuresLabel')}>
              <thead>
                <tr>
                  <th scope="col">{t('inbox.outbox.message')}</th>
                  <th scope="col">{t('inbox.outbox.why')}</th>
                  <th scope="col">{t('inbox.outbox.queued')}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t('inbox.caseColumn')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {value.failures.map((f) => (
                  <tr key={f.messageId}>
                    <td>{f.type}</td>
                    <td>{f.reason}</td>
                    <td>{formatDateTime(intl, f.at)}</td>
                    <td>
                      {f.caseId && (
                        <button
                          type="button"
                          className="link"
                          onClick={() => navigate({ name: 'case', caseId: f.caseId! })}
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
        </section>
      )}
    </div>
  );
}

const TYPE_WORDS: Readonly<Record<string, MessageId>> = {
  'consult.request': 'inbox.outbox.type.request',
  'consult.status': 'inbox.outbox.type.status',
  'consult.report': 'inbox.outbox.type.report',
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
  const t = useT();
  const typeWords = (type: string) => {
    const id = TYPE_WORDS[type];
    return id ? t(id) : type;
  };
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
        <table className="data-table" aria-label={t('inbox.outbox.waitingLabel')}>
          <thead>
            <tr>
              <th scope="col">{t('inbox.outbox.message')}</th>
              <th scope="col">{t('inbox.outbox.queued')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('inbox.outbox.actions')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {waiting.map((w) => (
              <tr key={w.messageId} data-testid="outbox-waiting">
                <td>{typeWords(w.type)}</td>
                <td>{formatDateTime(intl, w.at)}</td>
                <td>
                  <button type="button" className="link" onClick={() => navigate({ name: 'case', caseId: w.caseId })}>
                    {t('inbox.openCase')}
                  </button>{' '}
                  {w.withdrawable && (
                    <button
                      type="button"
                      className="secondary"
                      disabled={withdraw.busy}
                      onClick={() => void take(w.messageId, w.caseId)}
                    >
                      {t('inbox.outbox.withdraw')}
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
          {t('inbox.outbox.withdrawn')}{' '}
          <button
            type="button"
            className="link"
            onClick={() => navigate({ name: 'compose', from: { caseId: withdrawn, take: 'request' } })}
          >
            {t('inbox.outbox.editAgain')}
          </button>
        </p>
      )}
    </>
  );
}
