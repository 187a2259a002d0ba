import type { RegionState, SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { AuditLogPanel } from '../components/audit-log-panel.tsx';
import { CertificateList } from '../components/certificate-list.tsx';
import { CertificatesPanel } from '../components/certificates-panel.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { EnrolmentForm } from '../components/enrolment-form.tsx';
import { LockSettings } from '../components/lock-screen.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
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
      <section className="panel" aria-labelledby="settings-audit">
        <h3 id="settings-audit">Audit log</h3>
        <AuditLogPanel api={api} />
      </section>
    </div>
  );
}
