import { useT } from '../i18n/index.ts';

/**
 * Marks a directory row whose certificates this workstation has not judged yet, or found invalid (the background check
 * of main/node/directory/certificate-checks.ts). Valid ones are not marked: that is every expert a region lists.
 */
export function CertificateCheckBadge({
  expert,
}: {
  expert: { readonly certificates?: 'unchecked' | 'failed'; readonly certificateProblem?: string };
}) {
  const t = useT();
  if (expert.certificates === 'unchecked')
    return (
      <span className="badge" data-testid="certificates-unchecked" title={t('directory.certificates.uncheckedTitle')}>
        {t('directory.certificates.unchecked')}
      </span>
    );
  if (expert.certificates === 'failed')
    return (
      <span
        className="badge"
        data-tone="bad"
        data-testid="certificates-failed"
        title={t('directory.certificates.failedTitle', { problem: expert.certificateProblem ?? '' })}
      >
        {t('directory.certificates.failed')}
      </span>
    );
  return null;
}
