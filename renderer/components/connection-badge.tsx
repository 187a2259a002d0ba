import type { ConnectionState, ConnectionStatus } from '../../shared/api/index.ts';

export const CONNECTION_LABELS: Record<ConnectionStatus, string> = {
  'not-configured': 'Not configured',
  connecting: 'Connecting…',
  online: 'Online',
  degraded: 'Degraded',
  offline: 'Offline',
};

/** Always visible in the title bar: a clinician must know at a glance whether what they send leaves the machine. */
export function ConnectionBadge({ state }: { state: ConnectionState | undefined }) {
  const status = state?.status;
  const label = status ? CONNECTION_LABELS[status] : 'Starting…';
  return (
    <div
      className="connection-badge"
      data-status={status ?? 'unknown'}
      role="status"
      aria-live="polite"
      aria-label={`Broker connection: ${label}`}
    >
      <span className="connection-dot" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
