import type { SetupState } from '../../shared/api/index.ts';

type Trust = NonNullable<SetupState['identity']>['trust'];

/** `2026-12-07 14:00 UTC`: the same wherever the workstation is. */
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/**
 * Says, before it happens, that the region's revocation list runs out, and what to do: a stale list stops every
 * message from being checked (they wait, parked at the workstation, until a new list arrives).
 */
export function CrlBanner({ trust, waiting }: { trust: Trust | undefined; waiting?: number }) {
  if (!trust?.crlState || trust.crlState === 'current') return null;
  const date = trust.crlNextUpdate ? when(trust.crlNextUpdate) : undefined;
  const what =
    trust.crlState === 'expiring'
      ? `The region's revocation list expires on ${date ?? 'a date it does not name'}`
      : `The region's revocation list expired${date ? ` on ${date}` : ''}; no message can be checked until a new one arrives`;
  return (
    <div className="offline-banner" role="status" data-testid="crl-banner" data-state={trust.crlState}>
      <strong>{trust.crlState === 'expiring' ? 'Revocation list expiring.' : 'Revocation list out of date.'}</strong>{' '}
      {what}; connect to the region to receive a new one, or ask the administrator.
      {waiting !== undefined &&
        waiting > 0 &&
        ` ${waiting === 1 ? '1 message waits' : `${waiting} messages wait`} here for it; none is lost.`}
    </div>
  );
}
