/**
 * The directory mirror's tables (directory-mirror.ts), one migration per change: the state row, the stored resources,
 * the FTS index of what a search matches, and the facets the filters offer.
 */
export const MIGRATIONS = [
  {
    version: 1,
    sql: `
    create table mirror_state (id integer primary key check (id = 1), version integer);
    insert into mirror_state values (1, null);
    create table mirror_entries (
      url text primary key, resource_type text not null, entry_id text not null, resource text not null,
      -- A role's organization reference: which search rows a hospital's change touches.
      organization text
    );
    create index mirror_entries_organization on mirror_entries (organization) where organization is not null;
    -- FTS rows are addressed by rowid (a delete by an unindexed column would scan the whole index).
    create table mirror_search_rows (rowid integer primary key, practitioner_id text not null unique);
    create table mirror_snapshot_batches (
      batch_id text not null, batch_index integer not null, batch_count integer not null, version integer not null, resources text not null,
      primary key (batch_id, batch_index)
    );
    create virtual table mirror_search using fts5(practitioner_id unindexed, name, specialties, organization, city, languages, tokenize = 'unicode61 remove_diacritics 2');
  `,
  },
  {
    version: 2,
    // When the mirror last changed: how current it is, for the user to judge.
    sql: 'alter table mirror_state add column applied_at integer',
  },
  {
    version: 3,
    // Prefix indexes for the first letters typed: matching "n*" then reads one index entry instead of every term.
    sql: `
    create virtual table mirror_search_v3 using fts5(practitioner_id unindexed, name, specialties, organization, city, languages, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
    insert into mirror_search_v3 (rowid, practitioner_id, name, specialties, organization, city, languages) select rowid, practitioner_id, name, specialties, organization, city, languages from mirror_search;
    drop table mirror_search;
    alter table mirror_search_v3 rename to mirror_search;
  `,
  },
  {
    version: 4,
    // count() runs after every applied change: without it, it read every stored resource (650 ms at 100,000 experts).
    sql: "create index mirror_entries_roles on mirror_entries (entry_id) where resource_type = 'PractitionerRole'",
  },
  {
    version: 5,
    // Who looks like whom: name and hospital name, normalized (identityKey). '' = not yet worked out (rows of an older
    // mirror, filled in when it is opened), null = no live entry.
    sql: `
    alter table mirror_search_rows add column identity_key text default '';
    create index mirror_search_rows_identity on mirror_search_rows (identity_key) where identity_key is not null;
  `,
  },
  {
    version: 6,
    // Hospital and region as one token each in a new FTS column (facetToken), so that the index intersects them with
    // the words typed: looking them up beside the FTS match ran the match once per expert of the hospital (0.3-25 s at
    // 100,000 experts). And what each live expert can be filtered by, one row per value, to count the filters' choices
    // (the FTS columns join several values into words, which cannot be told apart again). facets_built = 0: a mirror
    // made before, filled in when it is opened.
    sql: `
    create virtual table mirror_search_v6 using fts5(practitioner_id unindexed, name, specialties, organization, city, languages, facets, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');
    insert into mirror_search_v6 (rowid, practitioner_id, name, specialties, organization, city, languages, facets) select rowid, practitioner_id, name, specialties, organization, city, languages, '' from mirror_search;
    drop table mirror_search;
    alter table mirror_search_v6 rename to mirror_search;
    create table mirror_facets (
      kind text not null, value text not null, search_row integer not null, label text,
      primary key (kind, value, search_row)
    ) without rowid;
    create index mirror_facets_row on mirror_facets (search_row);
    alter table mirror_state add column facets_built integer not null default 0;
  `,
  },
  {
    version: 7,
    // Search across scripts (issue 22, search-terms.ts): what a row shows is kept as it is, unindexed, and found by
    // terms columns written beside it, in which Chinese runs are bigrams (any part of a name or hospital is found), a
    // Bengali word keeps its vowel signs, and å is not folded to a (remove_diacritics 0: search-terms.ts folds the
    // other diacritics). terms_built = 0: a mirror made before, whose terms are written when it is opened.
    sql: `
    create virtual table mirror_search_v7 using fts5(
      practitioner_id unindexed, name unindexed, specialties unindexed, organization unindexed, city unindexed, languages unindexed,
      name_terms, specialty_terms, organization_terms, city_terms, language_terms, facets,
      tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3'
    );
    insert into mirror_search_v7 (rowid, practitioner_id, name, specialties, organization, city, languages, facets) select rowid, practitioner_id, name, specialties, organization, city, languages, facets from mirror_search;
    drop table mirror_search;
    alter table mirror_search_v7 rename to mirror_search;
    alter table mirror_state add column terms_built integer not null default 0;
  `,
  },
  {
    version: 8,
    // Certificates are checked in the background, not on arrival (docs/protocol.md §6.4): each live row's verdict
    // (null: not checked yet; '': valid; otherwise the problem), reached under the trust that certificate_trust names.
    // Rows of an older mirror were checked on arrival under a trust not recorded: they are checked again.
    sql: `
    alter table mirror_search_rows add column certificate_check text;
    alter table mirror_state add column certificate_trust text;
    create index mirror_search_rows_unchecked on mirror_search_rows (rowid) where certificate_check is null and identity_key is not null;
  `,
  },
];
