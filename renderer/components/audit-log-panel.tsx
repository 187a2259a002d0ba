import { useEffect, useState } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, type CommandOutput } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import { useAction } from '../hooks/use-command.ts';
import { useT } from '../i18n/index.ts';
import { formatDateTime } from './case-format.ts';
import { ErrorMessage } from './error-message.tsx';

type AuditEntry = CommandOutput<typeof COMMANDS.listAuditLog>['entries'][number];
type AuditCheck = CommandOutput<typeof COMMANDS.checkAuditLog>;

const PAGE = 50;

/** What each action means, for people rather than for the log; an action this version does not know shows as it came. */
const ACTION_WORDS: Readonly<Record<string, MessageId>> = {
  'identity-imported': 'settings.audit.action.identityImported',
  enrolled: 'settings.audit.action.enrolled',
  registered: 'settings.audit.action.registered',
  'case-created': 'settings.audit.action.caseCreated',
  'case-received': 'settings.audit.action.caseReceived',
  'case-opened': 'settings.audit.action.caseOpened',
  decrypted: 'settings.audit.action.decrypted',
  signed: 'settings.audit.action.signed',
  sent: 'settings.audit.action.sent',
  received: 'settings.audit.action.received',
  rejected: 'settings.audit.action.rejected',
  exported: 'settings.audit.action.exported',
  withdrawn: 'settings.audit.action.withdrawn',
  locked: 'settings.audit.action.locked',
  unlocked: 'settings.audit.action.unlocked',
  'crl-applied': 'settings.audit.action.crlApplied',
  'crl-ignored': 'settings.audit.action.crlIgnored',
};

/** The actor the core writes for what the workstation did by itself; a practitioner's directory id shows as it is. */
const SYSTEM_ACTOR = 'system';

/**
 * Settings → Audit log: who opened, decrypted, signed, sent and exported what, and when, newest first, a page at a
 * time; and the check of the whole log (its keyed chain and the newest entry the keychain recorded).
 */
export function AuditLogPanel({ api }: { api: RtsApi }) {
  const t = useT();
  const intl = useIntl();
  const check = useAction(api, COMMANDS.checkAuditLog);
  const list = useAction(api, COMMANDS.listAuditLog);
  const { run: load } = list;
  const [checked, setChecked] = useState<AuditCheck>();
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [total, setTotal] = useState<number>();
  useEffect(() => {
    void load({ limit: PAGE }).then((page) => {
      if (!page) return;
      setEntries(page.entries);
      setTotal(page.total);
    });
  }, [load]);
  const actionWords = (action: string) => (Object.hasOwn(ACTION_WORDS, action) ? t(ACTION_WORDS[action]!) : action);
  const older = entries.at(-1)?.seq;
  const more = older !== undefined && older > 1;
  return (
    <>
      <p className="hint">{t('settings.audit.hint')}</p>
      <button
        type="button"
        disabled={check.busy}
        onClick={() => void check.run(undefined).then((r) => r && setChecked(r))}
      >
        {t('settings.audit.check')}
      </button>
      {checked && (
        <p role="status">
          {checked.ok
            ? t('settings.audit.intact', { entries: checked.entries })
            : t('settings.audit.broken', { seq: checked.firstBadSeq, problem: checked.problem })}
        </p>
      )}
      <ErrorMessage error={check.error ?? list.error} />
      {total !== undefined && (
        <p className="hint">
          {total === 0 ? t('settings.audit.empty') : t('settings.audit.showing', { shown: entries.length, total })}
        </p>
      )}
      {entries.length > 0 && (
        <table className="data-table" aria-label={t('settings.audit.entries')}>
          <thead>
            <tr>
              <th scope="col">{t('settings.audit.column.seq')}</th>
              <th scope="col">{t('settings.audit.column.when')}</th>
              <th scope="col">{t('settings.audit.column.who')}</th>
              <th scope="col">{t('settings.audit.column.did')}</th>
              <th scope="col">{t('settings.audit.column.what')}</th>
              <th scope="col">{t('settings.audit.column.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} data-action={e.action}>
                <td>{intl.formatNumber(e.seq)}</td>
                <td>{formatDateTime(intl, e.at)}</td>
                <td>{e.actor === SYSTEM_ACTOR ? t('settings.audit.system') : e.actor}</td>
                <td>{actionWords(e.action)}</td>
                <td>{e.subject}</td>
                {/* A record's detail is written once, in English (ids and technical words), and kept as written. */}
                <td lang="en">{e.detail}</td>
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
          {t('settings.audit.older')}
        </button>
      )}
    </>
  );
}
