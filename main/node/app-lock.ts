import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { API_ERROR_CODES, type ApiErrorReason } from '../../shared/api/index.ts';
import { asUnsubscribe, createEmitter } from '../../shared/index.ts';
import { CoreError } from './core-error.ts';
import { VaultUnavailableError, type SecretVault } from './vault/secret-vault.ts';
import { LOCK_PASSPHRASE_ACCOUNT } from './vault/vault-accounts.ts';

/**
 * The app lock a hospital desktop needs: after idle, screen lock or sleep (the shell sees them) every command that
 * shows or changes patient data is refused until the user re-enters the passphrase.
 *
 * Only the passphrase's scrypt hash is a secret, and it stays in the keychain. Everything the lock must know without
 * the keychain lives in a small file of its own in the data directory, written (and fsynced) before the change takes
 * effect: whether a passphrase is set, whether the app is locked, and the wrong attempts with their time. So:
 * - a workstation with a passphrase starts locked, after a restart as after a switch of region (a new core);
 * - locking never reads the keychain, and any keychain error while unlocked locks the app (fail closed);
 * - the back-off after wrong passphrases survives a restart, and an attempt is counted before it is checked, so that
 *   killing the process during the check does not give a free try.
 */
const derive = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/** The lock's own file, beside the settings. Never a secret: a flag, a count and a time. */
export const LOCK_STATE_FILE = 'app-lock.json';

/** Wrong passphrases allowed without waiting; each further one doubles the wait, up to the cap. */
export const FREE_ATTEMPTS = 3;
const FIRST_WAIT_MS = 30_000;
const MAX_WAIT_MS = 15 * 60_000;

const seconds = (ms: number) => {
  const n = Math.ceil(ms / 1_000);
  return `${n} ${n === 1 ? 'second' : 'seconds'}`;
};

/** What a passphrase entered again confirms: signing a report (the default), or making the lock optional. */
export type ConfirmedAct = 'sign' | 'make-optional';
const ACTS: Readonly<Record<ConfirmedAct, { reason: ApiErrorReason; words: string }>> = {
  sign: { reason: 'passphrase-required-to-sign', words: 'Signing a report' },
  'make-optional': { reason: 'passphrase-required-to-make-optional', words: 'Making the lock optional' },
};

/** How long to wait after `failures` wrong passphrases in a row before the next attempt is checked. */
export function unlockWaitMs(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(FIRST_WAIT_MS * 2 ** (failures - FREE_ATTEMPTS), MAX_WAIT_MS);
}

const lockStateSchema = z.object({
  /** A passphrase hash was written to the keychain; absent: not known (a file from before this field, or none yet). */
  passphraseSet: z.boolean().optional(),
  locked: z.boolean(),
  failures: z.number().int().min(0),
  /** Epoch ms of the last wrong passphrase. */
  lastFailureAt: z.number().int().min(0),
});
type LockState = z.infer<typeof lockStateSchema>;

export interface AppLock {
  readonly locked: boolean;
  /**
   * Whether a passphrase is set, answered without the keychain: true also when it cannot be known yet (fail closed).
   */
  hasPassphrase(): boolean;
  /** At start: a passphrase hash in the keychain that the lock's file does not know of (an older version) locks too. */
  restore(): Promise<void>;
  setPassphrase(passphrase: string, current?: string): Promise<void>;
  /** Locks without touching the keychain. False (and unlocked) when no passphrase is set: nobody could unlock. */
  lock(): boolean;
  /** Refuses with `not-allowed` (wrong), `too-many-attempts` (wait) or `keychain-unavailable`. */
  unlock(passphrase: string): Promise<void>;
  /**
   * Asks for the passphrase again before an act that needs the person, not only the session (signing a report):
   * refuses with `passphrase-required` when none is given, and counts wrong ones like the lock screen does.
   */
  confirm(passphrase: string | undefined, act?: ConfirmedAct): Promise<void>;
  /**
   * The same vault, except that any failure of it locks the app (when a passphrase is set) before it is passed on. With
   * the passphrase not known yet (no keychain at start) nothing is locked: the store cannot open without the keychain.
   */
  guard(vault: SecretVault): SecretVault;
  onChanged(listener: (locked: boolean) => void): () => void;
}

