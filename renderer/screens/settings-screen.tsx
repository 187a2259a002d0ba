import { COMMANDS, type RegionState, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { AuditLogPanel } from '../components/audit-log-panel.tsx';
import { CertificateList } from '../components/certificate-list.tsx';
import { CertificatesPanel } from '../components/certificates-panel.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { EnrolmentForm } from '../components/enrolment-form.tsx';
import { LockSettings } from '../components/lock-screen.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { LANGUAGE_CHOICES, LOCALES, type LanguageChoice } from '../../shared/i18n/index.ts';
import { TrustStep } from './first-run-screen.tsx';

/** The connection, the certificates and their validity, the lock, and the audit log with its check. */
export function SettingsScreen({
  api,
  setup,
  region,
}: {
  api: RtsApi;
  setup: SetupState;
  region: RegionState | undefined;
}) {
  const t = useT();
  return (
    <div className="screen-stack">
      <h2 className="screen-title">{t('settings.title')}</h2>
      <section className="panel" aria-labelledby="settings-connection">
        <h3 id="settings-connection">{t('settings.connection')}</h3>
        {region && <RegionSwitch api={api} region={region} />}
        {/* Keyed by the profile: after an enrolment file changed it, the form shows the new one (TLS included). */}
        {region?.active !== 'demo' && (
          <ConnectionForm
            key={JSON.stringify(setup.profile ?? null)}
            api={api}
            profile={setup.profile}
            requirePassword={!setup.hasBrokerPassword}
          />
        )}
        {region?.active !== 'demo' && (
          <details className="alternative">
            <summary>{t('settings.replaceFromEnrolment')}</summary>
            <EnrolmentForm api={api} setup={setup} idPrefix="settings-enrol" />
          </details>
        )}
      </section>
      <section className="panel" aria-labelledby="settings-identity">
        <h3 id="settings-identity">{t('settings.regionCertificates')}</h3>
        {setup.identity && (
          <CertificateList
            certificates={[
              ...setup.identity.trust.anchors,
              ...(setup.identity.trust.hub ? [setup.identity.trust.hub] : []),
            ]}
            label={t('settings.certificates')}
          />
        )}
        <p className="hint">
          {setup.registration.reason
            ? t('settings.registrationWithReason', {
                state: setup.registration.state,
                reason: setup.registration.reason,
              })
            : t('settings.registration', { state: setup.registration.state })}
        </p>
      </section>
      {setup.identity && (
        <section className="panel" aria-labelledby="settings-practitioner-certificates">
          <h3 id="settings-practitioner-certificates">{t('settings.yourCertificates')}</h3>
          <CertificatesPanel api={api} identity={setup.identity} />
        </section>
      )}
      {region?.active !== 'demo' && (
        <TrustStep api={api} done={setup.identity?.trust.hub !== undefined} setup={setup} title={t('settings.trust')} />
      )}
      <section className="panel" aria-labelledby="settings-lock">
        <h3 id="settings-lock">{t('settings.lock')}</h3>
        <LockSettings api={api} setup={setup} idleMinutes />
      </section>
      <section className="panel" aria-labelledby="settings-language">
        <h3 id="settings-language">{t('settings.language')}</h3>
        <LanguageSetting api={api} setup={setup} />
      </section>
      <section className="panel" aria-labelledby="settings-inbox">
        <h3 id="settings-inbox">{t('settings.inbox')}</h3>
        <EscalationSetting api={api} setup={setup} />
      </section>
      <section className="panel" aria-labelledby="settings-audit">
        <h3 id="settings-audit">{t('settings.auditLog')}</h3>
        <AuditLogPanel api={api} />
      </section>
    </div>
  );
}

/** How long a STAT, ASAP or urgent request may wait unaccepted before the inbox escalates it. */
function EscalationSetting({ api, setup }: { api: RtsApi; setup: SetupState }) {
  const t = useT();
  const setUi = useAction(api, COMMANDS.setUiPreferences);
  return (
    <div className="form-grid">
      <label htmlFor="escalate-minutes">{t('settings.escalateAfter')}</label>
      <input
        id="escalate-minutes"
        type="number"
        min={1}
        max={240}
        defaultValue={setup.ui.escalateAfterMinutes}
        onBlur={(e) => {
          const minutes = Number(e.target.value);
          if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 240)
            void setUi.run({ escalateAfterMinutes: minutes });
        }}
      />
      <p className="hint">{t('settings.escalateHint')}</p>
    </div>
  );
}

/** Each language in its own words, so that a user who cannot read the current one still finds hers. */
const ownName = (locale: string) => new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;

/** The language of the app: the OS's (the default) or one of the region's four; remembered in the settings. */
function LanguageSetting({ api, setup }: { api: RtsApi; setup: SetupState }) {
  const t = useT();
  const setUi = useAction(api, COMMANDS.setUiPreferences);
  // The pseudo-locale is listed only while it is the one in use (a test or a translator chose it).
  const choices = LANGUAGE_CHOICES.filter(
    (c) => c === 'system' || (LOCALES as readonly string[]).includes(c) || c === setup.ui.language,
  );
  return (
    <div className="form-grid">
      <label htmlFor="ui-language">{t('settings.languageLabel')}</label>
      <select
        id="ui-language"
        value={setup.ui.language}
        onChange={(e) => void setUi.run({ language: e.target.value as LanguageChoice })}
      >
        {choices.map((choice) => (
          <option key={choice} value={choice} lang={choice === 'system' ? undefined : choice}>
            {choice === 'system' ? t('settings.languageSystem') : ownName(choice)}
          </option>
        ))}
      </select>
    </div>
  );
}
