import {
  certificatesOf,
  roleReferenceProblem,
  type DirectoryChange,
  type DirectoryResource,
} from '../../../shared/protocol/fhir/index.ts';
import type { PropertiesOf } from '../../../shared/protocol/index.ts';
import { certificateBindingProblem } from '../../../shared-node/index.ts';
import type { DirectoryMirror, SnapshotProgress, UpdateOutcome } from './directory-mirror.ts';

/**
 * Turns opened `directory.snapshot` and `directory.update` messages (the hub's signature already checked) into mirror
 * changes. Every practitioner's certificates must be bound to the entry (subject CN = its directory id, the profile's
 * usage: shared-node/certificate-binding.ts), and every role must stay in its publisher's namespace. The hub checks the
 * same, but a workstation does not take the hub's word for it: a hub that swapped an expert's encryption certificate for
 * someone else's could read the consults sent to that expert. An expert that fails is left out of the mirror and counted
 * as refused. Whether the certificates chain to the regional CA and are not revoked is checked where they are used, and
 * in the background for the directory to show (certificate-checks.ts): on arrival it cost every workstation about a
 * tenth of a 100,000-expert list's time, which the hub had already spent on the same certificates.
 */
export interface RefusedEntry {
  readonly practitionerId: string;
  readonly reason: string;
}

export interface PreparedSnapshotBatch {
  readonly apply: () => SnapshotProgress;
  readonly refused: readonly RefusedEntry[];
}

export interface PreparedUpdate {
  readonly apply: () => UpdateOutcome;
  readonly refused: readonly RefusedEntry[];
}

interface InnerEntry {
  resource?: DirectoryResource;
  request?: { method?: string; url?: string };
}

/** The directory Bundle a snapshot or update carries (entry 1, after the MessageHeader). */
function innerEntries(payload: Record<string, unknown>): InnerEntry[] {
  const inner = (payload.entry as { resource?: { entry?: InnerEntry[] } }[])[1]?.resource;
  return inner?.entry ?? [];
}

export function createDirectorySync(options: { mirror: DirectoryMirror }) {
  /** Practitioners among `resources` whose certificates are not bound to them, or whose role reaches outside. */
  function refusals(resources: readonly DirectoryResource[]): RefusedEntry[] {
    const verdicts = resources.map((resource): RefusedEntry | undefined => {
      if (resource.active === false) return undefined;
      if (resource.resourceType === 'PractitionerRole') {
        const outside = roleReferenceProblem(resource);
        return outside === undefined ? undefined : { practitionerId: resource.id ?? '', reason: outside };
      }
      if (resource.resourceType !== 'Practitioner') return undefined;
      const practitionerId = resource.id ?? '';
      const certificates = certificatesOf(resource);
      if (certificates.signing.length === 0 || certificates.encryption.length === 0)
        return { practitionerId, reason: 'needs a signing and an encryption certificate' };
      for (const use of ['signing', 'encryption'] as const)
        for (const base64 of certificates[use]) {
          const unbound = certificateBindingProblem(new Uint8Array(Buffer.from(base64, 'base64')), use, practitionerId);
          if (unbound) return { practitionerId, reason: unbound.detail };
        }
      return undefined;
    });
    // One line per expert: the first failure, whether of the Practitioner or of its role.
    const refused = new Map<string, RefusedEntry>();
    for (const verdict of verdicts)
      if (verdict && !refused.has(verdict.practitionerId)) refused.set(verdict.practitionerId, verdict);
    return [...refused.values()];
  }

  const withoutRefused = (refused: readonly RefusedEntry[]) => {
    const ids = new Set(refused.map((r) => r.practitionerId));
    return (resource: DirectoryResource) =>
      !(
        (resource.resourceType === 'Practitioner' || resource.resourceType === 'PractitionerRole') &&
        ids.has(resource.id ?? '')
      );
  };

  return {
    async prepareSnapshotBatch(
      properties: PropertiesOf<'directory.snapshot'>,
      payload: Record<string, unknown>,
    ): Promise<PreparedSnapshotBatch> {
      const resources = innerEntries(payload)
        .map((e) => e.resource)
        .filter((r): r is DirectoryResource => r !== undefined);
      const refused = refusals(resources);
      const kept = resources.filter(withoutRefused(refused));
      return {
        refused,
        apply: () =>
          options.mirror.applySnapshotBatch({
            batchId: properties.rtsBatchId,
            index: properties.rtsBatchIndex,
            count: properties.rtsBatchCount,
            version: properties.rtsDirectoryVersion,
            resources: kept,
          }),
      };
    },

    async prepareUpdate(
      properties: PropertiesOf<'directory.update'>,
      payload: Record<string, unknown>,
    ): Promise<PreparedUpdate> {
      const changes: DirectoryChange[] = innerEntries(payload).map((e) =>
        e.request?.method === 'DELETE' ? { retire: e.request.url! } : { upsert: e.resource! },
      );
      const refused = refusals(changes.flatMap((c) => (c.upsert ? [c.upsert] : [])));
      const keep = withoutRefused(refused);
      // A refused expert's earlier entry is retired rather than left with certificates that no longer hold.
      const filtered = changes.flatMap((c): DirectoryChange[] =>
        !c.upsert || keep(c.upsert) ? [c] : [{ retire: `${c.upsert.resourceType}/${c.upsert.id}` }],
      );
      return {
        refused,
        apply: () =>
          options.mirror.applyUpdate({
            baseVersion: properties.rtsDirectoryBaseVersion,
            version: properties.rtsDirectoryVersion,
            changes: filtered,
          }),
      };
    },
  };
}

export type DirectorySync = ReturnType<typeof createDirectorySync>;
