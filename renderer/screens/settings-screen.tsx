import { useState } from 'react';
import { COMMANDS } from '../../shared/api/channels.ts';
import type { RegionState, SetupState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { CertificateList } from '../components/certificate-list.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { LockSettings } from '../components/lock-screen.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
import { TrustStep } from './first-run-screen.tsx';
import { useAction } from '../hooks/use-command.ts';

/** The connection, the certificates and their validity, the lock, and the audit log check. */
export function SettingsScreen({ api, setup, region }: { api: RtsApi; setup: SetupState; region: RegionState | undefined }) {
  const audit = useAction(api, COMMANDS.checkAuditLog);
  const [auditResult, setAuditResult] = useState<string>();
  return (
    <div className="screen-stack">
      <h2 className="screen-title">Settings</h2>
      <section className="panel" aria-labelledby="settings-connection">
        <h3 id="settings-connection">Connection to the region</h3>
        {region && <RegionSwitch api={api} region={region} />}
        {region?.active !== 'demo' && <ConnectionForm api={api} profile={setup.profile} requirePassword={!setup.hasBrokerPassword} />}
      </section>
      <section className="panel" aria-labelledby="settings-identity">
        <h3 id="settings-identity">Certificates</h3>
        {setup.identity && <CertificateList certificates={[...setup.identity.certificates, ...setup.identity.trust.anchors, ...(setup.identity.trust.hub ? [setup.identity.trust.hub] : [])]} label="Certificates" />}
        <p className="hint">Registration with the hub: {setup.registration.state}{setup.registration.reason ? ` (${setup.registration.reason})` : ''}.</p>
      </section>
      {region?.active !== 'demo' && <TrustStep api={api} done={setup.identity?.trust.hub !== undefined} setup={setup} title="The region's trust (load its current CRL here)" />}
      <section className="panel" aria-labelledby="settings-lock">
        <h3 id="settings-lock">Lock</h3>
        <LockSettings api={api} setup={setup} idleMinutes />
      </section>
      <section className="panel" aria-labelledby="settings-audit">
        <h3 id="settings-audit">Audit log</h3>
        <p className="hint">Every opening, decryption, signature and sending is logged in a hash chain; the check finds any entry changed, removed or inserted.</p>
        <button type="button" disabled={audit.busy} onClick={() => void audit.run(undefined).then((r) => r && setAuditResult(r.ok ? `Intact: ${r.entries} entries.` : `Broken at entry ${r.firstBadSeq}: ${r.problem}.`))}>Check audit log</button>
        {auditResult && <p role="status">{auditResult}</p>}
        <ErrorMessage error={audit.error} />
      </section>
    </div>
  );
}
