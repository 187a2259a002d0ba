import { buildExpertEntry } from '../../../shared/protocol/fhir/index.ts';

/** An expert with one specialty at one hospital, as the mirror's tests load them (certificates are placeholders). */
export const expertEntry = (
  id: string,
  family: string,
  given: string,
  specialty: string,
  organizationId: string,
  languages = ['en'],
) =>
  buildExpertEntry({
    practitionerId: id,
    family,
    given: [given],
    languages,
    specialties: [{ text: specialty }],
    organizationId,
    endpoints: ['clinic-a'],
    signingCertificate: 'AA==',
    encryptionCertificate: 'AA==',
  });
