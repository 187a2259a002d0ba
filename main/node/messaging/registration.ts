import { migrate, type SqliteDatabase } from '../../../transport/index.ts';

/**
 * Whether the hub has admitted this workstation (docs/protocol.md §5): `requested` once the registration is queued,
 * `accepted` on the hub's registration-accepted notice, `rejected` with the hub's reason.
 */
export type RegistrationState = 'none' | 'requested' | 'accepted' | 'rejected';

export interface Registration {
  state(): { state: RegistrationState; reason?: string; endpointId?: string };
  requested(messageId: string, endpointId: string): void;
  isRegistration(messageId: string): boolean;
  accepted(): void;
  rejected(reason: string): void;
  /** The region changed (another broker, another demo region): the next start registers again. */
  reset(): void;
}

const MIGRATIONS = [
  {
    version: 1,
    sql: `create table registration (
    id integer primary key check (id = 1), state text not null, endpoint_id text, message_id text, reason text, at integer not null
  )`,
  },
];

export function openRegistration(db: SqliteDatabase, onChange: () => void): Registration {
  migrate(db, 'registration', MIGRATIONS);
  const select = db.prepare<
    [],
    { state: RegistrationState; endpoint_id: string | null; message_id: string | null; reason: string | null }
  >('select * from registration where id = 1');
  const row = () => select.get();
  const set = (state: RegistrationState, fields: { endpointId?: string; messageId?: string; reason?: string }) => {
    const current = row();
    db.prepare(
      'insert or replace into registration (id, state, endpoint_id, message_id, reason, at) values (1, ?, ?, ?, ?, ?)',
    ).run(
      state,
      fields.endpointId ?? current?.endpoint_id ?? null,
      fields.messageId ?? current?.message_id ?? null,
      fields.reason ?? null,
      Date.now(),
    );
    setImmediate(onChange);
  };
  return {
    state() {
      const r = row();
      return r
        ? { state: r.state, ...(r.reason && { reason: r.reason }), ...(r.endpoint_id && { endpointId: r.endpoint_id }) }
        : { state: 'none' };
    },
    requested: (messageId, endpointId) => set('requested', { messageId, endpointId }),
    isRegistration: (messageId) => row()?.message_id === messageId,
    accepted: () => set('accepted', {}),
    rejected: (reason) => set('rejected', { reason }),
    reset() {
      db.prepare('delete from registration').run();
      setImmediate(onChange);
    },
  };
}
