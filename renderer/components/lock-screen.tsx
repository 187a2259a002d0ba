import { useState, type FormEvent } from 'react';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { ErrorMessage } from './error-message.tsx';

/**
 * Covers everything while the app is locked; nothing behind it is rendered. Wrong passphrases make the next try wait
 * (the core keeps the count across restarts); the core's message says how long.
 */
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
        <input
          id="unlock-passphrase"
          type="password"
          autoComplete="off"
          autoFocus
          value={passphrase}
          onChange={(e) => setPassphrase(e.target.value)}
        />
        <div className="form-actions">
          <button type="submit" disabled={busy || !passphrase}>
            Unlock
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}

/** The workstation's lock policy requires a passphrase and none is set yet: nothing else opens until it is. */
export function PassphraseRequiredScreen({ api, setup }: { api: RtsApi; setup: SetupState }) {
  return (
    <section className="lock-screen panel" aria-labelledby="lock-required-title">
      <h2 id="lock-required-title">Set a lock passphrase</h2>
      <p className="hint">
        This workstation's lock policy (of your region or clinic) requires a lock passphrase before it can be used.
      </p>
      <LockSettings api={api} setup={setup} />
    </section>
  );
}

/**
 * The lock policy, the idle time and the passphrase: on the first-run screen (without the idle time) and in Settings.
 * Making a required lock optional needs the current passphrase, as changing the passphrase does.
 */
export function LockSettings({
  api,
  setup,
  idleMinutes = false,
}: {
  api: RtsApi;
  setup: SetupState;
  idleMinutes?: boolean;
}) {
  const setUi = useAction(api, COMMANDS.setUiPreferences);
  const setPassphrase = useAction(api, COMMANDS.setLockPassphrase);
  const setPolicy = useAction(api, COMMANDS.setLockPolicy);
  const [passphrase, setPassphraseText] = useState('');
  const [current, setCurrent] = useState('');
  const policy = setup.lockPolicy ?? 'optional';
  const choose = (next: 'required' | 'optional') =>
    void setPolicy.run({ policy: next, ...(current && { current }) }).then((r) => r && setCurrent(''));
  return (
    <>
      <fieldset className="radio-group">
        <legend>Lock policy</legend>
        <label className="radio">
          <input
            type="radio"
            name="lock-policy"
            value="required"
            checked={policy === 'required'}
            disabled={setPolicy.busy}
            onChange={() => choose('required')}
          />
          Required: my region or clinic requires a lock passphrase on this workstation
        </label>
        <label className="radio">
          <input
            type="radio"
            name="lock-policy"
            value="optional"
            checked={policy === 'optional'}
            disabled={setPolicy.busy}
            onChange={() => choose('optional')}
          />
          Optional
        </label>
      </fieldset>
      {policy === 'required' && !setup.hasLockPassphrase && (
        <p className="hint" role="status">
          Set the passphrase now: the workstation opens nothing else until it is set.
        </p>
      )}
      <div className="form-grid">
        {idleMinutes && (
          <>
            <label htmlFor="lock-minutes">Lock after minutes without use</label>
            <input
              id="lock-minutes"
              type="number"
              min={1}
              max={240}
              defaultValue={setup.ui.lockAfterMinutes}
              onBlur={(e) => void setUi.run({ lockAfterMinutes: Number(e.target.value) })}
            />
          </>
        )}
        {setup.hasLockPassphrase && (
          <>
            <label htmlFor="lock-current">Current passphrase</label>
            <input
              id="lock-current"
              type="password"
              autoComplete="off"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          </>
        )}
        <label htmlFor="lock-new">
          {setup.hasLockPassphrase ? 'New passphrase' : 'Passphrase (at least 8 characters)'}
        </label>
        <input
          id="lock-new"
          type="password"
          autoComplete="new-password"
          value={passphrase}
          onChange={(e) => setPassphraseText(e.target.value)}
        />
        <div className="form-actions">
          <button
            type="button"
            disabled={passphrase.length < 8 || setPassphrase.busy}
            onClick={() =>
              void setPassphrase.run({ passphrase, ...(current && { current }) }).then((r) => {
                if (r) {
                  setPassphraseText('');
                  setCurrent('');
                }
              })
            }
          >
            Save passphrase
          </button>
        </div>
      </div>
      <ErrorMessage error={setPassphrase.error ?? setPolicy.error ?? setUi.error} />
    </>
  );
}
