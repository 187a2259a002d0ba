import { useState, type FormEvent } from 'react';
import { COMMANDS, type SetupState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { ErrorMessage } from './error-message.tsx';

/** The core refuses a shorter lock passphrase. */
const MIN_PASSPHRASE = 8;

/**
 * Covers everything while the app is locked; nothing behind it is rendered. Wrong passphrases make the next try wait
 * (the core keeps the count across restarts); the core's message says how long.
 */
export function LockScreen({ api }: { api: RtsApi }) {
  const t = useT();
  const { run, error, busy } = useAction(api, COMMANDS.unlock);
  const [passphrase, setPassphrase] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    await run({ passphrase });
    setPassphrase('');
  };
  return (
    <section className="lock-screen panel" aria-labelledby="lock-title">
      <h2 id="lock-title">{t('setup.lock.locked')}</h2>
      <form onSubmit={(e) => void submit(e)} className="form-grid">
        <label htmlFor="unlock-passphrase">{t('setup.lock.passphrase')}</label>
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
            {t('setup.lock.unlock')}
          </button>
        </div>
      </form>
      <ErrorMessage error={error} />
    </section>
  );
}

/** The workstation's lock policy requires a passphrase and none is set yet: nothing else opens until it is. */
export function PassphraseRequiredScreen({ api, setup }: { api: RtsApi; setup: SetupState }) {
  const t = useT();
  return (
    <section className="lock-screen panel" aria-labelledby="lock-required-title">
      <h2 id="lock-required-title">{t('setup.lock.requiredTitle')}</h2>
      <p className="hint">{t('setup.lock.requiredHint')}</p>
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
  const t = useT();
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
        <legend>{t('setup.lock.policy')}</legend>
        <label className="radio">
          <input
            type="radio"
            name="lock-policy"
            value="required"
            checked={policy === 'required'}
            disabled={setPolicy.busy}
            onChange={() => choose('required')}
          />
          {t('setup.lock.policyRequired')}
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
          {t('setup.lock.policyOptional')}
        </label>
      </fieldset>
      {policy === 'required' && !setup.hasLockPassphrase && (
        <p className="hint" role="status">
          {t('setup.lock.setNow')}
        </p>
      )}
      <div className="form-grid">
        {idleMinutes && (
          <>
            <label htmlFor="lock-minutes">{t('setup.lock.idleMinutes')}</label>
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
            <label htmlFor="lock-current">{t('setup.lock.current')}</label>
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
          {setup.hasLockPassphrase
            ? t('setup.lock.newPassphrase')
            : t('setup.lock.firstPassphrase', { min: MIN_PASSPHRASE })}
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
            disabled={passphrase.length < MIN_PASSPHRASE || setPassphrase.busy}
            onClick={() =>
              void setPassphrase.run({ passphrase, ...(current && { current }) }).then((r) => {
                if (r) {
                  setPassphraseText('');
                  setCurrent('');
                }
              })
            }
          >
            {t('setup.lock.save')}
          </button>
        </div>
      </div>
      <ErrorMessage error={setPassphrase.error ?? setPolicy.error ?? setUi.error} />
    </>
  );
}
