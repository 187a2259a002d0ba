import { useState } from 'react';
import { COMMANDS } from '../../shared/api/channels.ts';
import type { RegionState, SetupState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { CertificateList } from '../components/certificate-list.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
import { useAction } from '../hooks/use-command.ts';

/** The connection, the certificates and their validity, the lock, and the audit log check. */
export function SettingsScreen({ api, setup, region }: { api: RtsApi; setup: SetupState; region: RegionState | undefined }) {
  const setUi = useAction(api, COMMANDS.setUiPreferences);
  const setPassphrase = useAction(api, COMMANDS.setLockPassphrase);
  const audit = useAction(api, COMMANDS.checkAuditLog);
  const [auditResult, setAuditResult] = useState<string>();
  const [passphrase, setPassphraseText] = useState('');
  const [current, setCurrent] = useState('');
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
      <section className="panel" aria-labelledby="settings-lock">
        <h3 id="settings-lock">Lock</h3>
        <div className="form-grid">
          <label htmlFor="lock-minutes">Lock after minutes without use</label>
          <input id="lock-minutes" type="number" min={1} max={240} defaultValue={setup.ui.lockAfterMinutes}
            onBlur={(e) => void setUi.run({ lockAfterMinutes: Number(e.target.value) })} />
          {setup.hasLockPassphrase && (
            <>
              <label htmlFor="lock-current">Current passphrase</label>
              <input id="lock-current" type="password" value={current} onChange={(e) => setCurrent(e.target.value)} />
            </>
          )}
          <label htmlFor="lock-new">{setup.hasLockPassphrase ? 'New passphrase' : 'Passphrase (at least 8 characters)'}</label>
          <input id="lock-new" type="password" value={passphrase} onChange={(e) => setPassphraseText(e.target.value)} />
          <div className="form-actions">
            <button type="button" disabled={passphrase.length < 8 || setPassphrase.busy} onClick={() => void setPassphrase.run({ passphrase, ...(current && { current }) }).then((r) => {
              if (r) {
                setPassphraseText('');
                setCurrent('');
              }
            })}>Save passphrase</button>
          </div>
        </div>
        <ErrorMessage error={setPassphrase.error ?? setUi.error} />
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
