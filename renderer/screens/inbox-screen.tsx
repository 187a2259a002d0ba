import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { COMMANDS, EVENTS, type ApiError, type CaseSummary } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import { VirtualListbox } from '../components/virtual-listbox.tsx';
import './lists.css';

type TabId = 'new' | 'progress' | 'waiting' | 'done';
const TABS: readonly { readonly id: TabId; readonly label: string }[] = [
  { id: 'new', label: 'New' },
  { id: 'progress', label: 'In progress' },
  { id: 'waiting', label: 'Waiting for information' },
  { id: 'done', label: 'Done' },
];

const ROW_HEIGHT = 44;
/** Rows asked for at a time: a tab of 10,000 cases opens with its first page, and the rest comes as the user scrolls. */
const PAGE = 100;

const STATUS_WORDS: Readonly<Record<string, string>> = {
  requested: 'Requested',
  accepted: 'Accepted',
  declined: 'Declined',
  'more-information-needed': 'More information needed',
  'information-provided': 'Information provided',
  redirected: 'Redirected',
  cancelled: 'Cancelled',
  completed: 'Completed',
};
type Priority = NonNullable<CaseSummary['priority']>;
const PRIORITY_WORDS: Readonly<Record<Priority, string>> = {
  stat: 'STAT',
  asap: 'ASAP',
  urgent: 'Urgent',
  routine: 'Routine',
};
const PRIORITY_TONE: Readonly<Record<Priority, string | undefined>> = {
  stat: 'bad',
  asap: 'bad',
  urgent: 'warn',
  routine: undefined,
};
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

interface Page {
  readonly bucket: TabId;
  readonly wanted: number;
  readonly rows: readonly CaseSummary[];
}

/**
 * The cases of one tab in the core's inbox order (unread, then most urgent, then newest), the first page at once and
 * more as the user scrolls (`more()`). A new generation (a case changed) reads the loaded range again, keeping the old
 * rows on screen until it arrives.
 */
function usePagedCases(
  api: RtsApi,
  bucket: TabId,
  generation: number,
): { page: Page | undefined; error: ApiError | undefined; more: () => void } {
  const [wanted, setWanted] = useState<{ bucket: TabId; rows: number }>({ bucket, rows: PAGE });
  const rows = wanted.bucket === bucket ? wanted.rows : PAGE;
  const [answer, setAnswer] = useState<{ page?: Page; error?: ApiError }>({});
  useEffect(() => {
    let live = true;
    void api.invoke(COMMANDS.listCases, { bucket, offset: 0, limit: rows }).then((result) => {
      if (live) setAnswer(result.ok ? { page: { bucket, wanted: rows, rows: result.value } } : { error: result.error });
    });
    return () => {
      live = false;
    };
  }, [api, bucket, rows, generation]);
  const page = answer.page?.bucket === bucket ? answer.page : undefined;
  const more = useCallback(() => {
    // Only once the page asked for has arrived, and only if it came back full.
    if (page && page.wanted === rows && page.rows.length === rows) setWanted({ bucket, rows: rows + PAGE });
  }, [page, rows, bucket]);
  return { page, error: answer.error, more };
}

/** Cases by state (new, in progress, waiting for information, done), unread and urgency first. */
export function InboxScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const counts = useCommand(api, COMMANDS.countCases, undefined);
  const [generation, setGeneration] = useState(0);
  // A burst of changes (a snapshot of receipts, a drained outbox) reads the list again once.
  const pendingReload = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEvent(api, EVENTS.caseChanged, () => {
    pendingReload.current ??= setTimeout(() => {
      pendingReload.current = undefined;
      counts.reload();
      setGeneration((g) => g + 1);
    }, 200);
  });
  useEffect(() => () => clearTimeout(pendingReload.current), []);
  const [chosen, setChosen] = useState<TabId>();
  // Until the user picks a tab: New if anything is new, else the first tab with cases.
  const tab =
    chosen ??
    (!counts.value || counts.value.new > 0 ? 'new' : (TABS.find((t) => counts.value![t.id] > 0)?.id ?? 'new'));
  const { page, error, more } = usePagedCases(api, tab, generation);
  const total = counts.value?.[tab];
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
      <ErrorMessage error={counts.error ?? error} />
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
              {t.label}
              <span className="tab-count">{counts.value ? counts.value[t.id] : '…'}</span>
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`${baseId}-panel`} aria-labelledby={tabId(tab)}>
          {!page ? (
            <p className="hint list-empty">Reading the cases…</p>
          ) : page.rows.length === 0 ? (
            <p className="hint list-empty">No cases here.</p>
          ) : (
            <VirtualListbox
              label={`${current.label} cases`}
              items={page.rows}
              {...(total !== undefined && { totalCount: total })}
              rowHeight={ROW_HEIGHT}
              itemKey={(c) => c.caseId}
              renderItem={(c) => <CaseRow summary={c} />}
              rowClassName={() => 'inbox-row'}
              itemAttributes={(c) => ({
                'data-testid': 'inbox-row',
                'data-case-id': c.caseId,
                'data-unread': c.unread ? '' : undefined,
              })}
              onOpen={(c) => navigate({ name: 'case', caseId: c.caseId })}
              onVisibleEnd={(last) => {
                if (last >= page.rows.length - 20) more();
              }}
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
      <span>
        <span className="badge" data-tone={PRIORITY_TONE[priority]}>
          {PRIORITY_WORDS[priority]}
        </span>
      </span>
      <span>
        {c.unread && <span className="badge unread-mark">unread</span>}
        {STATUS_WORDS[c.status] ?? c.status}
      </span>
      <span>{c.role === 'applicant' ? c.expertId : c.applicantId}</span>
      <span>{c.role === 'applicant' ? 'Sent' : 'Received'}</span>
      <span>
        <time dateTime={c.updatedAt}>{dateTime.format(new Date(c.updatedAt))}</time>
      </span>
      <span>
        {c.attention && (
          <span className="badge" data-tone="bad" title={c.attention}>
            {c.attention}
          </span>
        )}
      </span>
    </>
  );
}
