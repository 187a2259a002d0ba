import { useEffect, useMemo, useRef, useState } from 'react';
import { useIntl, type IntlShape } from 'react-intl';
import { COMMANDS, type ApiError, type CommandOutput, type DirectoryFacets } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { LookAlikeBadge } from '../components/look-alike.tsx';
import { CertificateCheckBadge } from '../components/certificate-check.tsx';
import { PlaceWarnings } from '../components/warnings-banner.tsx';
import { useCommand } from '../hooks/use-command.ts';
import { useDirectoryState } from '../hooks/use-directory-state.ts';
import { useT, type Translate } from '../i18n/index.ts';
import type { MessageId } from '../../shared/i18n/index.ts';
import type { Navigate } from '../navigation.ts';
import { VirtualListbox } from '../components/virtual-listbox.tsx';
import { DirectoryStateLine, ExpertDetails, languageNamer, listOf } from './directory-details.tsx';
import './lists.css';

type ExpertSummary = CommandOutput<typeof COMMANDS.searchDirectory>['experts'][number];

// --- the directory -----------------------------------------------------------------------------------------------------

/** Matches asked for at first: a screenful and some; the next ones are asked for as the user scrolls. */
const PAGE = 100;
/** The most the core answers in one page. */
const MAX_PAGE = 500;
const ROW_HEIGHT = 58;

interface SearchRequest {
  readonly text: string;
  readonly specialty: string;
  readonly language: string;
  /** A hospital's Organization id. */
  readonly organization: string;
  /** A place a hospital's address names: county or state, district or city. */
  readonly region: string;
}
const ANY: SearchRequest = { text: '', specialty: '', language: '', organization: '', region: '' };
/** The matches loaded so far for one request on one state of the mirror, and whether the core has more. */
interface SearchAnswer {
  readonly key: string;
  readonly mirrorKey: string;
  readonly request: SearchRequest;
  readonly experts: readonly ExpertSummary[];
  readonly more: boolean;
  readonly error?: ApiError;
}

/** The request in words (the list's `data-query`): the text, then the chosen filters. */
const queryOf = (r: SearchRequest) =>
  [r.text, r.specialty, r.language, r.organization, r.region].filter(Boolean).join(' ');

/**
 * Every keystroke asks the core for the first page (no debounce: the FTS index answers within a frame); scrolling asks
 * for the next pages by offset, which the core counts after its filters. A late answer to an older request is dropped,
 * so the newest always wins. Asked again when the mirror changes (`mirrorKey`), as many rows as were loaded.
 */
function useExpertSearch(
  api: RtsApi,
  request: SearchRequest,
  mirrorKey: string,
  wanted: number,
): SearchAnswer | undefined {
  const [answer, setAnswer] = useState<SearchAnswer>();
  const key = JSON.stringify(request);
  const current = answer?.key === key && answer.mirrorKey === mirrorKey ? answer : undefined;
  const offset = current?.experts.length ?? 0;
  const needed = !current || (current.more && offset < wanted);
  useEffect(() => {
    if (!needed) return undefined;
    let live = true;
    const asked = JSON.parse(key) as SearchRequest;
    const limit = Math.min(Math.max(wanted - offset, 1), MAX_PAGE);
    const input = {
      text: asked.text,
      ...(asked.specialty && { specialty: asked.specialty }),
      ...(asked.language && { language: asked.language }),
      ...(asked.organization && { organization: asked.organization }),
      ...(asked.region && { region: asked.region }),
      offset,
      limit,
    };
    void api.invoke(COMMANDS.searchDirectory, input).then((result) => {
      if (!live) return;
      setAnswer((previous) => {
        const same = previous?.key === key && previous.mirrorKey === mirrorKey;
        const before = offset > 0 && same ? previous.experts : [];
        if (!result.ok) return { key, mirrorKey, request: asked, experts: before, more: false, error: result.error };
        return {
          key,
          mirrorKey,
          request: asked,
          experts: [...before, ...result.value.experts],
          more: result.value.more,
        };
      });
    });
    return () => {
      live = false;
    };
  }, [api, key, mirrorKey, offset, needed, wanted]);
  return answer;
}