export function createAppLock(options: { vault: SecretVault; dataDir: string; now?: () => number }): AppLock {
  const { vault, dataDir } = options;
  const now = options.now ?? Date.now;
  const file = join(dataDir, LOCK_STATE_FILE);
  const lockChanged = createEmitter<boolean>();

  function read(): LockState {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { locked: false, failures: 0, lastFailureAt: 0 };
      throw error;
    }
    try {
      return lockStateSchema.parse(JSON.parse(text));
    } catch {
      // A damaged file: locked, passphrase unknown (restore() asks the keychain), the wait as long as it can be.
      return { locked: true, failures: FREE_ATTEMPTS + 10, lastFailureAt: now() };
    }
  }

  let state = read();
  const apply = (next: LockState) => {
    const changed = next.locked !== state.locked;
    state = next;
    if (changed) lockChanged.fire(state.locked);
  };
  /** Written to disk (fsynced, then renamed into place) before anyone is told; a lock holds even if the disk refuses. */
  function write(next: LockState): void {
    try {
      mkdirSync(dataDir, { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(next));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, file);
    } catch (error) {
      if (next.locked && !state.locked) apply({ ...state, locked: true });
      throw error;
    }
    apply(next);
  }

  // A workstation with a passphrase opens locked, whatever it was when it stopped.
  if (state.passphraseSet === true && !state.locked) write({ ...state, locked: true });

  const hasPassphrase = () => state.passphraseSet !== false;

  const keychainRefusal = (error: unknown): CoreError =>
    new CoreError(
      API_ERROR_CODES.keychainUnavailable,
      error instanceof VaultUnavailableError ? error.reason : 'keychain-unavailable',
      error instanceof VaultUnavailableError
        ? `${error.message}. ${error.hint}`
        : `The OS keychain could not be read: ${error instanceof Error ? error.message : String(error)}`,
      { retryable: true },
    );

  // One attempt at a time: attempts sent together must not all pass the wait before any of them is counted.
  let attempts: Promise<unknown> = Promise.resolve();
  const check = (passphrase: string): Promise<void> => {
    const next = attempts.then(() => checkOne(passphrase));
    attempts = next.catch(() => undefined);
    return next;
  };

  /** Checks one attempt: waits are enforced, the attempt is on disk before the hash is computed. */
  async function checkOne(passphrase: string): Promise<void> {
    const wait = unlockWaitMs(state.failures) - Math.max(0, now() - state.lastFailureAt);
    if (wait > 0) {
      throw new CoreError(
        API_ERROR_CODES.tooManyAttempts,
        'passphrase-wait',
        `Too many wrong passphrases. Try again in ${seconds(wait)}.`,
        { params: { seconds: Math.ceil(wait / 1_000) }, retryable: true },
      );
    }
    let stored: string | undefined;
    try {
      stored = await vault.get(LOCK_PASSPHRASE_ACCOUNT);
    } catch (error) {
      throw keychainRefusal(error);
    }
    if (stored === undefined && state.passphraseSet !== true) {
      // Never set (the keychain can answer now): there is nothing to check, and nothing to stay locked for.
      write({ ...state, passphraseSet: false, locked: false });
      return;
    }
    if (stored === undefined) {
      // The file says a passphrase was set, the keychain has none: a reset or replaced keychain. Never open on that.
      throw new CoreError(
        API_ERROR_CODES.keychainChanged,
        'keychain-passphrase-lost',
        'The OS keychain no longer holds the lock passphrase (it was reset or replaced). An administrator must set this workstation up again.',
      );
    }
    write({ ...state, failures: state.failures + 1, lastFailureAt: now() });
    const [salt, hash] = stored.split(':').map((part) => Buffer.from(part, 'base64'));
    const candidate = await derive(passphrase, salt!, hash!.length);
    if (!timingSafeEqual(candidate, hash!)) {
      const left = FREE_ATTEMPTS - state.failures;
      const waitMs = unlockWaitMs(state.failures);
      throw new CoreError(
        API_ERROR_CODES.notAllowed,
        left > 0 ? 'passphrase-wrong' : 'passphrase-wrong-wait',
        left > 0
          ? `That passphrase is not correct. ${left} more ${left === 1 ? 'try' : 'tries'} before a wait.`
          : `That passphrase is not correct. Wait ${seconds(waitMs)} before the next try.`,
        { params: left > 0 ? { left } : { seconds: Math.ceil(waitMs / 1_000) } },
      );
    }
    write({ ...state, failures: 0, lastFailureAt: 0 });
  }

  const appLock: AppLock = {
    get locked() {
      return state.locked;
    },
    hasPassphrase,
    async restore() {
      if (state.passphraseSet !== undefined) return;
      let stored: string | undefined;
      try {
        stored = await vault.get(LOCK_PASSPHRASE_ACCOUNT);
      } catch {
        return; // unknown stays unknown; a lock request locks meanwhile
      }
      // Set by a version before this file knew of it: locked like any start with a passphrase. None: nothing to lock.
      write({ ...state, passphraseSet: stored !== undefined, locked: stored !== undefined });
    },
    async setPassphrase(passphrase, current) {
      // Not known yet (no keychain at start): ask it now rather than demand a current passphrase that may not exist.
      await appLock.restore();
      if (state.passphraseSet === undefined)
        throw new CoreError(
          API_ERROR_CODES.keychainUnavailable,
          'keychain-needed-for-passphrase',
          'The OS keychain is not available: the lock passphrase can be set once it is.',
          { retryable: true },
        );
      if (hasPassphrase()) {
        if (current === undefined)
          throw new CoreError(
            API_ERROR_CODES.notAllowed,
            'current-passphrase-needed',
            'Enter the current lock passphrase to change it.',
          );
        await check(current);
      }
      const salt = randomBytes(16);
      const hash = `${salt.toString('base64')}:${(await derive(passphrase, salt, 32)).toString('base64')}`;
      try {
        await vault.set(LOCK_PASSPHRASE_ACCOUNT, hash);
      } catch (error) {
        throw keychainRefusal(error);
      }
      // After the keychain: a file that says "set" with no hash behind it could never be unlocked.
      write({ ...state, passphraseSet: true });
    },
    lock() {
      if (!hasPassphrase()) return false;
      if (!state.locked) write({ ...state, locked: true });
      return true;
    },
    async unlock(passphrase) {
      await check(passphrase);
      write({ ...state, locked: false });
    },
    async confirm(passphrase, act = 'sign') {
      if (!hasPassphrase()) return;
      if (passphrase === undefined || passphrase === '') {
        const { reason, words } = ACTS[act];
        throw new CoreError(
          API_ERROR_CODES.passphraseRequired,
          reason,
          `${words} needs your lock passphrase, entered again.`,
        );
      }
      try {
        await check(passphrase);
      } catch (error) {
        // Someone guessing at an open workstation: once the waits begin, the app locks as well.
        if (
          error instanceof CoreError &&
          error.code !== API_ERROR_CODES.keychainUnavailable &&
          state.failures >= FREE_ATTEMPTS
        )
          appLock.lock();
        throw error;
      }
    },
    guard(inner) {
      const guarded = <T>(operation: () => Promise<T>): Promise<T> =>
        operation().catch((error: unknown) => {
          if (state.passphraseSet === true) appLock.lock();
          throw error;
        });
      return {
        get: (account) => guarded(() => inner.get(account)),
        set: (account, secret) => guarded(() => inner.set(account, secret)),
        delete: (account) => guarded(() => inner.delete(account)),
      };
    },
    onChanged: asUnsubscribe(lockChanged.event),
  };
  return appLock;
}
