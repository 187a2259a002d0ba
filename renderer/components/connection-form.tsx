import { useId, useState, type FormEvent } from 'react';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
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
    <form className="form-grid" onSubmit={(e) => void submit(e)} aria-label="Connection profile">
      <label htmlFor="profile-hosts">Broker hosts (host:port, comma separated)</label>
      <input
        id="profile-hosts"
        value={hosts}
        onChange={(e) => setHosts(e.target.value)}
        placeholder="broker1.region.example:5671, broker2.region.example:5671"
      />
      <label htmlFor="profile-vhost">Virtual host</label>
      <input id="profile-vhost" value={vhost} onChange={(e) => setVhost(e.target.value)} />
      <label htmlFor="profile-endpoint">Endpoint id of this workstation</label>
      <input
        id="profile-endpoint"
        value={endpointId}
        onChange={(e) => setEndpointId(e.target.value)}
        placeholder="ws-cardiology-3"
      />
      <label htmlFor="profile-tls">TLS (amqps)</label>
      <span>
        <input
          id="profile-tls"
          type="checkbox"
          checked={tls}
          onChange={(e) => setTlsChosen(e.target.checked)}
          aria-describedby={tlsHint}
        />{' '}
        <span id={tlsHint} className="hint">
          Required for any broker but this computer; on by default for port {AMQPS_PORT}.
        </span>
      </span>
      {tls && (
        <>
          <label htmlFor="profile-ca">
            Broker CA certificate (PEM){caPem ? ' (leave empty to keep the loaded one)' : ''}
          </label>
          <input
            id="profile-ca"
            type="file"
            accept=".pem,.crt"
            onChange={(e) => void e.target.files?.[0]?.text().then(setCaPem)}
          />
          <label htmlFor="profile-servername">TLS server name (optional)</label>
          <input
            id="profile-servername"
            value={servername}
            onChange={(e) => setServername(e.target.value)}
            placeholder="broker.region.example"
            aria-describedby={serverNameHint}
          />
          <p id={serverNameHint} className="hint form-note">
            The name on the broker's TLS certificate, when it differs from the host above (e.g. a broker reached by its
            IP address). It is not the AMQP hostname <code>vhost:…</code>, which names the virtual host.
          </p>
        </>
      )}
      <label htmlFor="profile-password">
        Broker password{requirePassword ? '' : ' (leave empty to keep the stored one)'}
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
          Save and connect
        </button>
        {tls && !caPem && (
          <span className="hint">
            Choose the broker's CA certificate for TLS, or turn TLS off for a broker on this computer.
          </span>
        )}
        {saved && <span role="status">Saved.</span>}
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}
