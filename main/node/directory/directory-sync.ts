import type { CertificateValidator } from '../../../shared/cms/index.ts';
import { isCmsError } from '../../../shared/cms/index.ts';
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
 * changes. Every practitioner's certificates are checked against the regional CA first, and must be bound to the entry
 * (subject CN = its directory id, the profile's usage: shared-node/certificate-binding.ts); every role must stay in its
 * publisher's namespace. The hub checks the same, but a workstation does not take the hub's word for it: a hub that
 * swapped an expert's encryption certificate for someone else's could read the consults sent to that expert. An expert
 * that fails is left out of the mirror (nobody could verify their reports or encrypt to them) and counted as refused.
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

export function createDirectorySync(options: {
  mirror: DirectoryMirror;
  validator: () => CertificateValidator;
  now?: () => Date;
}) {
  const now = options.now ?? (() => new Date());

  /**
   * Practitioners among `resources` whose certificates or role fail, each with its first failure in entry order. The checks
   * run at once: their signature verifications then share the cores (shared-node/native-certificate-validator.ts).
   */
  async function refusals(resources: readonly DirectoryResource[]): Promise<RefusedEntry[]> {
    const validate = options.validator();
    const at = now();
    const failureOf = async (
      use: 'signing' | 'encryption',
      base64: string,
      practitionerId: string,
    ): Promise<string | undefined> => {
      const der = new Uint8Array(Buffer.from(base64, 'base64'));
      const unbound = certificateBindingProblem(der, use, practitionerId);
      if (unbound) return unbound.detail;
      try {
        await validate(der, use, at);
        return undefined;
      } catch (error) {
        // Without a current CRL here nothing can be judged: the update waits (thrown: transient) rather than refuse everyone.
        if (!isCmsError(error) || error.code === 'cms-crl-missing' || error.code === 'cms-crl-expired') throw error;
        return `${use} certificate: ${error.message}`;
      }
    };
    const verdicts = await Promise.all(
      resources.map(async (resource): Promise<RefusedEntry | undefined> => {
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
        const failures = await Promise.all([
          ...certificates.signing.map((c) => failureOf('signing', c, practitionerId)),
          ...certificates.encryption.map((c) => failureOf('encryption', c, practitionerId)),
        ]);
        const reason = failures.find((f) => f !== undefined);
        return reason === undefined ? undefined : { practitionerId, reason };
      }),
    );
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
      const refused = await refusals(resources);
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
      const refused = await refusals(changes.flatMap((c) => (c.upsert ? [c.upsert] : [])));
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
