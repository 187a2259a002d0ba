import { certificatesOf } from '../../../shared/protocol/fhir/index.ts';
import type { SqliteDatabase } from '../../../transport/index.ts';
import type { ExpertSummary } from './directory-mirror.ts';

/**
 * What a search row is marked with: its look-alikes (entries of other clinics with the same name and hospital name,
 * by the identity key directory-mirror.ts writes), and the background check's verdict on the expert's certificates
 * (certificate-checks.ts), kept in the row since migration 8: null not checked yet, '' valid, otherwise the problem. A
 * row written again forgets its verdict (directory-mirror.ts), and so does every row when the trust they were reached
 * under is replaced.
 */

/** At most this many look-alikes are named per entry. */
const MAX_LOOK_ALIKES = 10;

/** The endpoint that published a directory id (the part before the dot). */
const publisherOf = (id: string) => id.slice(0, id.indexOf('.'));

/** A live expert's certificates as listed (base64 DER), for the background check. */
export interface ListedCertificates {
  readonly practitionerId: string;
  readonly signing: readonly string[];
  readonly encryption: readonly string[];
}

/** What the background check found: `problem` undefined when every certificate is valid. */
export interface CertificateVerdict extends ListedCertificates {
  readonly problem: string | undefined;
}

export function openMirrorMarks(
  db: SqliteDatabase,
  practitioner: (practitionerId: string) => Record<string, unknown> | undefined,
) {
  const checkOf = db.prepare<[string], { certificate_check: string | null }>(
    'select certificate_check from mirror_search_rows where practitioner_id = ?',
  );
  const readTrust = () =>
    (
      db.prepare('select certificate_trust from mirror_state where id = 1').get() as {
        certificate_trust: string | null;
      }
    ).certificate_trust;
  const listed = (practitionerId: string): ListedCertificates | undefined => {
    const resource = practitioner(practitionerId);
    return resource ? { practitionerId, ...certificatesOf(resource) } : undefined;
  };
  const same = (a: ListedCertificates, b: ListedCertificates) =>
    a.signing.join() === b.signing.join() && a.encryption.join() === b.encryption.join();
  const sameIdentity = db.prepare<[string, string], { practitioner_id: string }>(
    'select other.practitioner_id from mirror_search_rows this join mirror_search_rows other on other.identity_key = this.identity_key where this.practitioner_id = ? and other.practitioner_id <> ?',
  );
  const lookAlikes = (practitionerId: string): string[] =>
    sameIdentity
      .all(practitionerId, practitionerId)
      .map((r) => r.practitioner_id)
      .filter((id) => publisherOf(id) !== publisherOf(practitionerId))
      .slice(0, MAX_LOOK_ALIKES);

  return {
    lookAlikes,

    withMarks: (experts: readonly ExpertSummary[]): ExpertSummary[] =>
      experts.map((expert) => {
        const others = lookAlikes(expert.practitionerId);
        const check = checkOf.get(expert.practitionerId)?.certificate_check ?? null;
        return {
          ...expert,
          ...(others.length > 0 && { lookAlikes: others }),
          ...(check === null && { certificates: 'unchecked' as const }),
          ...(check && { certificates: 'failed' as const, certificateProblem: check }),
        };
      }),

    unchecked: (trust: string, limit: number): ListedCertificates[] => {
      if (readTrust() !== trust)
        db.transaction(() => {
          db.prepare(
            'update mirror_search_rows set certificate_check = null where certificate_check is not null',
          ).run();
          db.prepare('update mirror_state set certificate_trust = ? where id = 1').run(trust);
        })();
      return db
        .prepare<[number], { practitioner_id: string }>(
          'select practitioner_id from mirror_search_rows where certificate_check is null and identity_key is not null order by rowid limit ?',
        )
        .all(limit)
        .flatMap((row) => listed(row.practitioner_id) ?? []);
    },

    record: (trust: string, verdicts: readonly CertificateVerdict[]): number =>
      db.transaction(() => {
        if (readTrust() !== trust) return 0;
        const record = db.prepare(
          'update mirror_search_rows set certificate_check = ? where practitioner_id = ? and identity_key is not null',
        );
        let kept = 0;
        for (const verdict of verdicts) {
          const now = listed(verdict.practitionerId);
          if (!now || !same(now, verdict)) continue;
          kept += record.run(verdict.problem ?? '', verdict.practitionerId).changes;
        }
        return kept;
      })(),

    uncheckedCount: () =>
      (
        db
          .prepare(
            'select count(*) as n from mirror_search_rows where certificate_check is null and identity_key is not null',
          )
          .get() as { n: number }
      ).n,
  };
}
