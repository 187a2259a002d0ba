import { useId, useState, type FormEvent } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type EnrolmentSummary, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { fileToBase64 } from '../files.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { formatDay } from './certificate-list.tsx';
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
  const t = useT();
  const intl = useIntl();
  const read = useAction(api, COMMANDS.readEnrolment);
  const enrol = useAction(api, COMMANDS.enrol);
  const [file, setFile] = useState<{ base64: string; summary: EnrolmentSummary }>();
  const [password, setPassword] = useState('');
  const [joined, setJoined] = useState<{ region: string; endpoint: string }>();
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
      setJoined({ region: file.summary.region, endpoint: file.summary.endpointId });
    }
  };

  const summary = file?.summary;
  return (
    <form className="form-grid" onSubmit={(e) => void submit(e)} aria-label={t('setup.enrolment.form')}>
      <label htmlFor={`${idPrefix}-file`}>{t('setup.enrolment.file')}</label>
      <input
        id={`${idPrefix}-file`}
        type="file"
        accept=".rtsenrol"
        onChange={(e) => void choose(e.target.files?.[0])}
      />
      {summary && (
        <div className="form-note">
          <dl className="facts" aria-label={t('setup.enrolment.holds')}>
            <dt>{t('setup.enrolment.region')}</dt>
            <dd data-testid="enrolment-region">{summary.region}</dd>
            <dt>{t('setup.enrolment.endpoint')}</dt>
            <dd data-testid="enrolment-endpoint">{summary.endpointId}</dd>
            <dt>{t('setup.enrolment.broker')}</dt>
            <dd data-testid="enrolment-broker">
              {t('setup.enrolment.brokerValue', {
                // Addresses as the connection form takes them (host:port, comma separated), in every language.
                kind: summary.brokerKind,
                hosts: summary.brokerHosts.map((h) => `${h.host}:${h.port}`).join(', '),
                vhost: summary.vhost,
                tls: summary.tls ? (summary.tlsServerName ? 'serverName' : 'yes') : 'no',
                serverName: summary.tlsServerName ?? '',
              })}
            </dd>
            <dt>{t('setup.enrolment.ca')}</dt>
            <dd>{summary.caSubject}</dd>
            <dt>{t('setup.enrolment.fingerprint')}</dt>
            <dd data-testid="enrolment-ca-fingerprint" aria-describedby={fingerprintHint} className="fingerprint">
              {summary.caFingerprint}
            </dd>
            <dt>{t('setup.enrolment.hub')}</dt>
            <dd>{summary.hubSubject}</dd>
            {summary.crlNextUpdate && (
              <>
                <dt>{t('setup.enrolment.crlUntil')}</dt>
                <dd>{formatDay(intl, summary.crlNextUpdate)}</dd>
              </>
            )}
          </dl>
        </div>
      )}
      {summary && (
        <p id={fingerprintHint} className="hint form-note">
          {summary.replacesTrust ? t('setup.enrolment.replacesTrust') : t('setup.enrolment.compareFingerprint')}
        </p>
      )}
      {summary && (
        <>
          <label htmlFor={`${idPrefix}-password`}>
            {needsPassword
              ? t('setup.enrolment.password', { endpoint: summary.endpointId })
              : t('setup.enrolment.passwordKeep', { endpoint: summary.endpointId })}
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
          {t('setup.enrolment.join')}
        </button>
        {joined && <span role="status">{t('setup.enrolment.joined', joined)}</span>}
      </div>
      <ErrorMessage error={read.error ?? enrol.error} />
    </form>
  );
}
