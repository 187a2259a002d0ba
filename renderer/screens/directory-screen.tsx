import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { COMMANDS, EVENTS } from '../../shared/api/channels.ts';
import type { ApiError } from '../../shared/api/api-error.ts';
import type { CommandOutput, DirectoryState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { CertificateList } from '../components/certificate-list.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import './lists.css';

type ExpertSummary = CommandOutput<typeof COMMANDS.searchDirectory>[number];
type DataAttributes = Readonly<Record<`data-${string}`, string | undefined>>;

// --- a keyboard-operable virtual list (also the inbox's) ---------------------------------------------------------------

export interface VirtualListboxProps<T> {
  readonly label: string;
  readonly items: readonly T[];
  /** Every row is this tall (px): the list's CSS keeps rows at one height, so nothing needs measuring. */
  readonly rowHeight: number;
  readonly itemKey: (item: T) => string;
  readonly renderItem: (item: T, ids: { readonly label: string; readonly description: string }) => ReactNode;
  /** Each row is named by the element with `ids.label` (else by its whole text). */
  readonly labelledByItem?: boolean;
  readonly onOpen: (item: T) => void;
  /** The item opened elsewhere (e.g. the details beside the list): marked selected. */
  readonly selectedKey?: string | undefined;
  /** When this changes the list scrolls back to the top (a new search, another tab). */
  readonly resetKey: string;
  readonly listRef?: RefObject<HTMLDivElement | null>;
  readonly attributes?: DataAttributes;
  readonly itemAttributes?: (item: T) => DataAttributes;
  readonly rowClassName?: (item: T) => string;
}

/**
 * A listbox that renders only the rows in view. Focus stays on the list and `aria-activedescendant` names the active
 * row (rows out of view do not exist, so they could not hold focus): arrows, Page Up/Down, Home and End move, Enter or
 * Space opens.
 */
export function VirtualListbox<T>(props: VirtualListboxProps<T>) {
  const { items, rowHeight, itemKey, onOpen } = props;
  const ownRef = useRef<HTMLDivElement>(null);
  const scrollRef = props.listRef ?? ownRef;
  const baseId = useId();
  // The active row is remembered by key, so it stays on its item when the list is refreshed.
  const [activeKey, setActiveKey] = useState<string>();
  const found = activeKey === undefined ? -1 : items.findIndex((item) => itemKey(item) === activeKey);
  const activeIndex = found >= 0 ? found : 0;
  // eslint-disable-next-line react-hooks/incompatible-library -- no React Compiler here; the virtualizer is read only in this render, never memoized
  const virtualizer = useVirtualizer({ count: items.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 6 });

  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [props.resetKey, scrollRef]);

  const move = (index: number) => {
    const target = Math.min(Math.max(index, 0), items.length - 1);
    const item = items[target];
    if (item === undefined) return;
    setActiveKey(itemKey(item));
    virtualizer.scrollToIndex(target);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const active = items[activeIndex];
    if (active === undefined) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? rowHeight) / rowHeight) - 1);
    const targets: Record<string, number> = {
      ArrowDown: activeIndex + 1, ArrowUp: activeIndex - 1, PageDown: activeIndex + page, PageUp: activeIndex - page, Home: 0, End: items.length - 1,
    };
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onOpen(active);
    } else if (event.key in targets) {
      event.preventDefault();
      move(targets[event.key]!);
    }
  };

  const optionId = (index: number) => `${baseId}-${index}`;
  return (
    <div
      ref={scrollRef}
      className="virtual-listbox"
      role="listbox"
      aria-label={props.label}
      tabIndex={0}
      aria-activedescendant={items.length > 0 ? optionId(activeIndex) : undefined}
      onKeyDown={onKeyDown}
      {...props.attributes}
    >
      <div className="virtual-sizer" role="presentation" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => {
          const item = items[row.index]!;
          const key = itemKey(item);
          const ids = { label: `${optionId(row.index)}-l`, description: `${optionId(row.index)}-d` };
          return (
            <div
              key={key}
              id={optionId(row.index)}
              role="option"
              className={`virtual-row ${props.rowClassName?.(item) ?? ''}`}
              aria-selected={key === props.selectedKey}
              aria-posinset={row.index + 1}
              aria-setsize={items.length}
              {...(props.labelledByItem && { 'aria-labelledby': ids.label, 'aria-describedby': ids.description })}
              data-active={row.index === activeIndex || undefined}
              style={{ height: rowHeight, transform: `translateY(${row.start}px)` }}
              onClick={() => {
                setActiveKey(key);
                onOpen(item);
              }}
              {...props.itemAttributes?.(item)}
            >
              {props.renderItem(item, ids)}
            </div>
          );
        })}
      </div>
    </div>
  );
}

