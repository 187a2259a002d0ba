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
  return (
    <div className="screen-stack">
      <h2 className="screen-title">Settings</h2>
      <section className="panel" aria-labelledby="settings-connection">
        <h3 id="settings-connection">Connection to the region</h3>
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
            <summary>Replace the region's trust and connection from a newer enrolment file</summary>
            <EnrolmentForm api={api} setup={setup} idPrefix="settings-enrol" />
          </details>
        )}
      </section>
      <section className="panel" aria-labelledby="settings-identity">
        <h3 id="settings-identity">The region's certificates</h3>
        {setup.identity && (
          <CertificateList
            certificates={[
              ...setup.identity.trust.anchors,
              ...(setup.identity.trust.hub ? [setup.identity.trust.hub] : []),
            ]}
            label="Certificates"
          />
        )}
        <p className="hint">
          Registration with the hub: {setup.registration.state}
          {setup.registration.reason ? ` (${setup.registration.reason})` : ''}.
        </p>
      </section>
      {setup.identity && (
        <section className="panel" aria-labelledby="settings-practitioner-certificates">
          <h3 id="settings-practitioner-certificates">Your certificates</h3>
          <CertificatesPanel api={api} identity={setup.identity} />
        </section>
      )}
      {region?.active !== 'demo' && (
        <TrustStep
          api={api}
          done={setup.identity?.trust.hub !== undefined}
          setup={setup}
          title="The region's trust (load its current CRL here)"
        />
      )}
      <section className="panel" aria-labelledby="settings-lock">
        <h3 id="settings-lock">Lock</h3>
        <LockSettings api={api} setup={setup} idleMinutes />
      </section>
      <section className="panel" aria-labelledby="settings-inbox">
        <h3 id="settings-inbox">Inbox</h3>
        <EscalationSetting api={api} setup={setup} />
      </section>
      <section className="panel" aria-labelledby="settings-audit">
        <h3 id="settings-audit">Audit log</h3>
        <AuditLogPanel api={api} />
      </section>
    </div>
  );
}

/** How long a STAT, ASAP or urgent request may wait unaccepted before the inbox escalates it. */
function EscalationSetting({ api, setup }: { api: RtsApi; setup: SetupState }) {
  const setUi = useAction(api, COMMANDS.setUiPreferences);
  return (
    <div className="form-grid">
      <label htmlFor="escalate-minutes">Escalate urgent requests not accepted within (minutes)</label>
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
      <p className="hint">
        Escalated requests are shown first, marked late, and announced by a notification that names no patient.
      </p>
    </div>
  );
}
