// What the directory mirror's search takes and gives (directory-mirror.ts).

export interface ExpertSummary {
  readonly practitionerId: string;
  readonly name: string;
  readonly specialties: string;
  readonly organization: string;
  readonly city: string;
  readonly languages: string;
  /**
   * Entries of other clinics with the same name at a hospital of the same name (a look-alike: one of them may be an
   * impostor published by a clinic that is not the expert's). Absent when there are none.
   */
  readonly lookAlikes?: string[];
  /** Absent once the background check found the certificates valid; `certificateProblem` says why they failed. */
  readonly certificates?: 'unchecked' | 'failed';
  readonly certificateProblem?: string;
}

export interface ExpertQuery {
  /** Words matched as prefixes against every field. */
  readonly text?: string;
  /** Only experts with this specialty (its words, in order, in their specialties); empty or absent: any. */
  readonly specialty?: string;
  /** Only experts who speak this language (a code such as `nb`); empty or absent: any. */
  readonly language?: string;
  /** Only experts of this hospital (an Organization id such as `clinic-a.nordby`); empty or absent: any. */
  readonly organization?: string;
  /** Only experts whose hospital's address names this place as its county/state, district or city; empty or absent: any. */
  readonly region?: string;
  /** Matches per page (1-500, default 50). */
  readonly limit?: number;
  /** Matches to skip: paging is counted after the filters, so page 2 of a specialty is its next 50 experts. */
  readonly offset?: number;
}

/** One page of matches, and whether there are more after it. */
export interface ExpertPage {
  readonly experts: ExpertSummary[];
  readonly more: boolean;
}

/** A practitioner as lists name them: by name and hospital, never by directory id alone. */
export interface Person {
  readonly name: string;
  readonly specialties: string;
  readonly organization: string;
}
