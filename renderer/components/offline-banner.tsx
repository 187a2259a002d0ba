import type { ConnectionState } from '../../shared/api/index.ts';

/** Says plainly when nothing leaves the machine, and that what the user does now is kept and sent later. */
export function OfflineBanner({ connection, pending }: { connection: ConnectionState | undefined; pending: number }) {
  if (!connection || connection.status === 'online') return null;
  if (connection.status === 'not-configured') return null;
  return (
    <div className="offline-banner" role="status" data-testid="offline-banner">
      <strong>Offline.</strong> You can read and answer cases;{' '}
      {pending === 1 ? '1 message waits' : `${pending} messages wait`} in the outbox and will be sent in order when the
      connection returns.{connection.reason ? ` (${connection.reason})` : ''}
    </div>
  );
}