// --- the directory -----------------------------------------------------------------------------------------------------

/** The core answers at most this many matches; more means the user should add words. */
const SEARCH_LIMIT = 500;
const ROW_HEIGHT = 58;

/** Common specialties and languages; choosing one adds its word to the search and keeps only rows that have it there. */
const SPECIALTIES = [
  'Cardiology', 'Dermatology', 'Endocrinology', 'Gastroenterology', 'General practice', 'Geriatrics', 'Nephrology', 'Neurology',
  'Obstetrics', 'Oncology', 'Ophthalmology', 'Orthopaedics', 'Paediatrics', 'Psychiatry', 'Pulmonology', 'Radiology', 'Rheumatology', 'Urology',
];
const LANGUAGES = ['en', 'nb', 'nn', 'se', 'sv', 'da', 'fi', 'de', 'fr', 'es', 'pl', 'ar', 'so'];
const languageNames = new Intl.DisplayNames(['en'], { type: 'language' });
const languageName = (code: string) => languageNames.of(code) ?? code;
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

interface SearchRequest { readonly text: string; readonly specialty: string; readonly language: string }
interface SearchAnswer { readonly query: string; readonly request: SearchRequest; readonly experts?: readonly ExpertSummary[]; readonly error?: ApiError }

const queryOf = (r: SearchRequest) => [r.text, r.specialty, r.language].filter(Boolean).join(' ');

/** The search runs as prefixes over every field; a chosen filter must also be in its own field. */
function keepFiltered(answer: SearchAnswer | undefined): readonly ExpertSummary[] {
  const experts = answer?.experts ?? [];
  const { specialty, language } = answer?.request ?? { specialty: '', language: '' };
  if (!specialty && !language) return experts;
  return experts.filter((e) => (!specialty || e.specialties.toLowerCase().includes(specialty.toLowerCase()))
    && (!language || e.languages.split(' ').includes(language)));
}

/**
 * Every keystroke asks the core (no debounce: the FTS index answers within a frame); a late answer to an older query is
 * dropped, so the newest query always wins. Asked again when the mirror changes (`mirrorKey`).
 */
function useExpertSearch(api: RtsApi, request: SearchRequest, mirrorKey: string): SearchAnswer | undefined {
  const [answer, setAnswer] = useState<SearchAnswer>();
  const { text, specialty, language } = request;
  useEffect(() => {
    let live = true;
    const asked = { text, specialty, language };
    const query = queryOf(asked);
    void api.invoke(COMMANDS.searchDirectory, { text: query, limit: SEARCH_LIMIT }).then((result) => {
      if (live) setAnswer(result.ok ? { query, request: asked, experts: result.value } : { query, request: asked, error: result.error });
    });
    return () => {
      live = false;
    };
  }, [api, text, specialty, language, mirrorKey]);
  return answer;
}

/** The mirror's state: asked once, then pushed by the core while a snapshot or an update is applied. */
function useDirectoryState(api: RtsApi): { state: DirectoryState | undefined; error: ApiError | undefined } {
  const asked = useCommand(api, COMMANDS.getDirectoryState, undefined);
  const [pushed, setPushed] = useState<DirectoryState>();
  useEvent(api, EVENTS.directorySyncProgress, setPushed);
  return { state: pushed ?? asked.value, error: asked.error };
}

/** The expert directory: instant search, filters, a virtualized list, and an expert's details. */
export function DirectoryScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const [request, setRequest] = useState<SearchRequest>({ text: '', specialty: '', language: '' });
  const [selected, setSelected] = useState<string>();
  const listRef = useRef<HTMLDivElement>(null);
  const directory = useDirectoryState(api);
  const answer = useExpertSearch(api, request, `${directory.state?.version}|${directory.state?.appliedAt}`);
  const experts = useMemo(() => keepFiltered(answer), [answer]);
  const change = (part: Partial<SearchRequest>) => setRequest((r) => ({ ...r, ...part }));

  return (
    <div className="screen-stack">
      <h2 className="screen-title">Directory</h2>
      <DirectoryStateLine state={directory.state} />
      <ErrorMessage error={directory.error} />
      <div className="directory-layout">
        <section className="panel" aria-label="Find an expert">
          <div className="search-bar">
            <input
              type="search"
              aria-label="Search experts"
              placeholder="Name, specialty, hospital, place or language"
              maxLength={150}
              value={request.text}
              onChange={(e) => change({ text: e.target.value })}
              onKeyDown={(e) => {
                if (e.key === 'ArrowDown') {
                  e.preventDefault();
                  listRef.current?.focus();
                }
              }}
            />
            <select aria-label="Specialty" value={request.specialty} onChange={(e) => change({ specialty: e.target.value })}>
              <option value="">Any specialty</option>
              {SPECIALTIES.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
            <select aria-label="Language" value={request.language} onChange={(e) => change({ language: e.target.value })}>
              <option value="">Any language</option>
              {LANGUAGES.map((code) => <option key={code} value={code}>{languageName(code)}</option>)}
            </select>
          </div>
          <p className="result-count" role="status" data-testid="directory-count">{countText(answer, experts.length)}</p>
          <ErrorMessage error={answer?.error} />
          <VirtualListbox
            label="Experts"
            listRef={listRef}
            items={experts}
            rowHeight={ROW_HEIGHT}
            itemKey={(e) => e.practitionerId}
            labelledByItem
            renderItem={(e, ids) => (
              <>
                <span className="row-line"><strong id={ids.label}>{e.name}</strong> · {e.specialties}</span>
                <span className="row-line muted" id={ids.description}>{[e.organization, e.city, e.languages.split(' ').join(', ')].filter(Boolean).join(' · ')}</span>
              </>
            )}
            onOpen={(e) => setSelected(e.practitionerId)}
            selectedKey={selected}
            resetKey={answer?.query ?? ''}
            attributes={{ 'data-query': answer?.query }}
          />
        </section>
        {selected ? <ExpertDetails key={selected} api={api} practitionerId={selected} navigate={navigate} />
          : <p className="panel hint">Choose an expert to see their details and certificates.</p>}
      </div>
    </div>
  );
}

