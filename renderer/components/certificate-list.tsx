import { useIntl, type IntlShape } from 'react-intl';
import type { SetupState } from '../../shared/api/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import { useT } from '../i18n/index.ts';

type CertificateStatus = NonNullable<SetupState['identity']>['certificates'][number];

const STATE_WORDS: Readonly<Record<CertificateStatus['state'], MessageId>> = {
  valid: 'settings.certificate.state.valid',
  expiring: 'settings.certificate.state.expiring',
  expired: 'settings.certificate.state.expired',
  'not-yet-valid': 'settings.certificate.state.notYetValid',
  revoked: 'settings.certificate.state.revoked',
  untrusted: 'settings.certificate.state.untrusted',
};
/** A certificate's use in a label or a choice (Signing, Encryption …); the setup steps' choices take them too. */
export const USE_WORDS: Readonly<Record<CertificateStatus['use'], MessageId>> = {
  signing: 'settings.certificate.use.signing',
  encryption: 'settings.certificate.use.encryption',
  hub: 'settings.certificate.use.hub',
  anchor: 'settings.certificate.use.anchor',
};

/** A day (a certificate's or a revocation list's end of validity) as the user's language writes it. */
export function formatDay(intl: IntlShape, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return intl.formatDate(date, { year: 'numeric', month: 'short', day: 'numeric' });
}

/**
 * What is wrong with a certificate, in the user's words, from its state and dates (the core's `problem` is English
 * for the log); nothing for a valid one.
 */
export function certificateProblem(
  intl: IntlShape,
  c: Pick<CertificateStatus, 'state' | 'notBefore' | 'notAfter'>,
  now = new Date(),
): string | undefined {
  switch (c.state) {
    case 'valid':
      return undefined;
    case 'expiring': {
      const days = Math.max(1, Math.ceil((Date.parse(c.notAfter) - now.getTime()) / 86_400_000));
      return intl.formatMessage({ id: 'settings.certificateProblem.expiring' }, { days });
    }
    case 'expired':
      return intl.formatMessage({ id: 'settings.certificateProblem.expired' }, { date: formatDay(intl, c.notAfter) });
    case 'not-yet-valid':
      return intl.formatMessage(
        { id: 'settings.certificateProblem.notYetValid' },
        { date: formatDay(intl, c.notBefore) },
      );
    case 'revoked':
      return intl.formatMessage({ id: 'settings.certificateProblem.revoked' });
    case 'untrusted':
      return intl.formatMessage({ id: 'settings.certificateProblem.untrusted' });
  }
}

/** Certificates with who they name, until when, and whether they hold. */
export function CertificateList({
  certificates,
  label,
}: {
  certificates: readonly CertificateStatus[];
  label: string;
}) {
  const t = useT();
  const intl = useIntl();
  return (
    <table className="data-table certificate-list" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">{t('settings.certificate.column.use')}</th>
          <th scope="col">{t('settings.certificate.column.subject')}</th>
          <th scope="col">{t('settings.certificate.column.validUntil')}</th>
          <th scope="col">{t('settings.certificate.column.state')}</th>
        </tr>
      </thead>
      <tbody>
        {certificates.map((c) => (
          <tr key={`${c.use}-${c.serialNumber}`}>
            <td>{t(USE_WORDS[c.use])}</td>
            <td>{c.subject}</td>
            <td>{formatDay(intl, c.notAfter)}</td>
            <td>
              <span className="badge" data-tone={c.state === 'valid' ? 'ok' : c.state === 'expiring' ? 'warn' : 'bad'}>
                {t(STATE_WORDS[c.state])}
              </span>
              {c.state !== 'valid' && <span className="hint"> {certificateProblem(intl, c)}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
