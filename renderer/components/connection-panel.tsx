import type { ConnectionState } from '../../shared/api/index.ts';
import { CONNECTION_LABELS } from './connection-badge.tsx';

function formatSince(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** What an administrator needs to diagnose the link to the region: where, since when, and why. */
export function ConnectionPanel({ state }: { state: ConnectionState | undefined }) {
  return (
    <section className="panel" aria-labelledby="connection-heading">
      <h2 id="connection-heading">Regional broker</h2>
      {state ? (
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="connection-status">{CONNECTION_LABELS[state.status]}</dd>
          <dt>Broker</dt>
          <dd data-testid="connection-host">{state.host ?? '—'}</dd>
          <dt>Since</dt>
          <dd>{formatSince(state.since)}</dd>
          {state.reason && (
            <>
              <dt>Reason</dt>
              <dd data-testid="connection-reason">{state.reason}</dd>
            </>
          )}
        </dl>
      ) : (
        <p>Asking the workstation core…</p>
      )}
    </section>
  );
}
