import Conf from 'conf';
import { statSync } from 'node:fs';
import { z } from 'zod';
import { profileSchema } from '../../../shared/api/index.ts';
import { LANGUAGE_CHOICES } from '../../../shared/i18n/index.ts';

/**
 * What the workstation remembers outside its encrypted store: where it joins its region and how the user likes the
 * screen. Never a secret (those are in the OS keychain) and never patient data. Backed by `conf`, the engine of
 * electron-store, so that the same code runs in the Electron shell and in plain Node.
 */
/**
 * Where the workstation joins its region: the contract's schema, so that what the settings keep is what `setProfile`
 * accepts (amqps with `tls.caPem`; absent: plain AMQP, for a broker on loopback or behind a TLS tunnel).
 */
export const connectionProfileSchema = profileSchema;
export type ConnectionProfile = z.infer<typeof connectionProfileSchema>;

export const uiPreferencesSchema = z.object({
  /** `system` follows the OS's language; the user may choose another in Settings. */
  language: z.enum(LANGUAGE_CHOICES).default('system'),
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** Minutes without input after which the app locks. */
  lockAfterMinutes: z.number().int().min(1).max(240).default(10),
  /** Minutes a STAT, ASAP or urgent request may wait unaccepted before it is escalated (shown first, announced). */
  escalateAfterMinutes: z.number().int().min(1).max(240).default(15),
});
export type UiPreferences = z.infer<typeof uiPreferencesSchema>;

/**
 * The region's or clinic's rule for the app lock: `required` means the workstation refuses patient data and set-up
 * steps until a lock passphrase is set. Chosen at first run (later carried by the enrolment file); absent: not chosen,
 * which the core treats as `optional`.
 */
export const lockPolicySchema = z.enum(['required', 'optional']);
export type LockPolicy = z.infer<typeof lockPolicySchema>;

const settingsSchema = z.object({
  profile: connectionProfileSchema.optional(),
  ui: uiPreferencesSchema.default({
    language: 'system',
    theme: 'system',
    lockAfterMinutes: 10,
    escalateAfterMinutes: 15,
  }),
  /**
   * A digest of the store key, written when the store is created. A store file without its key in the keychain is
   * then recognised as a changed keychain (another backend, a reset) rather than a first run.
   */
  storeKeyDigest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  lockPolicy: lockPolicySchema.optional(),
});
export type Settings = z.infer<typeof settingsSchema>;

export interface WorkstationSettings {
  read(): Settings;
  setProfile(profile: ConnectionProfile | undefined): void;
  setUi(preferences: Partial<UiPreferences>): UiPreferences;
  setStoreKeyDigest(digest: string): void;
  setLockPolicy(policy: LockPolicy): void;
  readonly path: string;
}

/** Version of the settings layout; a migration below moves older files forward. */
const SETTINGS_VERSION = '2.2.0';

export function openWorkstationSettings(dir: string): WorkstationSettings {
  const conf = new Conf<Record<string, unknown>>({
    cwd: dir,
    configName: 'settings',
    projectVersion: SETTINGS_VERSION,
    migrations: {
      // 1.x kept the broker as one host and port.
      '2.0.0': (store) => {
        const profile = store.get('profile') as { host?: string; port?: number; hosts?: unknown } | undefined;
        if (profile?.host && !profile.hosts) {
          store.set('profile', {
            ...profile,
            hosts: [{ host: profile.host, port: profile.port ?? 5672 }],
            host: undefined,
            port: undefined,
          });
        }
      },
      // 2.1 asks for the lock policy at first run. A workstation set up before was never asked: it keeps the lock
      // optional, as it had it, instead of being stopped until someone chooses.
      '2.1.0': (store) => {
        if (connectionProfileSchema.safeParse(store.get('profile')).success && store.get('lockPolicy') === undefined)
          store.set('lockPolicy', 'optional');
      },
      // 2.2 has the region's languages (issue 22). German and French were accepted before but never translated: such
      // a workstation follows the OS now.
      '2.2.0': (store) => {
        if (['de', 'fr'].includes(store.get('ui.language') as string)) store.set('ui.language', 'system');
      },
    },
  });
  /**
   * The core reads the settings for every consult it sends and every message it takes in (the endpoint's id); `conf`
   * reads and parses the file at each access and the schema checks it again: 5.5–15 µs a read against 0.9 kept, and
   * 2–3 % of the event loop in P2's inline profile with 1 KiB attachments. What was read is kept while the file keeps
   * its size and modification time, so that a file edited by hand still counts from the next read; every write here
   * forgets it.
   */
  let kept: { size: number; mtimeMs: number; settings: Settings } | undefined;
  const read = (): Settings => {
    const file = statSync(conf.path, { throwIfNoEntry: false });
    if (file && kept && kept.size === file.size && kept.mtimeMs === file.mtimeMs) return kept.settings;
    const settings = deepFreeze(readFile());
    kept = file && { size: file.size, mtimeMs: file.mtimeMs, settings };
    return settings;
  };
  const forget = () => (kept = undefined);
  const readFile = (): Settings => {
    const parsed = settingsSchema.safeParse(conf.store);
    // A hand-edited or damaged file must not stop the app: keep what still parses, the defaults for the rest.
    if (parsed.success) return parsed.data;
    const ui = uiPreferencesSchema.safeParse(conf.get('ui'));
    const profile = connectionProfileSchema.safeParse(conf.get('profile'));
    const digest = settingsSchema.shape.storeKeyDigest.safeParse(conf.get('storeKeyDigest'));
    // A damaged policy reads as required: the stricter of the two.
    const policy =
      conf.get('lockPolicy') === undefined
        ? undefined
        : lockPolicySchema.catch('required').parse(conf.get('lockPolicy'));
    return settingsSchema.parse({
      ...(policy && { lockPolicy: policy }),
      ...(ui.success && { ui: ui.data }),
      ...(profile.success && { profile: profile.data }),
      ...(digest.success && { storeKeyDigest: digest.data }),
    });
  };
  return {
    path: conf.path,
    read,
    setProfile(profile) {
      forget();
      if (profile) conf.set('profile', connectionProfileSchema.parse(profile));
      else conf.delete('profile');
    },
    setUi(preferences) {
      const ui = uiPreferencesSchema.parse({ ...read().ui, ...preferences });
      forget();
      conf.set('ui', ui);
      return ui;
    },
    setStoreKeyDigest(digest) {
      forget();
      conf.set('storeKeyDigest', digest);
    },
    setLockPolicy(policy) {
      forget();
      conf.set('lockPolicy', lockPolicySchema.parse(policy));
    },
  };
}

/** Kept settings are shared by every reader: none may change them for the others. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
