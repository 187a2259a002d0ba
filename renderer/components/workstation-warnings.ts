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

/** Where certificates are renewed: said as "below" there. */
const IN_SETTINGS = 'in Settings → Your certificates';
const USE_WORDS = { signing: 'signing', encryption: 'encryption' } as const;
const day = (iso: string) => iso.slice(0, 10);

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
  for (const certificate of input.certificates ?? []) {
    if (certificate.use !== 'signing' && certificate.use !== 'encryption') continue;
    const left = new Date(certificate.notAfter).getTime() - now;
    const use = USE_WORDS[certificate.use];
    if (left <= 0) {
      warnings.push({
        id: 'certificate-expired',
        tone: 'bad',
        use: certificate.use,
        title: `Your ${use} certificate has expired.`,
        text:
          certificate.use === 'signing'
            ? `Since ${day(certificate.notAfter)} nothing you send can be signed. Renew it ${IN_SETTINGS}, or ask the region's administrator.`
            : `Since ${day(certificate.notAfter)} colleagues cannot encrypt new cases to you. Renew it ${IN_SETTINGS}, or ask the region's administrator.`,
      });
    } else if (left <= CERTIFICATE_WARNING_DAYS * DAY_MS) {
      const days = Math.ceil(left / DAY_MS);
      warnings.push({
        id: 'certificate-expiring',
        tone: 'warn',
        use: certificate.use,
        title: `Your ${use} certificate expires in ${days === 1 ? '1 day' : `${days} days`}.`,
        text: `It is valid until ${day(certificate.notAfter)}. Renew it now ${IN_SETTINGS}: the region's CA must issue the new one, and the directory must list it, before the old one runs out.`,
      });
    }
  }
  if (input.directoryAsOf && now - new Date(input.directoryAsOf).getTime() > DIRECTORY_STALE_MS) {
    warnings.push({
      id: 'directory-stale',
      tone: 'warn',
      title: 'The directory has not been brought up to date for over a day.',
      text: `It is as of ${day(input.directoryAsOf)} (${waitingText(input.intl, input.directoryAsOf, input.now)} ago): experts who joined since are missing and some listed may have left. Connect to the region; it catches up by itself.`,
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
      title: `No connection to the region for ${waitingText(input.intl, connection.since, input.now)}.`,
      text: `Nothing is sent or received meanwhile (what you do is kept and sent later). Check this computer's network; if it works, tell the region's administrator that ${connection.host ?? 'the broker'} does not answer.`,
    });
  }
  return warnings;
}

/**
 * The warnings that matter at one place, said for what the user does there: the directory's results may be out of
 * date; the certificates panel names each expiring or expired certificate; the request form says that sending fails
 * without a signing certificate and that a request waits in the Outbox while the region cannot be reached.
 */
export function warningsFor(place: WarningPlace, warnings: readonly Warning[]): Warning[] {
  return warnings.flatMap((w): Warning[] => {
    switch (place) {
      case 'directory':
        return w.id === 'directory-stale'
          ? [{ ...w, title: 'These results may be out of date.', text: `${w.title} ${w.text}` }]
          : [];
      case 'certificates':
        return w.id === 'certificate-expiring' || w.id === 'certificate-expired'
          ? [{ ...w, text: w.text.replace(IN_SETTINGS, 'below') }]
          : [];
      case 'compose':
        if (w.id === 'certificate-expired' && w.use === 'signing')
          return [
            {
              ...w,
              title: 'Sending will fail: your signing certificate has expired.',
              text: `A request cannot be signed, so it cannot be sent. Renew the certificate ${IN_SETTINGS}, or ask the region's administrator.`,
            },
          ];
        if (w.id === 'broker-unreachable')
          return [
            {
              ...w,
              tone: 'warn',
              text: 'A request you send now waits in the Outbox and goes out by itself when the connection returns; for an urgent case, also call the expert.',
            },
          ];
        return [];
    }
  });
}
