import { useState, type FormEvent } from 'react';
import { COMMANDS, type RegionState, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { CertificateList } from '../components/certificate-list.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { EnrolmentForm } from '../components/enrolment-form.tsx';
import { LockSettings } from '../components/lock-screen.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
import { useAction } from '../hooks/use-command.ts';
import { fileToBase64 } from '../files.ts';

/**
 * Setting up a workstation: joining the region with its enrolment file (trust and connection in one step; the old
 * step-by-step path folded beneath it), then the practitioner's certificates. Each step says what it checked, or why it
 * refused, in the core's words.
 */
export function FirstRunScreen({
  api,
  setup,
  region,
}: {
  api: RtsApi;
  setup: SetupState;
  region: RegionState | undefined;
}) {
  const trustDone = (setup.identity?.trust.anchors.length ?? 0) > 0 && setup.identity?.trust.hub !== undefined;
  const connectionDone = !!setup.profile && setup.hasBrokerPassword;
  return (
    <div className="first-run">
      <h2 className="screen-title">Set up this workstation</h2>
      <ErrorMessage error={setup.storeProblem} />
      {region && (region.active === 'demo' || region.demoAvailable) && (
        <section className="panel" aria-labelledby="demo-step">
          <h3 id="demo-step">Just looking?</h3>
          <RegionSwitch api={api} region={region} />
        </section>
      )}
      <section className="panel" aria-labelledby="lock-step">
        <h3 id="lock-step">Lock this workstation</h3>
        <p className="hint">
          A lock passphrase hides every case after idle, screen lock or sleep, and is asked again before a report is
          signed. If your region or clinic requires it, choose Required: the workstation then opens nothing until the
          passphrase is set.
        </p>
        <LockSettings api={api} setup={setup} />
      </section>
      <section className="panel" aria-labelledby="enrol-step">
        <h3 id="enrol-step">
          <StepMark done={trustDone && connectionDone} /> 1. Join with an enrolment file
        </h3>
        <p className="hint">
          One file from your region's administrator (<code>.rtsenrol</code>) sets up the region's trust and the
          connection. The broker password comes separately and is kept in the OS keychain.
        </p>
        <EnrolmentForm api={api} setup={setup} />
        {connectionDone && setup.profile && (
          <p className="hint" data-testid="joined-profile">
            This workstation is {setup.profile.endpointId} at{' '}
            {setup.profile.hosts.map((h) => `${h.host}:${h.port}`).join(', ')}
            {setup.profile.tls ? ' over TLS' : ''}.
          </p>
        )}
      </section>
      <details className="panel alternative">
        <summary>Set up step by step (no enrolment file)</summary>
        <TrustStep api={api} done={trustDone} setup={setup} title="The region's trust" />
        <section className="panel" aria-labelledby="connection-step">
          <h3 id="connection-step">
            <StepMark done={connectionDone} /> Connection to the region
          </h3>
          <p className="hint">
            The broker address, the endpoint id and its password from the region's administrator. The password is kept
            in the OS keychain.
          </p>
          <ConnectionForm
            key={JSON.stringify(setup.profile ?? null)}
            api={api}
            profile={setup.profile}
            requirePassword={!setup.hasBrokerPassword}
          />
        </section>
      </details>
      <IdentityStep api={api} enabled={trustDone} setup={setup} />
    </div>
  );
}

function StepMark({ done }: { done: boolean }) {
  return (
    <span className="step-mark" data-done={done} aria-label={done ? 'done' : 'to do'}>
      {done ? '✓' : '•'}
    </span>
  );
}

/** The region's CA, its current CRL and the hub's certificate; in Settings too, where a newer CRL is loaded. */
export function TrustStep({
  api,
  done,
  setup,
  title,
}: {
  api: RtsApi;
  done: boolean;
  setup: SetupState;
  title: string;
}) {
  const { run, error, busy } = useAction(api, COMMANDS.setTrust);
  const [files, setFiles] = useState<{ ca?: File; crl?: File; hub?: File }>({});
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!files.ca || !files.hub) return;
    await run({
      anchorsPem: await files.ca.text(),
      hubCertificatePem: await files.hub.text(),
      ...(files.crl && { crlsPem: await files.crl.text() }),
    });
  };
  return (
    <section className="panel" aria-labelledby="trust-step">
      <h3 id="trust-step">
        <StepMark done={done} /> {title}
      </h3>
      <form onSubmit={(e) => void submit(e)} className="form-grid">
        <label htmlFor="trust-ca">Regional CA certificate (PEM)</label>
        <input
          id="trust-ca"
          type="file"
          accept=".pem,.crt,.cer"
          onChange={(e) => setFiles((f) => ({ ...f, ca: e.target.files?.[0] }))}
        />
        <label htmlFor="trust-crl">Revocation list (CRL, PEM)</label>
        <input
          id="trust-crl"
          type="file"
          accept=".pem,.crl"
          onChange={(e) => setFiles((f) => ({ ...f, crl: e.target.files?.[0] }))}
        />
        <label htmlFor="trust-hub">Hub certificate (PEM)</label>
        <input
          id="trust-hub"
          type="file"
          accept=".pem,.crt,.cer"
          onChange={(e) => setFiles((f) => ({ ...f, hub: e.target.files?.[0] }))}
        />
        <div className="form-actions">
          <button type="submit" disabled={busy || !files.ca || !files.hub}>
            Check and save trust
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {setup.identity?.trust.crlNextUpdate && (
        <p className="hint">
          The revocation list is current until {setup.identity.trust.crlNextUpdate.slice(0, 10)}; load the region's
          newer one before then.
        </p>
      )}
      {setup.identity && setup.identity.trust.anchors.length > 0 && (
        <CertificateList
          certificates={[
            ...setup.identity.trust.anchors,
            ...(setup.identity.trust.hub ? [setup.identity.trust.hub] : []),
          ]}
          label="Trust"
        />
      )}
    </section>
  );
}

