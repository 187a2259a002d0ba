import { RTS_URIS } from '../identifiers.ts';

/** Reading what the directory carries about an expert (written by `buildExpertEntry`). */
export interface PractitionerCertificates {
  readonly signing: readonly string[];
  readonly encryption: readonly string[];
}

interface CertificateExtension { url?: string; extension?: { url?: string; valueCode?: string; valueBase64Binary?: string }[] }

/** The base64 certificates of a Practitioner resource, by use. */
export function certificatesOf(practitioner: { extension?: readonly unknown[] } | undefined): PractitionerCertificates {
  const result = { signing: [] as string[], encryption: [] as string[] };
  for (const extension of (practitioner?.extension ?? []) as CertificateExtension[]) {
    if (extension.url !== RTS_URIS.certificateExtension) continue;
    const use = extension.extension?.find((e) => e.url === 'use')?.valueCode;
    const certificate = extension.extension?.find((e) => e.url === 'certificate')?.valueBase64Binary;
    if (certificate && (use === 'signing' || use === 'encryption')) result[use].push(certificate);
  }
  return result;
}

/** Endpoint ids a PractitionerRole lists. */
export function endpointsOf(role: { endpoint?: readonly unknown[] } | undefined): string[] {
  return ((role?.endpoint ?? []) as { identifier?: { system?: string; value?: string } }[])
    .filter((e) => e.identifier?.system === 'urn:rts:endpoint' && typeof e.identifier.value === 'string')
    .map((e) => e.identifier!.value!);
}
