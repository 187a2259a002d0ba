import { API_ERROR_CODES, type ExpertDetail } from '../../../shared/api/index.ts';
import { certificatesOf, readDirectoryEntry, readOrganization } from '../../../shared/protocol/fhir/index.ts';
import { CoreError } from '../core-error.ts';
import type { PractitionerIdentity } from '../identity/practitioner-identity.ts';
import type { DirectoryMirror } from './directory-mirror.ts';

/** One expert as the directory lists them, each certificate judged against this workstation's trust. */
export async function expertDetail(
  mirror: DirectoryMirror,
  identity: Pick<PractitionerIdentity, 'checkCertificate'>,
  practitionerId: string,
): Promise<ExpertDetail> {
  const practitioner = mirror.resource(`Practitioner/${practitionerId}`) as Record<string, never> | undefined;
  const role = mirror.resource(`PractitionerRole/${practitionerId}`) as Record<string, never> | undefined;
  if (!practitioner || !role)
    throw new CoreError(
      API_ERROR_CODES.notFound,
      'expert-not-in-directory',
      `${practitionerId} is not in the directory.`,
      {
        params: { practitionerId },
      },
    );
  const entry = readDirectoryEntry(practitioner, role);
  const organization = readOrganization(
    entry.organizationId === undefined ? undefined : mirror.resource(`Organization/${entry.organizationId}`),
  );
  const certificates = certificatesOf(practitioner);
  const judged = [];
  for (const use of ['signing', 'encryption'] as const) {
    for (const base64 of certificates[use])
      judged.push(await identity.checkCertificate(new Uint8Array(Buffer.from(base64, 'base64')), use));
  }
  return {
    practitionerId,
    name: entry.name ?? '',
    specialties: entry.specialties,
    ...(organization.name !== undefined && { organization: organization.name }),
    ...(organization.city !== undefined && { city: organization.city }),
    languages: entry.languages,
    endpoints: entry.endpoints,
    certificates: judged,
    publisher: practitionerId.slice(0, practitionerId.indexOf('.')),
    lookAlikes: mirror.lookAlikes(practitionerId),
  };
}
