import { memo, useCallback, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useIntl } from 'react-intl';
import { COMMANDS, EVENTS, type ApiError, type CommandInput, type InboxRow } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import { VirtualListbox } from '../components/virtual-listbox.tsx';
import { attentionText } from '../components/reason-words.ts';
import { ageSexText, waitingText } from '../components/case-format.ts';
import './lists.css';

type TabId = 'new' | 'progress' | 'waiting' | 'done';
const TABS: readonly { readonly id: TabId; readonly label: string }[] = [
  { id: 'new', label: 'New' },
  { id: 'progress', label: 'In progress' },
  { id: 'waiting', label: 'Waiting for information' },
  { id: 'done', label: 'Done' },
];

const ROW_HEIGHT = 52;
/**
 * Rows asked for at a time: a tab of 10,000 cases opens with its first page, and the rest comes as the user scrolls.
 * The first page of a view holds about a screen of rows (each row crosses the bridge as about 600 bytes of JSON, which
 * each keystroke of a search pays); once the user stops typing (or reaches its end) it grows to a full page of 50,
 * which fills three screens, and by 50 more as the user scrolls.
 */
const PAGE = 50;
const firstPage = () => Math.min(PAGE, Math.max(20, Math.ceil(window.innerHeight / ROW_HEIGHT)));
/** How long a first page stays alone: typing on within this asks for the next query's first page instead. */
const REST_AFTER_MS = 300;

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
type Priority = NonNullable<InboxRow['priority']>;
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

type ListInput = NonNullable<CommandInput<typeof COMMANDS.listCases>>;
/** What narrows and orders the list besides the tab. */
interface View {
  readonly query: string;
  readonly priority: Priority | '';
  readonly waitingOn: 'me' | 'them' | '';
  readonly sort: NonNullable<ListInput['sort']>;
}
const FIRST_VIEW: View = { query: '', priority: '', waitingOn: '', sort: 'inbox' };
const SORT_WORDS: Readonly<Record<View['sort'], string>> = {
  inbox: 'Inbox order (escalated, unread, urgent)',
  urgency: 'Most urgent first',
  waiting: 'Waiting longest first',
  newest: 'Newest first',
  patient: 'Patient name',
};

interface Page {
  readonly key: string;
  /** The search these rows answer ('' for none). */
  readonly query: string;
  readonly wanted: number;
  readonly rows: readonly InboxRow[];
  /** When they were read: what waiting times are counted to (the rows are read again each minute). */
  readonly readAt: Date;
}

/**
 * The cases of one tab and view in the core's order, the first page at once and more as the user scrolls (`more()`).
 * While another view or a new generation (a case changed) is read, the rows on screen stay (`shown`) until it arrives;
 * `page` is only the current view's.
 */
function usePagedCases(
  api: RtsApi,
  bucket: TabId,
  view: View,
  generation: number,
): {
  page: Page | undefined;
  shown: Page | undefined;
  error: ApiError | undefined;
  more: (lastRendered: number) => void;
} {
  const { priority, waitingOn, sort } = view;
  const query = view.query.trim();
  // A search looks through every tab: a past case is found wherever it is.
  const key = JSON.stringify([query ? 'all' : bucket, query, priority, waitingOn, sort]);
  const [first] = useState(firstPage);
  const [wanted, setWanted] = useState<{ key: string; rows: number }>({ key, rows: first });
  const rows = wanted.key === key ? wanted.rows : first;
  const [answer, setAnswer] = useState<{ page?: Page; error?: ApiError }>({});
  useEffect(() => {
    let live = true;
    const input: ListInput = {
      // A search in the inbox order lists the most recent first (the core's order without a tab).
      ...(query ? { query, ...(sort !== 'inbox' && { sort }) } : { bucket, sort }),
      ...(priority && { priorities: [priority] }),
      ...(waitingOn && { waitingOn }),
      offset: 0,
      limit: rows,
    };
    void api.invoke(COMMANDS.listCases, input).then((result) => {
      if (live)
        setAnswer(
          result.ok
            ? { page: { key, query, wanted: rows, rows: result.value, readAt: new Date() } }
            : { error: result.error },
        );
    });
    return () => {
      live = false;
    };
  }, [api, key, bucket, query, priority, waitingOn, sort, rows, generation]);
  const page = answer.page?.key === key ? answer.page : undefined;
  const full = page !== undefined && page.wanted === rows && page.rows.length === rows;
  // A full first page is followed by the rest of a page once the user has stopped typing.
  useEffect(() => {
    if (!full || rows !== first) return;
    const timer = setTimeout(() => setWanted({ key, rows: PAGE }), REST_AFTER_MS);
    return () => clearTimeout(timer);
  }, [full, rows, first, key]);
  const more = useCallback(
    (lastRendered: number) => {
      // Only once the page asked for has arrived, and only if it came back full; a first page only at its end.
      if (full && lastRendered >= rows - (rows === first ? 2 : 15))
        setWanted({ key, rows: rows === first ? PAGE : rows + PAGE });
    },
    [full, rows, first, key],
  );
  return { page, shown: page ?? answer.page, error: answer.error, more };
}