/** The expert directory: instant search, filters, a virtualized list, and an expert's details. */
export function DirectoryScreen({ api, navigate }: { api: RtsApi; navigate: Navigate }) {
  const t = useT();
  const intl = useIntl();
  const [request, setRequest] = useState<SearchRequest>(ANY);
  const [selected, setSelected] = useState<string>();
  const listRef = useRef<HTMLDivElement>(null);
  const directory = useDirectoryState(api);
  const query = queryOf(request);
  // Rows wanted for this request: a page more each time the user scrolls near the end of what is loaded.
  const [scrolled, setScrolled] = useState({ query, rows: PAGE });
  const wanted = scrolled.query === query ? scrolled.rows : PAGE;
  // Verdicts of the background certificate check change the rows too (their marks), not the version.
  const mirrorKey = `${directory.state?.version}|${directory.state?.appliedAt}|${directory.state?.certificatesCheckedAt}`;
  const answer = useExpertSearch(api, request, mirrorKey, wanted);
  const facets = useFacets(api, mirrorKey);
  const choices = useMemo(() => filterChoices(intl, facets), [intl, facets]);
  const experts = answer?.experts ?? [];
  const change = (part: Partial<SearchRequest>) => setRequest((r) => ({ ...r, ...part }));

  return (
    <div className="screen-stack">
      <h2 className="screen-title">{t('directory.title')}</h2>
      <DirectoryStateLine state={directory.state} />
      <ErrorMessage error={directory.error} />
      <div className="directory-layout">
        <section className="panel" aria-label={t('directory.findLabel')}>
          <div className="search-bar">
            <input
              type="search"
              aria-label={t('directory.search')}
              placeholder={t('directory.searchPlaceholder')}
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
            <FilterSelect
              label={t('directory.filter.specialty')}
              any={t('directory.filter.anySpecialty')}
              value={request.specialty}
              onChange={(specialty) => change({ specialty })}
              groups={choices.specialties}
            />
            <FilterSelect
              label={t('directory.filter.language')}
              any={t('directory.filter.anyLanguage')}
              value={request.language}
              onChange={(language) => change({ language })}
              groups={choices.languages}
            />
            <FilterSelect
              label={t('directory.filter.hospital')}
              any={t('directory.filter.anyHospital')}
              value={request.organization}
              onChange={(organization) => change({ organization })}
              groups={choices.hospitals}
            />
            <FilterSelect
              label={t('directory.filter.region')}
              any={t('directory.filter.anyRegion')}
              value={request.region}
              onChange={(region) => change({ region })}
              groups={choices.places}
            />
          </div>
          <PlaceWarnings place="directory" />
          <p className="result-count" role="status" data-testid="directory-count">
            {countText(t, intl, answer, facets)}
          </p>
          <ErrorMessage error={answer?.error} />
          <VirtualListbox
            label={t('directory.experts')}
            listRef={listRef}
            items={experts}
            rowHeight={ROW_HEIGHT}
            itemKey={(e) => e.practitionerId}
            labelledByItem
            renderItem={(e, ids) => (
              <>
                <span className="row-line">
                  <strong id={ids.label}>{e.name}</strong> · {e.specialties}
                </span>
                <span className="row-line muted" id={ids.description}>
                  <LookAlikeBadge practitionerId={e.practitionerId} lookAlikes={e.lookAlikes} />
                  {e.lookAlikes && ' '}
                  <CertificateCheckBadge expert={e} />
                  {e.certificates && ' '}
                  {[e.organization, e.city, listOf(intl, e.languages.split(' ').filter(Boolean))]
                    .filter(Boolean)
                    .join(' · ')}
                </span>
              </>
            )}
            onOpen={(e) => setSelected(e.practitionerId)}
            onVisibleEnd={(last) => {
              if (answer?.more && queryOf(answer.request) === query && last >= experts.length - 20)
                setScrolled({ query, rows: experts.length + PAGE });
            }}
            selectedKey={selected}
            resetKey={answer ? queryOf(answer.request) : ''}
            attributes={{ 'data-query': answer && queryOf(answer.request) }}
          />
        </section>
        {selected ? (
          <ExpertDetails key={selected} api={api} practitionerId={selected} navigate={navigate} />
        ) : (
          <p className="panel hint">{t('directory.choose')}</p>
        )}
      </div>
    </div>
  );
}

