import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { COMMANDS, EVENTS } from '../../shared/api/channels.ts';
import type { ApiError } from '../../shared/api/api-error.ts';
import type { CommandOutput, DirectoryState } from '../../shared/api/contract.ts';
import type { RtsApi } from '../../preload/rts-api.ts';
import { CertificateList } from '../components/certificate-list.tsx';
import { ErrorMessage } from '../components/error-message.tsx';
import { LookAlikeBadge, LookAlikeWarning } from '../components/look-alike.tsx';
import { useCommand, useEvent } from '../hooks/use-command.ts';
import type { Navigate } from '../navigation.ts';
import { VirtualListbox } from '../components/virtual-listbox.tsx';
import './lists.css';

type ExpertSummary = CommandOutput<typeof COMMANDS.searchDirectory>[number];

// --- the directory -----------------------------------------------------------------------------------------------------

/** The core answers at most this many matches; more means the user should add words. */
const SEARCH_LIMIT = 500;
/** Matches asked for per keystroke: a screenful and some; more are asked for as the user scrolls (the bridge carries every row). */
const PAGE = 100;
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
interface SearchAnswer { readonly query: string; readonly request: SearchRequest; readonly limit: number; readonly experts?: readonly ExpertSummary[]; readonly error?: ApiError }

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
function useExpertSearch(api: RtsApi, request: SearchRequest, mirrorKey: string, limit: number): SearchAnswer | undefined {
  const [answer, setAnswer] = useState<SearchAnswer>();
  const { text, specialty, language } = request;
  useEffect(() => {
    let live = true;
    const asked = { text, specialty, language };
    const query = queryOf(asked);
    void api.invoke(COMMANDS.searchDirectory, { text: query, limit }).then((result) => {
      if (live) setAnswer(result.ok ? { query, request: asked, limit, experts: result.value } : { query, request: asked, limit, error: result.error });
    });
    return () => {
      live = false;
    };
  }, [api, text, specialty, language, mirrorKey, limit]);
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
  const query = queryOf(request);
  const [scrolled, setScrolled] = useState({ query, pages: 1 });
  const limit = Math.min(PAGE * (scrolled.query === query ? scrolled.pages : 1), SEARCH_LIMIT);
  const answer = useExpertSearch(api, request, `${directory.state?.version}|${directory.state?.appliedAt}`, limit);
  const full = answer?.limit === limit && (answer.experts?.length ?? 0) >= limit;
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
                <span className="row-line muted" id={ids.description}>
                  <LookAlikeBadge practitionerId={e.practitionerId} lookAlikes={e.lookAlikes} />{e.lookAlikes && ' '}
                  {[e.organization, e.city, e.languages.split(' ').join(', ')].filter(Boolean).join(' · ')}
                </span>
              </>
            )}
            onOpen={(e) => setSelected(e.practitionerId)}
            onVisibleEnd={(last) => {
              if (full && limit < SEARCH_LIMIT && last >= experts.length - 20) setScrolled({ query, pages: limit / PAGE + 1 });
            }}
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
  if ((answer.experts?.length ?? 0) >= answer.limit) return `${shown}+ experts: scroll for more, or add words.`;
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
            <dt>Published by</dt><dd>{e.publisher}</dd>
            <dt>Endpoints</dt><dd>{e.endpoints.join(', ') || 'None: requests cannot reach this expert'}</dd>
          </dl>
          <LookAlikeWarning practitionerId={e.practitionerId} lookAlikes={e.lookAlikes} />
          <button type="button" onClick={() => navigate({ name: 'compose', expertId: e.practitionerId })}>Ask for a consultation</button>
          {!canEncrypt && <p className="hint">No valid encryption certificate: a request to this expert would be refused.</p>}
          <CertificateList certificates={e.certificates} label={`Certificates of ${e.name}`} />
        </>
      )}
    </section>
  );
}
