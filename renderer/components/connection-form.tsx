import { useState, type FormEvent } from 'react';
import { COMMANDS } from '../../shared/api/channels.ts';
import type { SetupState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { useAction } from '../hooks/use-command.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * The connection profile: broker hosts (tried in turn), vhost, endpoint id, the broker's CA for amqps (required for any
 * host but this computer; kept when no new file is chosen), and the password for the keychain.
 */
export function ConnectionForm({ api, profile, requirePassword }: { api: RtsApi; profile: SetupState['profile']; requirePassword: boolean }) {
  const { run, error, busy } = useAction(api, COMMANDS.setProfile);
  const [hosts, setHosts] = useState(profile?.hosts.map((h) => `${h.host}:${h.port}`).join(', ') ?? '');
  const [vhost, setVhost] = useState(profile?.vhost ?? 'rts');
  const [endpointId, setEndpointId] = useState(profile?.endpointId ?? '');
  const [password, setPassword] = useState('');
  const [caPem, setCaPem] = useState(profile?.tls?.caPem);
  const [saved, setSaved] = useState(false);
  const parsedHosts = hosts.split(',').map((h) => h.trim()).filter(Boolean).map((h) => {
    const at = h.lastIndexOf(':');
    return at > 0 ? { host: h.slice(0, at), port: Number(h.slice(at + 1)) } : { host: h, port: 5671 };
  });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const tls = caPem ? { tls: { caPem, ...(profile?.tls?.servername && { servername: profile.tls.servername }) } } : {};
    const result = await run({ profile: { hosts: parsedHosts, vhost, endpointId, ...tls }, ...(password && { brokerPassword: password }) });
    if (result) {
      setPassword('');
      setSaved(true);
    }
  };
  return (
    <form className="form-grid" onSubmit={(e) => void submit(e)} aria-label="Connection profile">
      <label htmlFor="profile-hosts">Broker hosts (host:port, comma separated)</label>
      <input id="profile-hosts" value={hosts} onChange={(e) => setHosts(e.target.value)} placeholder="broker1.region.example:5671, broker2.region.example:5671" />
      <label htmlFor="profile-vhost">Virtual host</label>
      <input id="profile-vhost" value={vhost} onChange={(e) => setVhost(e.target.value)} />
      <label htmlFor="profile-endpoint">Endpoint id of this workstation</label>
      <input id="profile-endpoint" value={endpointId} onChange={(e) => setEndpointId(e.target.value)} placeholder="ws-cardiology-3" />
      <label htmlFor="profile-ca">Broker CA certificate (PEM), for amqps{caPem ? ' (leave empty to keep the loaded one)' : ''}</label>
      <input id="profile-ca" type="file" accept=".pem,.crt" onChange={(e) => void e.target.files?.[0]?.text().then(setCaPem)} />
      <label htmlFor="profile-password">Broker password{requirePassword ? '' : ' (leave empty to keep the stored one)'}</label>
      <input id="profile-password" type="password" autoComplete="off" value={password} onChange={(e) => setPassword(e.target.value)} />
      <div className="form-actions">
        <button type="submit" disabled={busy || parsedHosts.length === 0 || !endpointId || (requirePassword && !password)}>Save and connect</button>
        {saved && <span role="status">Saved.</span>}
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}
