import { useEffect, useState } from 'react';
import { COMMANDS, type CommandOutput } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { ErrorMessage } from './error-message.tsx';

type AuditEntry = CommandOutput<typeof COMMANDS.listAuditLog>['entries'][number];

const PAGE = 50;

/** What each action means, for people rather than for the log. */
const ACTION_WORDS: Readonly<Record<string, string>> = {
  'identity-imported': 'imported a certificate',
  enrolled: 'joined the region with an enrolment file',
  registered: 'registered the workstation',
  'case-created': 'created a case',
  'case-received': 'received a case',
  'case-opened': 'opened',
  decrypted: 'decrypted',
  signed: 'signed',
  sent: 'sent',
  received: 'received',
  rejected: 'refused',
  exported: 'exported',
  locked: 'locked the app',
  unlocked: 'unlocked the app',
  'crl-applied': "applied the region's new revocation list",
  'crl-ignored': 'ignored a revocation list (not newer, or not from the region)',
};

/**
 * Settings → Audit log: who opened, decrypted, signed, sent and exported what, and when, newest first, a page at a
 * time; and the check of the whole log (its keyed chain and the newest entry the keychain recorded).
 */
export function AuditLogPanel({ api }: { api: RtsApi }) {
  const check = useAction(api, COMMANDS.checkAuditLog);
  const list = useAction(api, COMMANDS.listAuditLog);
  const { run: load } = list;
  const [checked, setChecked] = useState<string>();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [total, setTotal] = useState<number>();
  useEffect(() => {
    void load({ limit: PAGE }).then((page) => {
      if (!page) return;
      setEntries(page.entries);
      setTotal(page.total);
    });
  }, [load]);
  const older = entries.at(-1)?.seq;
  const more = older !== undefined && older > 1;
  return (
    <>
      <p className="hint">
        Every opening, decryption, signature, sending and export is logged in a chain sealed with a key in the OS
        keychain, which also records the newest entry: the check finds any entry changed, removed, inserted or cut off.
      </p>
      <button
        type="button"
        disabled={check.busy}
        onClick={() =>
          void check
            .run(undefined)
            .then(
              (r) =>
                r &&
                setChecked(r.ok ? `Intact: ${r.entries} entries.` : `Broken at entry ${r.firstBadSeq}: ${r.problem}.`),
            )
        }
      >
        Check audit log
      </button>
      {checked && <p role="status">{checked}</p>}
      <ErrorMessage error={check.error ?? list.error} />
      {total !== undefined && (
        <p className="hint">
          {total === 0 ? 'No entries yet.' : `Showing the newest ${entries.length} of ${total} entries.`}
        </p>
      )}
      {entries.length > 0 && (
        <table className="data-table" aria-label="Audit log entries">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Did</th>
              <th scope="col">What</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-action={e.action}>
                <td>{e.seq}</td>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.actor}</td>
                <td>{ACTION_WORDS[e.action] ?? e.action}</td>
                <td>{e.subject}</td>
                <td>{e.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more && (
        <button
          type="button"
          className="link"
          disabled={list.busy}
          onClick={() =>
            void load({ limit: PAGE, beforeSeq: older }).then((page) => {
              if (!page) return;
              setEntries((shown) => [...shown, ...page.entries]);
              setTotal(page.total);
            })
          }
        >
          Older entries
        </button>
      )}
    </>
  );
}
