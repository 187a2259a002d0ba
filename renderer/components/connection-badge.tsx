import type { ConnectionState, ConnectionStatus } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import { useT } from '../i18n/index.ts';

export const CONNECTION_LABELS: Readonly<Record<ConnectionStatus, MessageId>> = {
  'not-configured': 'frame.connection.notConfigured',
  connecting: 'frame.connection.connecting',
  online: 'frame.connection.online',
  degraded: 'frame.connection.degraded',
  offline: 'frame.connection.offline',
};

/** Always visible in the title bar: a clinician must know at a glance whether what they send leaves the machine. */
export function ConnectionBadge({ state }: { state: ConnectionState | undefined }) {
  const t = useT();
  const status = state?.status;
  const label = t(status ? CONNECTION_LABELS[status] : 'frame.connection.starting');
  return (
    <div
      className="connection-badge"
      data-status={status ?? 'unknown'}
      role="status"
      aria-live="polite"
      aria-label={t('frame.connection.badgeLabel', { status: label })}
    >
      <span className="connection-dot" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
