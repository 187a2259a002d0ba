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

/** The endpoint a directory id belongs to, the only one that may publish it: the part before the dot (§1). */
export function directoryPublisherOf(directoryId: string): string {
  const dot = directoryId.indexOf('.');
  return dot < 0 ? '' : directoryId.slice(0, dot);
}

/** The id a FHIR reference `Type/<id>` points to, or undefined if it is not a reference of that type. */
function referencedId(reference: unknown, type: string): string | undefined {
  const value = (reference as { reference?: unknown } | undefined)?.reference;
  return typeof value === 'string' && value.startsWith(`${type}/`) ? value.slice(type.length + 1) : undefined;
}

/**
 * Why a PractitionerRole's references leave its publisher's namespace, or undefined (docs/protocol.md §5.1): the role
 * names the Practitioner of the same id, and an Organization its own publisher published. Otherwise a clinic could
 * list another clinic's expert, or place its own under another clinic's hospital.
 */
export function roleReferenceProblem(role: { id?: string; practitioner?: unknown; organization?: unknown }): string | undefined {
  const id = role.id ?? '';
  const publisher = directoryPublisherOf(id);
  const practitioner = referencedId(role.practitioner, 'Practitioner');
  if (practitioner !== id) return `PractitionerRole/${id} must refer to Practitioner/${id}, not ${practitioner === undefined ? 'nothing' : `Practitioner/${practitioner}`}`;
  const organization = referencedId(role.organization, 'Organization');
  if (organization !== undefined && directoryPublisherOf(organization) !== publisher) {
    return `PractitionerRole/${id} refers to Organization/${organization}, which ${publisher} did not publish (another clinic's namespace)`;
  }
  return undefined;
}

/** A Practitioner's names as people read them ("Dr Layla Ahmed"), or undefined if it has none. */
export function practitionerName(practitioner: { name?: readonly unknown[] } | undefined): string | undefined {
  const names = (practitioner?.name ?? []) as { prefix?: string[]; given?: string[]; family?: string; text?: string }[];
  const text = names.map((n) => n.text ?? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ')).filter(Boolean).join(', ');
  return text || undefined;
}
