import type { DirectoryResource } from '../shared/protocol/fhir/index.ts';

/**
 * A full list in batches of at most `rolesPerBatch` PractitionerRoles, each Practitioner beside its role, and each batch
 * carrying the Organizations its roles name. The hub applies a list batch by batch and refuses a batch alone
 * (docs/protocol.md §5.1): a refused batch then leaves no role of another batch naming a hospital the hub never got.
 * Batch 1 also carries the Organizations no role names. An Organization sent again unchanged makes no new version.
 */
export function fullListBatches(resources: readonly DirectoryResource[], rolesPerBatch: number): DirectoryResource[][] {
  const organizations = new Map(
    resources.filter((r) => r.resourceType === 'Organization').map((r) => [`Organization/${r.id}`, r]),
  );
  const practitioners = new Map(resources.filter((r) => r.resourceType === 'Practitioner').map((r) => [r.id, r]));
  const roles = resources.filter((r) => r.resourceType === 'PractitionerRole');
  const named = new Set(roles.map((role) => role.organization?.reference));
  const batches: DirectoryResource[][] = [];
  for (let i = 0; i < Math.max(roles.length, 1); i += rolesPerBatch) {
    const slice = roles.slice(i, i + rolesPerBatch);
    const references = new Set(slice.map((role) => role.organization?.reference));
    batches.push([
      ...[...organizations].filter(([url]) => references.has(url) || (i === 0 && !named.has(url))).map(([, o]) => o),
      ...slice.flatMap((role) => [practitioners.get(role.id)!, role].filter(Boolean)),
    ]);
  }
  return batches;
}
