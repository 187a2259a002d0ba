import { useId, useState, type FormEvent } from 'react';
import { COMMANDS, type EnrolmentSummary, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { fileToBase64 } from '../files.ts';
import { useAction } from '../hooks/use-command.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * Joining a region with the one file its administrator made (`rts region add-endpoint`): the core verifies it and says
 * what it holds, the user compares the region CA's fingerprint with the one they were given by another channel, types
 * the broker password (never in the file), and joins. In Settings the same form takes a newer file of the same CA.
 */
export function EnrolmentForm({
  api,
  setup,
  idPrefix = 'enrol',
}: {
  api: RtsApi;
  setup: SetupState;
  idPrefix?: string;
}) {
  const read = useAction(api, COMMANDS.readEnrolment);
  const enrol = useAction(api, COMMANDS.enrol);
  const [file, setFile] = useState<{ base64: string; summary: EnrolmentSummary }>();
  const [password, setPassword] = useState('');
  const [joined, setJoined] = useState<string>();
  const fingerprintHint = useId();
  // A new endpoint id has no password in the keychain yet; the same one keeps it unless a new one is typed.
  const needsPassword = !!file && (!setup.hasBrokerPassword || setup.profile?.endpointId !== file.summary.endpointId);

  const choose = async (chosen: File | undefined) => {
    setFile(undefined);
    setJoined(undefined);
    if (!chosen) return;
    const base64 = await fileToBase64(chosen);
    const summary = await read.run({ enrolmentBase64: base64 });
    if (summary) setFile({ base64, summary });
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const result = await enrol.run({ enrolmentBase64: file.base64, ...(password && { brokerPassword: password }) });
    if (result) {
      setPassword('');
      setJoined(`Joined ${file.summary.region} as ${file.summary.endpointId}.`);
    }
  };

  const summary = file?.summary;
  return (
    <form className="form-grid" onSubmit={(e) => void submit(e)} aria-label="Enrolment file">
      <label htmlFor={`${idPrefix}-file`}>Enrolment file (.rtsenrol)</label>
      <input
        id={`${idPrefix}-file`}
        type="file"
        accept=".rtsenrol"
        onChange={(e) => void choose(e.target.files?.[0])}
      />
      {summary && (
        <div className="form-note">
          <dl className="facts" aria-label="What the enrolment file holds">
            <dt>Region</dt>
            <dd data-testid="enrolment-region">{summary.region}</dd>
            <dt>This workstation</dt>
            <dd data-testid="enrolment-endpoint">{summary.endpointId}</dd>
            <dt>Broker</dt>
            <dd data-testid="enrolment-broker">
              {summary.brokerHosts.map((h) => `${h.host}:${h.port}`).join(', ')}, virtual host {summary.vhost},{' '}
              {summary.tls
                ? `TLS${summary.tlsServerName ? ` (server name ${summary.tlsServerName})` : ''}`
                : 'no TLS (this computer only)'}
            </dd>
            <dt>Region CA</dt>
            <dd>{summary.caSubject}</dd>
            <dt>CA fingerprint (SHA-256)</dt>
            <dd data-testid="enrolment-ca-fingerprint" aria-describedby={fingerprintHint} className="fingerprint">
              {summary.caFingerprint}
            </dd>
            <dt>Hub</dt>
            <dd>{summary.hubSubject}</dd>
            {summary.crlNextUpdate && (
              <>
                <dt>Revocation list current until</dt>
                <dd>{summary.crlNextUpdate.slice(0, 10)}</dd>
              </>
            )}
          </dl>
        </div>
      )}
      {summary && (
        <p id={fingerprintHint} className="hint form-note">
          {summary.replacesTrust
            ? "The file is signed under the region CA this workstation already trusts; joining replaces the region's trust and connection with the file's."
            : "Compare the CA fingerprint with the one your region's administrator gave you (by phone or in person, not in the same e-mail as the file). If they differ, do not join."}
        </p>
      )}
      {summary && (
        <>
          <label htmlFor={`${idPrefix}-password`}>
            Broker password of {summary.endpointId}
            {needsPassword ? '' : ' (leave empty to keep the stored one)'}
          </label>
          <input
            id={`${idPrefix}-password`}
            type="password"
            autoComplete="off"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </>
      )}
      <div className="form-actions">
        <button type="submit" disabled={!summary || enrol.busy || (needsPassword && !password)}>
          Join the region
        </button>
        {joined && <span role="status">{joined}</span>}
      </div>
      <ErrorMessage error={read.error ?? enrol.error} />
    </form>
  );
}
