import { useId, useMemo } from 'react';
import { useIntl, type IntlShape } from 'react-intl';
import { COMMANDS, type DirectoryState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { CertificateList } from '../components/certificate-list.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { LookAlikeWarning } from '../components/look-alike.tsx';
import { useCommand } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import type { Navigate } from '../navigation.ts';

/** A language's name in the user's language (`nb` → "Norwegian Bokmål", "norsk bokmål", "书面挪威语"); else its code. */
export function languageNamer(intl: IntlShape): (code: string) => string {
  const names = new Intl.DisplayNames([intl.locale], { type: 'language' });
  return (code) => {
    try {
      return names.of(code) ?? code;
    } catch {
      return code; // not a language tag
    }
  };
}

export function useLanguageName(): (code: string) => string {
  const intl = useIntl();
  return useMemo(() => languageNamer(intl), [intl]);
}

/** Names, codes and places as the user's language lists them ("a, b" in English, "a、b" in Chinese). */
export const listOf = (intl: IntlShape, items: readonly string[]) =>
  intl.formatList(items, { type: 'conjunction', style: 'narrow' });

/** What the directory holds: how many experts, which version, as of when, and what is loading or was refused. */
export function DirectoryStateLine({ state }: { state: DirectoryState | undefined }) {
  const t = useT();
  const intl = useIntl();
  if (!state) return <p className="directory-state">{t('directory.state.reading')}</p>;
  return (
    <div className="directory-state" aria-label={t('directory.state.label')} role="group">
      <span data-testid="directory-experts">{t('directory.count.experts', { count: state.experts })}</span>
      <span>
        {state.version === undefined
          ? t('directory.state.noVersion')
          : t('directory.state.version', { version: String(state.version) })}
      </span>
      {state.asOf && (
        <span>
          {t('directory.state.asOf', {
            date: intl.formatDate(state.asOf, { dateStyle: 'medium', timeStyle: 'short' }),
          })}
        </span>
      )}
      {state.snapshot && (
        <label>
          {t('directory.state.snapshot', { received: state.snapshot.received, count: state.snapshot.count })}
          <progress max={state.snapshot.count} value={state.snapshot.received} />
        </label>
      )}
      {state.certificatesUnchecked !== undefined && (
        <span data-testid="directory-unchecked">
          {t('directory.state.unchecked', { count: state.certificatesUnchecked })}
        </span>
      )}
      {state.behind && (
        <span className="badge" data-tone="warn">
          {t('directory.state.behind')}
        </span>
      )}
      {state.refused.length > 0 && (
        <details>
          <summary>
            <span className="badge" data-tone="bad">
              {t('directory.state.refused', { count: state.refused.length })}
            </span>
          </summary>
          <ul>
            {state.refused.map((r) => (
              <li key={r.practitionerId}>
                {r.practitionerId}: {r.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

/** One expert as the directory publishes them, their certificates, and the way to ask them. */
export function ExpertDetails({
  api,
  practitionerId,
  navigate,
}: {
  api: RtsApi;
  practitionerId: string;
  navigate: Navigate;
}) {
  const t = useT();
  const intl = useIntl();
  const languageName = useLanguageName();
  const expert = useCommand(api, COMMANDS.getExpert, { practitionerId });
  const headingId = useId();
  const e = expert.value;
  const canEncrypt = e?.certificates.some(
    (c) => c.use === 'encryption' && (c.state === 'valid' || c.state === 'expiring'),
  );
  return (
    <section className="panel expert-details" aria-labelledby={headingId}>
      <h3 id={headingId}>{e?.name ?? practitionerId}</h3>
      <ErrorMessage error={expert.error} />
      {e && (
        <>
          <dl className="facts">
            <dt>{t('directory.details.specialties')}</dt>
            <dd>{listOf(intl, e.specialties) || '—'}</dd>
            <dt>{t('directory.details.hospital')}</dt>
            <dd>{e.organization ?? '—'}</dd>
            <dt>{t('directory.details.city')}</dt>
            <dd>{e.city ?? '—'}</dd>
            <dt>{t('directory.details.languages')}</dt>
            <dd>{listOf(intl, e.languages.map(languageName)) || '—'}</dd>
            <dt>{t('directory.details.id')}</dt>
            <dd>{e.practitionerId}</dd>
            <dt>{t('directory.details.publishedBy')}</dt>
            <dd>{e.publisher}</dd>
            <dt>{t('directory.details.endpoints')}</dt>
            <dd>{e.endpoints.join(', ') || t('directory.details.noEndpoints')}</dd>
          </dl>
          <LookAlikeWarning practitionerId={e.practitionerId} lookAlikes={e.lookAlikes} />
          <button type="button" onClick={() => navigate({ name: 'compose', expertId: e.practitionerId })}>
            {t('directory.details.ask')}
          </button>
          {!canEncrypt && <p className="hint">{t('directory.details.noEncryption')}</p>}
          <CertificateList
            certificates={e.certificates}
            label={t('directory.details.certificates', { name: e.name })}
          />
        </>
      )}
    </section>
  );
}