function countText(answer: SearchAnswer | undefined, shown: number): string {
  if (!answer) return 'Searching…';
  if ((answer.experts?.length ?? 0) >= SEARCH_LIMIT) return `The first ${shown} matches: add words to narrow the search.`;
  if (shown === 0) return answer.query.trim() ? `No expert matches “${answer.query.trim()}”.` : 'The directory is empty.';
  return shown === 1 ? '1 expert' : `${shown} experts`;
}

function DirectoryStateLine({ state }: { state: DirectoryState | undefined }) {
  if (!state) return <p className="directory-state">Reading the directory…</p>;
  return (
    <div className="directory-state" aria-label="Directory state" role="group">
      <span data-testid="directory-experts">{state.experts.toLocaleString()} {state.experts === 1 ? 'expert' : 'experts'}</span>
      <span>{state.version === undefined ? 'No directory received yet' : `Version ${state.version}`}</span>
      {state.asOf && <span>As of {dateTime.format(new Date(state.asOf))}</span>}
      {state.snapshot && (
        <label>
          Loading a snapshot ({state.snapshot.received} of {state.snapshot.count} parts)
          <progress max={state.snapshot.count} value={state.snapshot.received} />
        </label>
      )}
      {state.behind && <span className="badge" data-tone="warn">Behind — waiting for a snapshot</span>}
      {state.refused.length > 0 && (
        <details>
          <summary><span className="badge" data-tone="bad">{state.refused.length} refused {state.refused.length === 1 ? 'entry' : 'entries'}</span></summary>
          <ul>{state.refused.map((r) => <li key={r.practitionerId}>{r.practitionerId}: {r.reason}</li>)}</ul>
        </details>
      )}
    </div>
  );
}

function ExpertDetails({ api, practitionerId, navigate }: { api: RtsApi; practitionerId: string; navigate: Navigate }) {
  const expert = useCommand(api, COMMANDS.getExpert, { practitionerId });
  const headingId = useId();
  const e = expert.value;
  const canEncrypt = e?.certificates.some((c) => c.use === 'encryption' && (c.state === 'valid' || c.state === 'expiring'));
  return (
    <section className="panel expert-details" aria-labelledby={headingId}>
      <h3 id={headingId}>{e?.name ?? practitionerId}</h3>
      <ErrorMessage error={expert.error} />
      {e && (
        <>
          <dl className="facts">
            <dt>Specialties</dt><dd>{e.specialties.join(', ') || '—'}</dd>
            <dt>Hospital</dt><dd>{e.organization ?? '—'}</dd>
            <dt>City</dt><dd>{e.city ?? '—'}</dd>
            <dt>Languages</dt><dd>{e.languages.map(languageName).join(', ') || '—'}</dd>
            <dt>Directory id</dt><dd>{e.practitionerId}</dd>
            <dt>Endpoints</dt><dd>{e.endpoints.join(', ') || 'None: requests cannot reach this expert'}</dd>
          </dl>
          <button type="button" onClick={() => navigate({ name: 'compose', expertId: e.practitionerId })}>Ask for a consultation</button>
          {!canEncrypt && <p className="hint">No valid encryption certificate: a request to this expert would be refused.</p>}
          <CertificateList certificates={e.certificates} label={`Certificates of ${e.name}`} />
        </>
      )}
    </section>
  );
}
