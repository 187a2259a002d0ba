import { useIntl } from 'react-intl';
import type { ConnectionState } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';
import { CONNECTION_LABELS } from './connection-badge.tsx';
import { connectionReason } from './error-words.ts';

/** What an administrator needs to diagnose the link to the region: where, since when, and why. */
export function ConnectionPanel({ state }: { state: ConnectionState | undefined }) {
  const t = useT();
  const intl = useIntl();
  const reason = state && connectionReason(intl, state);
  return (
    <section className="panel" aria-labelledby="connection-heading">
      <h2 id="connection-heading">{t('frame.connectionPanel.title')}</h2>
      {state ? (
        <dl className="facts">
          <dt>{t('frame.connectionPanel.status')}</dt>
          <dd data-testid="connection-status">{t(CONNECTION_LABELS[state.status])}</dd>
          <dt>{t('frame.connectionPanel.broker')}</dt>
          <dd data-testid="connection-host">{state.host ?? '—'}</dd>
          <dt>{t('frame.connectionPanel.since')}</dt>
          <dd>{intl.formatDate(state.since, { dateStyle: 'medium', timeStyle: 'medium' })}</dd>
          {reason && (
            <>
              <dt>{t('frame.connectionPanel.reason')}</dt>
              <dd data-testid="connection-reason" lang={reason.lang}>
                {reason.text}
              </dd>
            </>
          )}
        </dl>
      ) : (
        <p>{t('frame.connectionPanel.asking')}</p>
      )}
    </section>
  );
}