/** Whether the list shows a tab as it is: no search, no filter, the inbox order. */
const isPlain = (view: View) => !view.query.trim() && !view.priority && !view.waitingOn && view.sort === 'inbox';

/** Cases by state (new, in progress, waiting for information, done), for triage: escalated, unread and urgent first. */
export function InboxScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const counts = useCommand(api, COMMANDS.countCases, undefined);
  const [generation, setGeneration] = useState(0);
  // A burst of changes (a snapshot of receipts, a drained outbox) reads the list again once.
  const pendingReload = useRef<ReturnType<typeof setTimeout>>(undefined);
  const reload = () => {
    pendingReload.current ??= setTimeout(() => {
      pendingReload.current = undefined;
      counts.reload();
      setGeneration((g) => g + 1);
    }, 200);
  };
  useEvent(api, EVENTS.caseChanged, reload);
  useEvent(api, EVENTS.caseEscalated, reload);
  useEvent(api, EVENTS.casesDescribed, reload);
  useEffect(() => () => clearTimeout(pendingReload.current), []);
  // Waiting times move on: the rows are read again each minute, and each reading is timed afresh.
  const reloadCounts = counts.reload;
  useEffect(() => {
    const timer = setInterval(() => {
      reloadCounts();
      setGeneration((g) => g + 1);
    }, 60_000);
    return () => clearInterval(timer);
  }, [reloadCounts]);
  const [chosen, setChosen] = useState<TabId>();
  const [view, setView] = useState<View>(FIRST_VIEW);
  const change = (part: Partial<View>) => setView((v) => ({ ...v, ...part }));
  const searching = view.query.trim() !== '';
  // Until the user picks a tab: New if anything is new, else the first tab with cases.
  const tab =
    chosen ??
    (!counts.value || counts.value.new > 0 ? 'new' : (TABS.find((t) => counts.value![t.id] > 0)?.id ?? 'new'));
  const { page, shown, error, more } = usePagedCases(api, tab, view, generation);
  const total = isPlain(view) ? counts.value?.[tab] : undefined;
  const baseId = useId();
  const tabId = (id: TabId) => `${baseId}-tab-${id}`;
  const current = TABS.find((t) => t.id === tab)!;
  const listRef = useRef<HTMLDivElement>(null);
  const escalated = counts.value?.escalated ?? 0;

  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const target = TABS[(next + TABS.length) % TABS.length]!;
    setChosen(target.id);
    if (searching) change({ query: '' });
    document.getElementById(tabId(target.id))?.focus();
  };

  return (
    <section className="screen-stack" aria-label="Inbox">
      <h2 className="screen-title">Inbox</h2>
      <ErrorMessage error={counts.error ?? error} />
      {escalated > 0 && (
        <p className="escalation-banner" role="alert" data-testid="escalation-banner">
          {escalated === 1
            ? '1 urgent request has waited too long to be accepted.'
            : `${escalated} urgent requests have waited too long to be accepted.`}{' '}
          They lead the New tab.
        </p>
      )}
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
              onClick={() => {
                setChosen(t.id);
                // A tab chosen while searching shows that tab: the search was across all of them.
                if (searching) change({ query: '' });
              }}
            >
              {t.label}
              <span className="tab-count">{counts.value ? counts.value[t.id] : '…'}</span>
            </button>
          ))}
        </div>
        <div className="inbox-tools" role="group" aria-label="Find and order cases">
          <input
            type="search"
            aria-label="Search cases"
            placeholder="Patient, reason, diagnosis or colleague"
            maxLength={200}
            value={view.query}
            onChange={(e) => change({ query: e.target.value })}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown') {
                e.preventDefault();
                listRef.current?.querySelector<HTMLElement>('[role="listbox"]')?.focus();
              }
            }}
          />
          <label>
            Urgency{' '}
            <select value={view.priority} onChange={(e) => change({ priority: e.target.value as View['priority'] })}>
              <option value="">Any</option>
              {(['stat', 'asap', 'urgent', 'routine'] as const).map((p) => (
                <option key={p} value={p}>
                  {PRIORITY_WORDS[p]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Waiting on{' '}
            <select value={view.waitingOn} onChange={(e) => change({ waitingOn: e.target.value as View['waitingOn'] })}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              <option value="them">The other party</option>
            </select>
          </label>
          <label>
            Order{' '}
            <select value={view.sort} onChange={(e) => change({ sort: e.target.value as View['sort'] })}>
              {Object.entries(SORT_WORDS).map(([value, words]) => (
                <option key={value} value={value}>
                  {words}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div
          role="tabpanel"
          id={`${baseId}-panel`}
          aria-labelledby={tabId(tab)}
          ref={listRef}
          data-query={shown?.query}
          data-testid="inbox-cases"
          aria-busy={page ? undefined : true}
        >
          {searching && (
            <p className="hint">Searching every tab{view.sort === 'inbox' ? ', most recent first' : ''}.</p>
          )}
          {!shown ? (
            <p className="hint list-empty">Reading the cases…</p>
          ) : shown.rows.length === 0 ? (
            <p className="hint list-empty">{isPlain(view) ? 'No cases here.' : 'No cases match.'}</p>
          ) : (
            <VirtualListbox
              label={searching ? 'Cases found in every tab' : `${current.label} cases`}
              items={shown.rows}
              {...(total !== undefined && { totalCount: total })}
              rowHeight={ROW_HEIGHT}
              itemKey={(c) => c.caseId}
              renderItem={(c) => <CaseRow summary={c} now={shown.readAt} />}
              rowClassName={() => 'inbox-row'}
              itemAttributes={(c) => ({
                'data-testid': 'inbox-row',
                'data-case-id': c.caseId,
                'data-unread': c.unread ? '' : undefined,
                'data-escalated': c.escalated ? '' : undefined,
              })}
              onOpen={(c) => navigate({ name: 'case', caseId: c.caseId })}
              onVisibleEnd={more}
              resetKey={`${tab} ${JSON.stringify(view)}`}
            />
          )}
        </div>
      </div>
    </section>
  );
}

const WAITING_WORDS: Readonly<Record<InboxRow['waitingOn'], string>> = {
  me: 'waits on you',
  them: 'waits on them',
  nobody: 'closed',
};

/**
 * One case as a clinician triages it: urgency, patient, reason, who, how long and on whom it waits, and its state.
 * Drawn again only when its row or the time of reading changes (not at each keystroke of a search).
 */
const CaseRow = memo(function CaseRow({ summary: c, now }: { summary: InboxRow; now: Date }) {
  const intl = useIntl();
  const priority = c.priority ?? 'routine';
  const party = c.otherParty;
  const who = party.name ?? party.practitionerId;
  return (
    <>
      <span>
        <span className="badge" data-tone={PRIORITY_TONE[priority]}>
          {PRIORITY_WORDS[priority]}
        </span>
        {c.escalated && (
          <span className="badge escalated-mark" data-tone="bad" title="Not accepted within your escalation time">
            late
          </span>
        )}
      </span>
      <span className="inbox-two-lines">
        {c.patient ? (
          <span>
            <span className="inbox-strong">{c.patient.name || 'No name given'}</span>{' '}
            <span className="inbox-quiet">{ageSexText(intl, c.patient.birthDate, c.patient.gender, now)}</span>
          </span>
        ) : (
          <span className="inbox-quiet">Patient not read yet</span>
        )}
        <span className="inbox-quiet">{c.reason ?? ''}</span>
      </span>
      <span
        className="inbox-two-lines"
        title={`${party.practitionerId}${party.specialties ? ` · ${party.specialties}` : ''}`}
      >
        <span>
          {c.role === 'applicant' ? 'To ' : 'From '}
          {who}
        </span>
        <span className="inbox-quiet">{party.hospital ?? ''}</span>
      </span>
      <span>
        {c.unread && <span className="badge unread-mark">unread</span>}
        {STATUS_WORDS[c.status] ?? c.status}
      </span>
      <span className="inbox-two-lines" title={`In this state since ${dateTime.format(new Date(c.statusSince))}`}>
        {c.waitingOn === 'nobody' ? (
          <time dateTime={c.updatedAt}>{dateTime.format(new Date(c.updatedAt))}</time>
        ) : (
          <>
            <time dateTime={c.statusSince}>{waitingText(intl, c.statusSince, now)}</time>
            <span className="inbox-quiet">{WAITING_WORDS[c.waitingOn]}</span>
          </>
        )}
      </span>
      <span>
        {c.attention && (
          <span className="badge" data-tone="bad" title={attentionText(intl, c.attention)}>
            {attentionText(intl, c.attention)}
          </span>
        )}
      </span>
    </>
  );
});
