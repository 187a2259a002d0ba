import { useIntl } from 'react-intl';
import type { SetupState } from '../../shared/api/index.ts';
import { useT } from '../i18n/index.ts';

type Trust = NonNullable<SetupState['identity']>['trust'];

/**
 * Says, before it happens, that the region's revocation list runs out, and what to do: a stale list stops every
 * message from being checked (they wait, parked at the workstation, until a new list arrives).
 */
export function CrlBanner({ trust, waiting }: { trust: Trust | undefined; waiting?: number }) {
  const t = useT();
  const intl = useIntl();
  if (!trust?.crlState || trust.crlState === 'current') return null;
  // In UTC, named: the same moment wherever the workstation is.
  const date =
    trust.crlNextUpdate &&
    intl.formatDate(trust.crlNextUpdate, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: 'UTC',
      timeZoneName: 'short',
    });
  const expiring = trust.crlState === 'expiring';
  const what = expiring
    ? date
      ? t('frame.crl.expiring', { date })
      : t('frame.crl.expiringUndated')
    : date
      ? t('frame.crl.expired', { date })
      : t('frame.crl.expiredUndated');
  return (
    <div className="offline-banner" role="status" data-testid="crl-banner" data-state={trust.crlState}>
      <strong>{t(expiring ? 'frame.crl.expiringTitle' : 'frame.crl.expiredTitle')}</strong> {what}
      {waiting !== undefined && waiting > 0 && ` ${t('frame.crl.waiting', { count: waiting })}`}
    </div>
  );
}
