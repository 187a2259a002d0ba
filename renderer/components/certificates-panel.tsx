import { useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { fileToBase64 } from '../files.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT, type Translate } from '../i18n/index.ts';
import { CertificateList, formatDay, USE_WORDS } from './certificate-list.tsx';
import { CrlBanner } from './crl-banner.tsx';
import { ErrorMessage } from './error-message.tsx';
import { PlaceWarnings } from './warnings-banner.tsx';

type Identity = NonNullable<SetupState['identity']>;
type Use = 'signing' | 'encryption';

/** What an imported certificate does now: a renewed signing certificate signs only once the directory lists it. */
interface Installed {
  readonly use: Use;
  readonly waitsForDirectory: boolean;
}
const installed = (use: Use, state: SetupState): Installed => ({
  use,
  waitsForDirectory: use === 'signing' && !!state.identity?.signingInUse,
});
function installedWords(t: Translate, done: Installed): string {
  return done.waitsForDirectory
    ? t('settings.certificates.installedSigning')
    : t('settings.certificates.installed', { use: done.use });
}

/** The keys waiting for their certificates, as one word for the sentence that names them. */
function pendingKeys(pending: readonly Use[]): 'signing' | 'encryption' | 'both' {
  return pending.length > 1 ? 'both' : pending[0]!;
}

const USES: readonly Use[] = ['encryption', 'signing'];

/**
 * Settings → the practitioner's certificates in service: the current ones and their state, how many earlier
 * encryption certificates are kept so that older cases stay readable, and renewal at any time — a renewed .p12, or a
 * new key made here with a request for the CA (the current key stays in use until the issued certificate is imported).
 * It says which signing certificate signs: a renewed one only once the directory lists it.
 */

export function CertificatesPanel({ api, identity }: { api: RtsApi; identity: Identity }) {
  const t = useT();
  const intl = useIntl();
  const importP12 = useAction(api, COMMANDS.importPkcs12);
  const request = useAction(api, COMMANDS.createCertificateRequest);
  const importIssued = useAction(api, COMMANDS.importCertificate);
  const [use, setUse] = useState<Use>('encryption');
  const [file, setFile] = useState<File>();
  const [password, setPassword] = useState('');
  const [requestPem, setRequestPem] = useState<string>();
  const [issuedPem, setIssuedPem] = useState('');
  const [done, setDone] = useState<Installed>();
  const earlier = identity.earlierEncryptionCertificates;
  const currentSigning = identity.certificates.find((c) => c.use === 'signing');

  async function renewFromFile(): Promise<void> {
    if (!file) return;
    setDone(undefined);
    const state = await importP12.run({ use, pkcs12Base64: await fileToBase64(file), password });
    if (state) {
      setPassword('');
      setDone(installed(use, state));
    }
  }

  async function importIssuedCertificate(): Promise<void> {
    setDone(undefined);
    const state = await importIssued.run({ use, certificatePem: issuedPem });
    if (state) {
      setIssuedPem('');
      setRequestPem(undefined);
      setDone(installed(use, state));
    }
  }

  return (
    <div className="certificates-panel" data-testid="certificates-panel">
      <CrlBanner trust={identity.trust} />
      <CertificateList certificates={identity.certificates} label={t('settings.certificates.current')} />
      <PlaceWarnings place="certificates" />
      <p data-testid="earlier-certificates">{t('settings.certificates.earlier', { count: earlier })}</p>
      {currentSigning && (
        <p data-testid="signing-in-use">
          {identity.signingInUse
            ? t('settings.certificates.signingEarlier', {
                earlierSerial: identity.signingInUse.serialNumber,
                until: formatDay(intl, identity.signingInUse.notAfter),
                renewedSerial: currentSigning.serialNumber,
              })
            : t('settings.certificates.signingCurrent', { serial: currentSigning.serialNumber })}
        </p>
      )}
      {identity.pendingRequests.length > 0 && (
        <p className="hint" data-testid="pending-requests">
          {t('settings.certificates.pending', { keys: pendingKeys(identity.pendingRequests) })}
        </p>
      )}
      <fieldset className="form-grid">
        <legend>{t('settings.certificates.renew')}</legend>
        <label htmlFor="renew-use">{t('settings.certificates.certificate')}</label>
        <select id="renew-use" value={use} onChange={(e) => setUse(e.target.value as Use)}>
          {USES.map((u) => (
            <option key={u} value={u}>
              {t(USE_WORDS[u])}
            </option>
          ))}
        </select>
        <label htmlFor="renew-file">{t('settings.certificates.renewedFile')}</label>
        <input id="renew-file" type="file" accept=".p12,.pfx" onChange={(e) => setFile(e.target.files?.[0])} />
        <label htmlFor="renew-password">{t('settings.certificates.filePassword')}</label>
        <input
          id="renew-password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div className="form-actions">
          <button type="button" disabled={!file || importP12.busy} onClick={() => void renewFromFile()}>
            {t('settings.certificates.importRenewed')}
          </button>
        </div>
      </fieldset>
      <ErrorMessage error={importP12.error} />
      <details className="alternative">
        <summary>{t('settings.certificates.newKey')}</summary>
        <p className="hint">{t('settings.certificates.newKeyHint', { use })}</p>
        <div className="form-actions">
          <button
            type="button"
            disabled={!identity.practitionerId || request.busy}
            onClick={() =>
              void request
                .run({ use, practitionerId: identity.practitionerId! })
                .then((r) => r && setRequestPem(r.requestPem))
            }
          >
            {t('settings.certificates.makeRequest', { use })}
          </button>
        </div>
        {requestPem && (
          <>
            <label htmlFor="renew-request-pem">{t('settings.certificates.requestPem')}</label>
            <textarea id="renew-request-pem" readOnly rows={6} value={requestPem} />
          </>
        )}
        <label htmlFor="renew-issued-pem">{t('settings.certificates.issuedPem')}</label>
        <textarea id="renew-issued-pem" rows={4} value={issuedPem} onChange={(e) => setIssuedPem(e.target.value)} />
        <div className="form-actions">
          <button
            type="button"
            disabled={!issuedPem || importIssued.busy}
            onClick={() => void importIssuedCertificate()}
          >
            {t('settings.certificates.importIssued')}
          </button>
        </div>
        <ErrorMessage error={request.error ?? importIssued.error} />
      </details>
      {done && (
        <p role="status" data-testid="renewal-done">
          {installedWords(t, done)}
        </p>
      )}
    </div>
  );
}
