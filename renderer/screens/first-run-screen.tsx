import { useState, type FormEvent } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type RegionState, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { CertificateList, formatDay, USE_WORDS } from '../components/certificate-list.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { EnrolmentForm } from '../components/enrolment-form.tsx';
import { LockSettings } from '../components/lock-screen.tsx';
import { RegionSwitch } from '../components/region-switch.tsx';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
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
  const t = useT();
  const intl = useIntl();
  const trustDone = (setup.identity?.trust.anchors.length ?? 0) > 0 && setup.identity?.trust.hub !== undefined;
  const connectionDone = !!setup.profile && setup.hasBrokerPassword;
  return (
    <div className="first-run">
      <h2 className="screen-title">{t('setup.title')}</h2>
      <ErrorMessage error={setup.storeProblem} />
      {region && (region.active === 'demo' || region.demoAvailable) && (
        <section className="panel" aria-labelledby="demo-step">
          <h3 id="demo-step">{t('setup.demo')}</h3>
          <RegionSwitch api={api} region={region} />
        </section>
      )}
      <section className="panel" aria-labelledby="lock-step">
        <h3 id="lock-step">{t('setup.lockStep')}</h3>
        <p className="hint">{t('setup.lockStepHint')}</p>
        <LockSettings api={api} setup={setup} />
      </section>
      <section className="panel" aria-labelledby="enrol-step">
        <h3 id="enrol-step">
          <StepMark done={trustDone && connectionDone} /> {t('setup.enrolStep')}
        </h3>
        <p className="hint">
          {intl.formatMessage({ id: 'setup.enrolStepHint' }, { code: (chunks) => <code>{chunks}</code> })}
        </p>
        <EnrolmentForm api={api} setup={setup} />
        {connectionDone && setup.profile && (
          <p className="hint" data-testid="joined-profile">
            {t('setup.joinedProfile', {
              endpoint: setup.profile.endpointId,
              // Addresses as the connection form takes them (host:port, comma separated), in every language.
              hosts: setup.profile.hosts.map((h) => `${h.host}:${h.port}`).join(', '),
              tls: setup.profile.tls ? 'yes' : 'no',
            })}
          </p>
        )}
      </section>
      <details className="panel alternative">
        <summary>{t('setup.stepByStep')}</summary>
        <TrustStep api={api} done={trustDone} setup={setup} title={t('setup.trustStep')} />
        <section className="panel" aria-labelledby="connection-step">
          <h3 id="connection-step">
            <StepMark done={connectionDone} /> {t('setup.connectionStep')}
          </h3>
          <p className="hint">{t('setup.connectionStepHint')}</p>
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
  const t = useT();
  return (
    <span className="step-mark" data-done={done} aria-label={done ? t('setup.stepDone') : t('setup.stepToDo')}>
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
  const t = useT();
  const intl = useIntl();
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
        <label htmlFor="trust-ca">{t('setup.trust.ca')}</label>
        <input
          id="trust-ca"
          type="file"
          accept=".pem,.crt,.cer"
          onChange={(e) => setFiles((f) => ({ ...f, ca: e.target.files?.[0] }))}
        />
        <label htmlFor="trust-crl">{t('setup.trust.crl')}</label>
        <input
          id="trust-crl"
          type="file"
          accept=".pem,.crl"
          onChange={(e) => setFiles((f) => ({ ...f, crl: e.target.files?.[0] }))}
        />
        <label htmlFor="trust-hub">{t('setup.trust.hub')}</label>
        <input
          id="trust-hub"
          type="file"
          accept=".pem,.crt,.cer"
          onChange={(e) => setFiles((f) => ({ ...f, hub: e.target.files?.[0] }))}
        />
        <div className="form-actions">
          <button type="submit" disabled={busy || !files.ca || !files.hub}>
            {t('setup.trust.save')}
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
      {setup.identity?.trust.crlNextUpdate && (
        <p className="hint">
          {t('setup.trust.crlCurrentUntil', { date: formatDay(intl, setup.identity.trust.crlNextUpdate) })}
        </p>
      )}
      {setup.identity && setup.identity.trust.anchors.length > 0 && (
        <CertificateList
          certificates={[
            ...setup.identity.trust.anchors,
            ...(setup.identity.trust.hub ? [setup.identity.trust.hub] : []),
          ]}
          label={t('setup.trust.list')}
        />
      )}
    </section>
  );
}

function IdentityStep({ api, enabled, setup }: { api: RtsApi; enabled: boolean; setup: SetupState }) {
  const t = useT();
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
        <StepMark done={setup.identity?.certificates.length === 2} /> {t('setup.identity.title')}
      </h3>
      <p className="hint">{t('setup.identity.hint')}</p>
      <fieldset disabled={!enabled} className="form-grid">
        <label htmlFor="identity-use">{t('setup.identity.certificate')}</label>
        <select id="identity-use" value={use} onChange={(e) => setUse(e.target.value as 'signing' | 'encryption')}>
          <option value="signing">{t(USE_WORDS.signing)}</option>
          <option value="encryption">{t(USE_WORDS.encryption)}</option>
        </select>
        <label htmlFor="identity-file">{t('setup.identity.file')}</label>
        <input id="identity-file" type="file" accept=".p12,.pfx" onChange={(e) => setFile(e.target.files?.[0])} />
        <label htmlFor="identity-password">{t('setup.identity.filePassword')}</label>
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
            {t('setup.identity.import', { use })}
          </button>
        </div>
      </fieldset>
      <ErrorMessage error={importP12.error} />
      <details className="alternative">
        <summary>{t('setup.identity.noFile')}</summary>
        <fieldset disabled={!enabled} className="form-grid">
          <label htmlFor="request-id">{t('setup.identity.directoryId')}</label>
          <input id="request-id" value={practitionerId} onChange={(e) => setPractitionerId(e.target.value)} />
          <div className="form-actions">
            <button
              type="button"
              disabled={!practitionerId || request.busy}
              onClick={() => void request.run({ use, practitionerId }).then((r) => r && setRequestPem(r.requestPem))}
            >
              {t('setup.identity.createRequest', { use })}
            </button>
          </div>
          {requestPem && (
            <>
              <label htmlFor="request-pem">{t('setup.identity.requestPem')}</label>
              <textarea id="request-pem" readOnly rows={6} value={requestPem} />
              {setup.profile && (
                <p className="hint form-note" data-testid="request-command">
                  {t('setup.identity.issueCommand')}{' '}
                  <code>
                    rts region issue {setup.profile.endpointId} --dir &lt;region&gt; --csr request.pem --profile
                    practitioner-{use}
                  </code>
                </p>
              )}
            </>
          )}
          <label htmlFor="issued-pem">{t('setup.identity.issuedPem')}</label>
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
              {t('setup.identity.importIssued')}
            </button>
          </div>
        </fieldset>
        <ErrorMessage error={request.error ?? importCertificate.error} />
      </details>
      {setup.identity && setup.identity.certificates.length > 0 && (
        <CertificateList certificates={setup.identity.certificates} label={t('setup.identity.list')} />
      )}
    </section>
  );
}
