import type { ConnectionState, SetupState } from '../../shared/api/index.ts';
import type { IntlShape } from 'react-intl';
import { waitingText } from './case-format.ts';

/**
 * What could make the workstation fail a clinician soon, said before it does, with what to do (issue #21 item 8).
 * Pure: the banner (warnings-banner.tsx) shows the list above every screen, and each screen where one matters shows
 * it again in its own words (`warningsFor`); the thresholds are here and tested.
 */
export interface Warning {
  readonly id: 'certificate-expiring' | 'certificate-expired' | 'directory-stale' | 'broker-unreachable';
  readonly tone: 'warn' | 'bad';
  readonly title: string;
  readonly text: string;
  /** Which of the user's certificates a certificate warning is about. */
  readonly use?: 'signing' | 'encryption';
  /** A certificate warning's text as said beside the certificates (Settings → Your certificates): "below". */
  readonly textBelow?: string;
}

/** The screens where a warning matters: the directory's search, Settings → Your certificates, the request form. */
export type WarningPlace = 'directory' | 'certificates' | 'compose';

const DAY_MS = 86_400_000;
/** Own certificates are announced this long before they expire: renewal takes the region's CA a while. */
export const CERTIFICATE_WARNING_DAYS = 30;
/** A directory not brought up to date for this long may list experts who left and miss those who joined. */
export const DIRECTORY_STALE_MS = DAY_MS;
/** A broker that has not answered for this long is more than a blip: the user should know and tell someone. */
export const BROKER_UNREACHABLE_MS = 15 * 60_000;

/** A certificate's date, as the user's language writes a day. */
const day = (intl: IntlShape, iso: string) => intl.formatDate(iso, { year: 'numeric', month: 'short', day: 'numeric' });

export function workstationWarnings(input: {
  readonly intl: IntlShape;
  readonly certificates: NonNullable<SetupState['identity']>['certificates'] | undefined;
  /** When the directory mirror was last known current (the directory state's `asOf`, else `appliedAt`). */
  readonly directoryAsOf: string | undefined;
  /** The connection, its `since` being when the region was left (`unreachableSince`) while it is not online. */
  readonly connection: ConnectionState | undefined;
  readonly now: Date;
}): Warning[] {
  const warnings: Warning[] = [];
  const now = input.now.getTime();
  const { intl } = input;
  for (const certificate of input.certificates ?? []) {
    if (certificate.use !== 'signing' && certificate.use !== 'encryption') continue;
    const left = new Date(certificate.notAfter).getTime() - now;
    const date = day(intl, certificate.notAfter);
    if (left <= 0) {
      // `where`: Settings → Your certificates, or "below" when said beside them (warningsFor).
      const text = (where: 'settings' | 'below') =>
        intl.formatMessage(
          {
            id:
              certificate.use === 'signing'
                ? 'frame.warning.expired.signingText'
                : 'frame.warning.expired.encryptionText',
          },
          { date, where },
        );
      warnings.push({
        id: 'certificate-expired',
        tone: 'bad',
        use: certificate.use,
        title: intl.formatMessage({ id: 'frame.warning.expired.title' }, { use: certificate.use }),
        text: text('settings'),
        textBelow: text('below'),
      });
    } else if (left <= CERTIFICATE_WARNING_DAYS * DAY_MS) {
      const days = Math.ceil(left / DAY_MS);
      const text = (where: 'settings' | 'below') =>
        intl.formatMessage({ id: 'frame.warning.expiring.text' }, { date, where });
      warnings.push({
        id: 'certificate-expiring',
        tone: 'warn',
        use: certificate.use,
        title: intl.formatMessage({ id: 'frame.warning.expiring.title' }, { use: certificate.use, days }),
        text: text('settings'),
        textBelow: text('below'),
      });
    }
  }
  if (input.directoryAsOf && now - new Date(input.directoryAsOf).getTime() > DIRECTORY_STALE_MS) {
    warnings.push({
      id: 'directory-stale',
      tone: 'warn',
      title: intl.formatMessage({ id: 'frame.warning.directoryStale.title' }),
      text: intl.formatMessage(
        { id: 'frame.warning.directoryStale.text' },
        { date: day(intl, input.directoryAsOf), waited: waitingText(intl, input.directoryAsOf, input.now) },
      ),
    });
  }
  const connection = input.connection;
  if (
    connection &&
    (connection.status === 'offline' || connection.status === 'connecting' || connection.status === 'degraded') &&
    now - new Date(connection.since).getTime() > BROKER_UNREACHABLE_MS
  ) {
    warnings.push({
      id: 'broker-unreachable',
      tone: 'bad',
      title: intl.formatMessage(
        { id: 'frame.warning.brokerUnreachable.title' },
        { waited: waitingText(intl, connection.since, input.now) },
      ),
      text: connection.host
        ? intl.formatMessage({ id: 'frame.warning.brokerUnreachable.text' }, { host: connection.host })
        : intl.formatMessage({ id: 'frame.warning.brokerUnreachable.textNoHost' }),
    });
  }
  return warnings;
}

/**
 * The warnings that matter at one place, said for what the user does there: the directory's results may be out of
 * date; the certificates panel names each expiring or expired certificate; the request form says that sending fails
 * without a signing certificate and that a request waits in the Outbox while the region cannot be reached.
 */
export function warningsFor(intl: IntlShape, place: WarningPlace, warnings: readonly Warning[]): Warning[] {
  return warnings.flatMap((w): Warning[] => {
    switch (place) {
      case 'directory':
        return w.id === 'directory-stale'
          ? [
              {
                ...w,
                title: intl.formatMessage({ id: 'frame.warning.directoryResults' }),
                text: `${w.title} ${w.text}`,
              },
            ]
          : [];
      case 'certificates':
        return w.id === 'certificate-expiring' || w.id === 'certificate-expired'
          ? [{ ...w, text: w.textBelow ?? w.text }]
          : [];
      case 'compose':
        if (w.id === 'certificate-expired' && w.use === 'signing')
          return [
            {
              ...w,
              title: intl.formatMessage({ id: 'frame.warning.compose.signingExpiredTitle' }),
              text: intl.formatMessage({ id: 'frame.warning.compose.signingExpiredText' }),
            },
          ];
        if (w.id === 'broker-unreachable')
          return [
            { ...w, tone: 'warn', text: intl.formatMessage({ id: 'frame.warning.compose.brokerUnreachableText' }) },
          ];
        return [];
    }
  });
}