/** How many experts the list holds, or, when none, which search and filters found nobody: one sentence each. */
function countText(
  t: Translate,
  intl: IntlShape,
  answer: SearchAnswer | undefined,
  facets: DirectoryFacets | undefined,
): string {
  if (!answer) return t('directory.count.searching');
  const shown = answer.experts.length;
  if (answer.more) return t('directory.count.more', { count: shown });
  if (shown > 0) return t('directory.count.experts', { count: shown });
  const { specialty, language, organization, region } = answer.request;
  const text = answer.request.text.trim();
  const hospital = facets?.hospitals.find((h) => h.id === organization)?.name ?? organization;
  // Each filter is in the sentence only when chosen (`yes`), so that each language places and words it.
  const filters = {
    bySpecialty: specialty ? 'yes' : 'no',
    specialty,
    byLanguage: language ? 'yes' : 'no',
    language: language && languageNamer(intl)(language),
    byHospital: organization ? 'yes' : 'no',
    hospital,
    byRegion: region ? 'yes' : 'no',
    region,
  };
  if (text) return t('directory.count.noMatch', { ...filters, text });
  return specialty || language || organization || region
    ? t('directory.count.noneHere', filters)
    : t('directory.count.empty');
}

/** The filters' choices as the directory holds them now, asked again whenever the mirror changes. */
function useFacets(api: RtsApi, mirrorKey: string): DirectoryFacets | undefined {
  const facets = useCommand(api, COMMANDS.directoryFacets, undefined);
  const { reload } = facets;
  const [shownFor, setShownFor] = useState(mirrorKey);
  if (shownFor !== mirrorKey) {
    setShownFor(mirrorKey);
    reload();
  }
  return facets.value;
}

const PLACE_GROUPS: readonly { readonly kind: 'state' | 'district' | 'city'; readonly label: MessageId }[] = [
  { kind: 'state', label: 'directory.place.state' },
  { kind: 'district', label: 'directory.place.district' },
  { kind: 'city', label: 'directory.place.city' },
];

/** The four filters' choices, worked out once per state of the directory and language (not at each keystroke). */
function filterChoices(intl: IntlShape, facets: DirectoryFacets | undefined) {
  const languageName = languageNamer(intl);
  const collator = new Intl.Collator(intl.locale);
  return {
    specialties: [
      { options: (facets?.specialties ?? []).map((f) => ({ value: f.value, text: f.value, experts: f.experts })) },
    ],
    languages: [
      {
        options: (facets?.languages ?? [])
          .map((f) => ({ value: f.value, text: languageName(f.value), experts: f.experts }))
          .sort((a, b) => collator.compare(a.text, b.text)),
      },
    ],
    hospitals: [{ options: hospitalOptions(intl, facets) }],
    places: PLACE_GROUPS.map(({ kind, label }) => ({
      label: intl.formatMessage({ id: label }),
      options: (facets?.regions ?? [])
        .filter((r) => r.kind === kind)
        .map((r) => ({ value: r.name, text: r.name, experts: r.experts })),
    })),
  };
}

/** Hospitals by name; where two share a name (one may be a look-alike), each says which clinic published it. */
function hospitalOptions(intl: IntlShape, facets: DirectoryFacets | undefined): FilterOption[] {
  const hospitals = facets?.hospitals ?? [];
  const named = (h: (typeof hospitals)[number]) => h.name ?? h.id;
  const byName = new Map<string, number>();
  for (const h of hospitals) byName.set(named(h), (byName.get(named(h)) ?? 0) + 1);
  return hospitals.map((h) => {
    const shared = byName.get(named(h))! > 1;
    return {
      value: h.id,
      text: shared
        ? intl.formatMessage(
            { id: 'directory.hospitalPublishedBy' },
            { hospital: named(h), publisher: h.id.slice(0, h.id.indexOf('.')) },
          )
        : named(h),
      experts: h.experts,
    };
  });
}

interface FilterOption {
  readonly value: string;
  readonly text: string;
  readonly experts: number;
}

/**
 * A native select (labelled, keyboard as the platform has it) of what the directory holds, each with its number of
 * experts. A chosen value the directory no longer holds stays listed, with none, so the select still says what filters.
 */
function FilterSelect({
  label,
  any,
  value,
  onChange,
  groups,
}: {
  label: string;
  any: string;
  value: string;
  onChange: (value: string) => void;
  groups: readonly { readonly label?: string; readonly options: readonly FilterOption[] }[];
}) {
  const t = useT();
  const held = groups.some((g) => g.options.some((o) => o.value === value));
  const option = (o: FilterOption) => (
    <option key={o.value} value={o.value}>
      {t('directory.filter.option', { name: o.text, count: o.experts })}
    </option>
  );
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{any}</option>
      {value && !held && option({ value, text: value, experts: 0 })}
      {groups.map((g) =>
        g.label === undefined ? (
          g.options.map(option)
        ) : g.options.length > 0 ? (
          <optgroup key={g.label} label={g.label}>
            {g.options.map(option)}
          </optgroup>
        ) : null,
      )}
    </select>
  );
}
