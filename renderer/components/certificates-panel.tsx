import { useState } from 'react';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { fileToBase64 } from '../files.ts';
import { useAction } from '../hooks/use-command.ts';
import { CertificateList } from './certificate-list.tsx';
import { CrlBanner } from './crl-banner.tsx';
import { ErrorMessage } from './error-message.tsx';
import { PlaceWarnings } from './warnings-banner.tsx';

type Identity = NonNullable<SetupState['identity']>;
type Use = 'signing' | 'encryption';

/**
 * Settings → the practitioner's certificates in service: the current ones and their state, how many earlier
 * encryption certificates are kept so that older cases stay readable, and renewal at any time — a renewed .p12, or a
 * new key made here with a request for the CA (the current key stays in use until the issued certificate is imported).
 * It says which signing certificate signs: a renewed one only once the directory lists it.
 */
/** What an imported certificate does now: a renewed signing certificate signs only once the directory lists it. */
function installedWords(use: Use, state: SetupState): string {
  if (use === 'signing' && state.identity?.signingInUse) {
    return 'The renewed signing certificate is installed. The earlier one keeps signing until the clinic publishes the renewed one in the directory; then it takes over by itself.';
  }
  return `The renewed ${use} certificate is in use.`;
}

export function CertificatesPanel({ api, identity }: { api: RtsApi; identity: Identity }) {
  const importP12 = useAction(api, COMMANDS.importPkcs12);
  const request = useAction(api, COMMANDS.createCertificateRequest);
  const importIssued = useAction(api, COMMANDS.importCertificate);
  const [use, setUse] = useState<Use>('encryption');
  const [file, setFile] = useState<File>();
  const [password, setPassword] = useState('');
  const [requestPem, setRequestPem] = useState<string>();
  const [issuedPem, setIssuedPem] = useState('');
  const [done, setDone] = useState<string>();
  const earlier = identity.earlierEncryptionCertificates;
  const currentSigning = identity.certificates.find((c) => c.use === 'signing');

  async function renewFromFile(): Promise<void> {
    if (!file) return;
    setDone(undefined);
    const state = await importP12.run({ use, pkcs12Base64: await fileToBase64(file), password });
    if (state) {
      setPassword('');
      setDone(installedWords(use, state));
    }
  }

  async function importIssuedCertificate(): Promise<void> {
    setDone(undefined);
    const state = await importIssued.run({ use, certificatePem: issuedPem });
    if (state) {
      setIssuedPem('');
      setRequestPem(undefined);
      setDone(installedWords(use, state));
    }
  }

  return (
    <div className="certificates-panel" data-testid="certificates-panel">
      <CrlBanner trust={identity.trust} />
      <CertificateList certificates={identity.certificates} label="Your current certificates" />
      <PlaceWarnings place="certificates" />
      <p data-testid="earlier-certificates">
        {earlier === 0
          ? 'No earlier encryption certificates: every case was sent to the current one.'
          : `${earlier} earlier encryption ${earlier === 1 ? 'certificate is' : 'certificates are'} kept, with ${earlier === 1 ? 'its key' : 'their keys'}, so that cases sent before a renewal stay readable.`}
      </p>
      {currentSigning && (
        <p data-testid="signing-in-use">
          {identity.signingInUse
            ? `Signing with your earlier signing certificate (serial ${identity.signingInUse.serialNumber}, valid until ${identity.signingInUse.notAfter.slice(0, 10)}): peers and the hub accept only the certificate the directory lists, and it does not list the renewed one yet. The renewed certificate (serial ${currentSigning.serialNumber}) takes over by itself once the clinic publishes it and the directory here shows it.`
            : `Signing with the signing certificate serial ${currentSigning.serialNumber}.`}
        </p>
      )}
      {identity.pendingRequests.length > 0 && (
        <p className="hint" data-testid="pending-requests">
          A new key waits for its certificate from the CA: {identity.pendingRequests.join(' and ')}. The current key
          stays in use until you import it.
        </p>
      )}
      <fieldset className="form-grid">
        <legend>Renew a certificate</legend>
        <label htmlFor="renew-use">Certificate</label>
        <select id="renew-use" value={use} onChange={(e) => setUse(e.target.value as Use)}>
          <option value="encryption">Encryption</option>
          <option value="signing">Signing</option>
        </select>
        <label htmlFor="renew-file">Renewed certificate (.p12)</label>
        <input id="renew-file" type="file" accept=".p12,.pfx" onChange={(e) => setFile(e.target.files?.[0])} />
        <label htmlFor="renew-password">Password of the file</label>
        <input
          id="renew-password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <div className="form-actions">
          <button type="button" disabled={!file || importP12.busy} onClick={() => void renewFromFile()}>
            Import a renewed certificate (.p12)
          </button>
        </div>
      </fieldset>
      <ErrorMessage error={importP12.error} />
      <details className="alternative">
        <summary>Make a new key request</summary>
        <p className="hint">
          A new {use} key is made on this workstation (it never leaves it); give the request to the clinic administrator
          and import the certificate the CA issues.
        </p>
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
            Make a new {use} key request
          </button>
        </div>
        {requestPem && (
          <>
            <label htmlFor="renew-request-pem">Request for the clinic administrator</label>
            <textarea id="renew-request-pem" readOnly rows={6} value={requestPem} />
          </>
        )}
        <label htmlFor="renew-issued-pem">Certificate the CA issued (PEM)</label>
        <textarea id="renew-issued-pem" rows={4} value={issuedPem} onChange={(e) => setIssuedPem(e.target.value)} />
        <div className="form-actions">
          <button
            type="button"
            disabled={!issuedPem || importIssued.busy}
            onClick={() => void importIssuedCertificate()}
          >
            Import the issued certificate
          </button>
        </div>
        <ErrorMessage error={request.error ?? importIssued.error} />
      </details>
      {done && (
        <p role="status" data-testid="renewal-done">
          {done}
        </p>
      )}
    </div>
  );
}