function IdentityStep({ api, enabled, setup }: { api: RtsApi; enabled: boolean; setup: SetupState }) {
  const importP12 = useAction(api, COMMANDS.importPkcs12);
  const request = useAction(api, COMMANDS.createCertificateRequest);
  const importCertificate = useAction(api, COMMANDS.importCertificate);
  const [use, setUse] = useState<'signing' | 'encryption'>('signing');
  const [file, setFile] = useState<File>();
  const [password, setPassword] = useState('');
  const [practitionerId, setPractitionerId] = useState('');
  const [requestPem, setRequestPem] = useState<string>();
  const [certificatePem, setCertificatePem] = useState('');
  return (
    <section className="panel" aria-labelledby="identity-step">
      <h3 id="identity-step">
        <StepMark done={setup.identity?.certificates.length === 2} /> 2. Your certificates
      </h3>
      <p className="hint">
        Each practitioner has a signing and an encryption certificate from the regional CA. Import each as a .p12 file,
        or create a request here for the clinic administrator (the private key never leaves this workstation).
      </p>
      <fieldset disabled={!enabled} className="form-grid">
        <label htmlFor="identity-use">Certificate</label>
        <select id="identity-use" value={use} onChange={(e) => setUse(e.target.value as 'signing' | 'encryption')}>
          <option value="signing">Signing</option>
          <option value="encryption">Encryption</option>
        </select>
        <label htmlFor="identity-file">PKCS#12 file (.p12)</label>
        <input id="identity-file" type="file" accept=".p12,.pfx" onChange={(e) => setFile(e.target.files?.[0])} />
        <label htmlFor="identity-password">Password of the file</label>
        <input
          id="identity-password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div className="form-actions">
          <button
            type="button"
            disabled={!file || importP12.busy}
            onClick={() =>
              void (async () => {
                if (!file) return;
                if (await importP12.run({ use, pkcs12Base64: await fileToBase64(file), password })) setPassword('');
              })()
            }
          >
            Import {use} certificate
          </button>
        </div>
      </fieldset>
      <ErrorMessage error={importP12.error} />
      <details className="alternative">
        <summary>No .p12 file? Create a request for the CA</summary>
        <fieldset disabled={!enabled} className="form-grid">
          <label htmlFor="request-id">Your directory id (e.g. clinic-a.dr-ahmed)</label>
          <input id="request-id" value={practitionerId} onChange={(e) => setPractitionerId(e.target.value)} />
          <div className="form-actions">
            <button
              type="button"
              disabled={!practitionerId || request.busy}
              onClick={() => void request.run({ use, practitionerId }).then((r) => r && setRequestPem(r.requestPem))}
            >
              Create {use} key and request
            </button>
          </div>
          {requestPem && (
            <>
              <label htmlFor="request-pem">Request for the clinic administrator</label>
              <textarea id="request-pem" readOnly rows={6} value={requestPem} />
              {setup.profile && (
                <p className="hint form-note" data-testid="request-command">
                  The region's administrator issues it for this workstation with:{' '}
                  <code>
                    rts region issue {setup.profile.endpointId} --dir &lt;region&gt; --csr request.pem --profile
                    practitioner-{use}
                  </code>
                </p>
              )}
            </>
          )}
          <label htmlFor="issued-pem">Certificate the CA issued (PEM)</label>
          <textarea
            id="issued-pem"
            rows={4}
            value={certificatePem}
            onChange={(e) => setCertificatePem(e.target.value)}
          />
          <div className="form-actions">
            <button
              type="button"
              disabled={!certificatePem || importCertificate.busy}
              onClick={() => void importCertificate.run({ use, certificatePem })}
            >
              Import issued certificate
            </button>
          </div>
        </fieldset>
        <ErrorMessage error={request.error ?? importCertificate.error} />
      </details>
      {setup.identity && setup.identity.certificates.length > 0 && (
        <CertificateList certificates={setup.identity.certificates} label="Your certificates" />
      )}
    </section>
  );
}
