import type { ExpertDetail } from '../../../shared/api/contract.ts';
import { API_ERROR_CODES } from '../../../shared/api/api-error.ts';
import { certificatesOf, endpointsOf } from '../../../shared/protocol/fhir/directory-entries.ts';
import { CoreError } from '../core-error.ts';
import type { PractitionerIdentity } from '../identity/practitioner-identity.ts';
import type { DirectoryMirror } from './directory-mirror.ts';

/** One expert as the directory lists them, each certificate judged against this workstation's trust. */
export async function expertDetail(mirror: DirectoryMirror, identity: Pick<PractitionerIdentity, 'checkCertificate'>, practitionerId: string): Promise<ExpertDetail> {
  const practitioner = mirror.resource(`Practitioner/${practitionerId}`) as Record<string, never> | undefined;
  const role = mirror.resource(`PractitionerRole/${practitionerId}`) as Record<string, never> | undefined;
  if (!practitioner || !role) throw new CoreError(API_ERROR_CODES.notFound, `${practitionerId} is not in the directory.`);
  const organization = mirror.resource(String((role.organization as { reference?: string } | undefined)?.reference ?? '')) as { name?: string; address?: { city?: string }[] } | undefined;
  const names = (practitioner.name as { prefix?: string[]; given?: string[]; family?: string }[] | undefined) ?? [];
  const certificates = certificatesOf(practitioner);
  const judged = [];
  for (const use of ['signing', 'encryption'] as const) {
    for (const base64 of certificates[use]) judged.push(await identity.checkCertificate(new Uint8Array(Buffer.from(base64, 'base64')), use));
  }
  return {
    practitionerId,
    name: names.map((n) => [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ')).join(', '),
    specialties: ((role.specialty as { text?: string; coding?: { display?: string }[] }[] | undefined) ?? []).map((s) => s.text ?? s.coding?.[0]?.display ?? ''),
    ...(organization?.name && { organization: organization.name }),
    ...(organization?.address?.[0]?.city && { city: organization.address[0].city }),
    languages: ((practitioner.communication as { coding?: { code?: string }[] }[] | undefined) ?? []).flatMap((c) => (c.coding ?? []).map((x) => x.code ?? '')),
    endpoints: endpointsOf(role),
    certificates: judged,
    publisher: practitionerId.slice(0, practitionerId.indexOf('.')),
    lookAlikes: mirror.lookAlikes(practitionerId),
  };
}
