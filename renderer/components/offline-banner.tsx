import { useIntl } from 'react-intl';
import type { ConnectionState } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';
import { connectionReason } from './error-words.ts';

/** Says plainly when nothing leaves the machine, and that what the user does now is kept and sent later. */
export function OfflineBanner({ connection, pending }: { connection: ConnectionState | undefined; pending: number }) {
  const t = useT();
  const intl = useIntl();
  if (!connection || connection.status === 'online') return null;
  if (connection.status === 'not-configured') return null;
  const reason = connectionReason(intl, connection);
  return (
    <div className="offline-banner" role="status" data-testid="offline-banner">
      {intl.formatMessage(
        { id: 'frame.offline.banner' },
        { count: pending, strong: (chunks) => <strong>{chunks}</strong> },
      )}
      {reason && ' '}
      {reason && <span lang={reason.lang}>{t('frame.offline.reason', { reason: reason.text })}</span>}
    </div>
  );
}
