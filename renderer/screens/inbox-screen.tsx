import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { COMMANDS, EVENTS } from '../../shared/api/channels.ts';
import type { CaseSummary } from '../../shared/api/consult-schemas.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import { VirtualListbox } from './directory-screen.tsx';
import './lists.css';

type TabId = 'new' | 'progress' | 'waiting' | 'done';
const TABS: readonly { readonly id: TabId; readonly label: string }[] = [
  { id: 'new', label: 'New' },
  { id: 'progress', label: 'In progress' },
  { id: 'waiting', label: 'Waiting for information' },
  { id: 'done', label: 'Done' },
];

const ROW_HEIGHT = 44;
/** The contract's maximum: every case is listed, so that counts and order are true for all of them. */
const LIST_LIMIT = 100_000;

const STATUS_WORDS: Readonly<Record<string, string>> = {
  requested: 'Requested', accepted: 'Accepted', declined: 'Declined', 'more-information-needed': 'More information needed',
  'information-provided': 'Information provided', redirected: 'Redirected', cancelled: 'Cancelled', completed: 'Completed',
};
type Priority = NonNullable<CaseSummary['priority']>;
const PRIORITY_WORDS: Readonly<Record<Priority, string>> = { stat: 'STAT', asap: 'ASAP', urgent: 'Urgent', routine: 'Routine' };
const PRIORITY_TONE: Readonly<Record<Priority, string | undefined>> = { stat: 'bad', asap: 'bad', urgent: 'warn', routine: undefined };
const URGENCY: Readonly<Record<Priority, number>> = { stat: 0, asap: 1, urgent: 2, routine: 3 };
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

function tabOf(c: CaseSummary): TabId {
  switch (c.status) {
    case 'requested': return c.role === 'expert' ? 'new' : 'progress';
    case 'accepted':
    case 'information-provided': return 'progress';
    case 'more-information-needed': return 'waiting';
    default: return 'done';
  }
}

/** Unread first, then the most urgent, then the newest. */
function byAttention(a: CaseSummary, b: CaseSummary): number {
  if (a.unread !== b.unread) return a.unread ? -1 : 1;
  const urgency = URGENCY[a.priority ?? 'routine'] - URGENCY[b.priority ?? 'routine'];
  if (urgency !== 0) return urgency;
  // Both are ISO instants in UTC from the core: their text orders like their time.
  return a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0;
}

/** The listed cases with the changes announced since, a change replacing its case unless the list is already newer. */
function withChanges(listed: readonly CaseSummary[], changed: ReadonlyMap<string, CaseSummary>): readonly CaseSummary[] {
  if (changed.size === 0) return listed;
  const seen = new Set<string>();
  const result = listed.map((c) => {
    seen.add(c.caseId);
    const newer = changed.get(c.caseId);
    return newer && newer.updatedAt >= c.updatedAt ? newer : c;
  });
  for (const [caseId, c] of changed) if (!seen.has(caseId)) result.push(c);
  return result;
}

function groupCases(cases: readonly CaseSummary[]): Record<TabId, CaseSummary[]> {
  const groups: Record<TabId, CaseSummary[]> = { new: [], progress: [], waiting: [], done: [] };
  for (const c of cases) groups[tabOf(c)].push(c);
  for (const list of Object.values(groups)) list.sort(byAttention);
  return groups;
}

/** Cases by state (new, in progress, waiting for information, done), unread and urgency first. */
export function InboxScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const listed = useCommand(api, COMMANDS.listCases, { limit: LIST_LIMIT });
  // Changes arrive with the case's new summary: applied in place rather than listing every case again.
  const [changed, setChanged] = useState<ReadonlyMap<string, CaseSummary>>(() => new Map());
  useEvent(api, EVENTS.caseChanged, ({ summary }) => setChanged((m) => new Map(m).set(summary.caseId, summary)));
  const groups = useMemo(() => groupCases(withChanges(listed.value ?? [], changed)), [listed.value, changed]);
  const [chosen, setChosen] = useState<TabId>();
  // Until the user picks a tab: New if anything is new, else the first tab with cases.
  const tab = chosen ?? (groups.new.length > 0 || !listed.value ? 'new' : TABS.find((t) => groups[t.id].length > 0)?.id ?? 'new');
  const baseId = useId();
  const tabId = (id: TabId) => `${baseId}-tab-${id}`;
  const current = TABS.find((t) => t.id === tab)!;

  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = TABS[(next + TABS.length) % TABS.length]!;
    setChosen(target.id);
    document.getElementById(tabId(target.id))?.focus();
  };

  return (
    <section className="screen-stack" aria-label="Inbox">
      <h2 className="screen-title">Inbox</h2>
      <ErrorMessage error={listed.error} />
      <div className="panel">
        <div className="tablist" role="tablist" aria-label="Cases by state" onKeyDown={onTabKey}>
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={tabId(t.id)}
              aria-selected={t.id === tab}
              aria-controls={`${baseId}-panel`}
              tabIndex={t.id === tab ? 0 : -1}
              onClick={() => setChosen(t.id)}
            >
              {t.label}<span className="tab-count">{listed.value ? groups[t.id].length : '…'}</span>
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`${baseId}-panel`} aria-labelledby={tabId(tab)}>
          {!listed.value ? <p className="hint list-empty">Reading the cases…</p>
            : groups[tab].length === 0 ? <p className="hint list-empty">No cases here.</p>
              : (
                <VirtualListbox
                  label={`${current.label} cases`}
                  items={groups[tab]}
                  rowHeight={ROW_HEIGHT}
                  itemKey={(c) => c.caseId}
                  renderItem={(c) => <CaseRow summary={c} />}
                  rowClassName={() => 'inbox-row'}
                  itemAttributes={(c) => ({ 'data-testid': 'inbox-row', 'data-case-id': c.caseId, 'data-unread': c.unread ? '' : undefined })}
                  onOpen={(c) => navigate({ name: 'case', caseId: c.caseId })}
                  resetKey={tab}
                />
              )}
        </div>
      </div>
    </section>
  );
}

function CaseRow({ summary: c }: { summary: CaseSummary }) {
  const priority = c.priority ?? 'routine';
  return (
    <>
      <span><span className="badge" data-tone={PRIORITY_TONE[priority]}>{PRIORITY_WORDS[priority]}</span></span>
      <span>{c.unread && <span className="badge unread-mark">unread</span>}{STATUS_WORDS[c.status] ?? c.status}</span>
      <span>{c.role === 'applicant' ? c.expertId : c.applicantId}</span>
      <span>{c.role === 'applicant' ? 'Sent' : 'Received'}</span>
      <span><time dateTime={c.updatedAt}>{dateTime.format(new Date(c.updatedAt))}</time></span>
      <span>{c.attention && <span className="badge" data-tone="bad" title={c.attention}>{c.attention}</span>}</span>
    </>
  );
}
