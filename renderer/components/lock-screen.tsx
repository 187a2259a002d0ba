import { useState, type FormEvent } from 'react';
import { COMMANDS } from '../../shared/api/channels.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { useAction } from '../hooks/use-command.ts';
import { ErrorMessage } from './error-message.tsx';

/** Covers everything while the app is locked; nothing behind it is rendered. */
export function LockScreen({ api }: { api: RtsApi }) {
  const { run, error, busy } = useAction(api, COMMANDS.unlock);
  const [passphrase, setPassphrase] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run({ passphrase });
    setPassphrase('');
  };
  return (
    <section className="lock-screen panel" aria-labelledby="lock-title">
      <h2 id="lock-title">RTS Workstation is locked</h2>
      <form onSubmit={(e) => void submit(e)} className="form-grid">
        <label htmlFor="unlock-passphrase">Passphrase</label>
        <input id="unlock-passphrase" type="password" autoFocus value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
        <div className="form-actions"><button type="submit" disabled={busy || !passphrase}>Unlock</button></div>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}
