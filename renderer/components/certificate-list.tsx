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
              {c.problem && <span className="hint"> {c.problem}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
