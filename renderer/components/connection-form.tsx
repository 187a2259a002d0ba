import { useId, useState, type FormEvent } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { ErrorMessage } from './error-message.tsx';

/** The amqps port: a profile naming it uses TLS unless the user turns it off. */
const AMQPS_PORT = 5671;

/**
 * The connection profile: broker hosts (tried in turn), vhost, endpoint id, TLS (the broker's CA, kept when no new file
 * is chosen, and the server name its certificate carries), and the password for the keychain. A saved TLS profile comes
 * back with TLS on, its CA and its server name, so saving it again never drops them.
 */
export function ConnectionForm({
  api,
  profile,
  requirePassword,
}: {
  api: RtsApi;
  profile: SetupState['profile'];
  requirePassword: boolean;
}) {
  const t = useT();
  const intl = useIntl();
  const { run, error, busy } = useAction(api, COMMANDS.setProfile);
  const [hosts, setHosts] = useState(profile?.hosts.map((h) => `${h.host}:${h.port}`).join(', ') ?? '');
  const [vhost, setVhost] = useState(profile?.vhost ?? 'rts');
  const [endpointId, setEndpointId] = useState(profile?.endpointId ?? '');
  const [password, setPassword] = useState('');
  // undefined: not chosen by the user, so on for a saved TLS profile or any host on the amqps port.
  const [tlsChosen, setTlsChosen] = useState<boolean>();
  const [caPem, setCaPem] = useState(profile?.tls?.caPem);
  const [servername, setServername] = useState(profile?.tls?.servername ?? '');
  const [saved, setSaved] = useState(false);
  const serverNameHint = useId();
  const tlsHint = useId();
  const parsedHosts = hosts
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => {
      const at = h.lastIndexOf(':');
      return at > 0 ? { host: h.slice(0, at), port: Number(h.slice(at + 1)) } : { host: h, port: AMQPS_PORT };
    });
  const tls =
    tlsChosen ??
    (profile?.tls !== undefined || parsedHosts.length === 0 || parsedHosts.some((h) => h.port === AMQPS_PORT));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const tlsProfile =
      tls && caPem ? { tls: { caPem, ...(servername.trim() && { servername: servername.trim() }) } } : {};
    const result = await run({
      profile: { hosts: parsedHosts, vhost, endpointId, ...tlsProfile },
      ...(password && { brokerPassword: password }),
    });
    if (result) {
      setPassword('');
      setSaved(true);
    }
  };
  return (
    <form className="form-grid" onSubmit={(e) => void submit(e)} aria-label={t('setup.connection.form')}>
      <label htmlFor="profile-hosts">{t('setup.connection.hosts')}</label>
      <input
        id="profile-hosts"
        value={hosts}
        onChange={(e) => setHosts(e.target.value)}
        placeholder="broker1.region.example:5671, broker2.region.example:5671"
      />
      <label htmlFor="profile-vhost">{t('setup.connection.vhost')}</label>
      <input id="profile-vhost" value={vhost} onChange={(e) => setVhost(e.target.value)} />
      <label htmlFor="profile-endpoint">{t('setup.connection.endpoint')}</label>
      <input
        id="profile-endpoint"
        value={endpointId}
        onChange={(e) => setEndpointId(e.target.value)}
        placeholder="ws-cardiology-3"
      />
      <label htmlFor="profile-tls">{t('setup.connection.tls')}</label>
      <span>
        <input
          id="profile-tls"
          type="checkbox"
          checked={tls}
          onChange={(e) => setTlsChosen(e.target.checked)}
          aria-describedby={tlsHint}
        />{' '}
        <span id={tlsHint} className="hint">
          {t('setup.connection.tlsHint', { port: String(AMQPS_PORT) })}
        </span>
      </span>
      {tls && (
        <>
          <label htmlFor="profile-ca">{caPem ? t('setup.connection.caKeep') : t('setup.connection.ca')}</label>
          <input
            id="profile-ca"
            type="file"
            accept=".pem,.crt"
            onChange={(e) => void e.target.files?.[0]?.text().then(setCaPem)}
          />
          <label htmlFor="profile-servername">{t('setup.connection.serverName')}</label>
          <input
            id="profile-servername"
            value={servername}
            onChange={(e) => setServername(e.target.value)}
            placeholder="broker.region.example"
            aria-describedby={serverNameHint}
          />
          <p id={serverNameHint} className="hint form-note">
            {intl.formatMessage({ id: 'setup.connection.serverNameHint' }, { code: (chunks) => <code>{chunks}</code> })}
          </p>
        </>
      )}
      <label htmlFor="profile-password">
        {requirePassword ? t('setup.connection.password') : t('setup.connection.passwordKeep')}
      </label>
      <input
        id="profile-password"
        type="password"
        autoComplete="off"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <div className="form-actions">
        <button
          type="submit"
          disabled={
            busy || parsedHosts.length === 0 || !endpointId || (requirePassword && !password) || (tls && !caPem)
          }
        >
          {t('setup.connection.save')}
        </button>
        {tls && !caPem && <span className="hint">{t('setup.connection.needCa')}</span>}
        {saved && <span role="status">{t('setup.connection.saved')}</span>}
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}
