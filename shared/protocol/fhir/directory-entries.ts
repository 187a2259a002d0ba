import { formatCodeableConcept, formatHumanName, getCodeBySystem } from '@medplum/core';
import { personName, writtenInHan } from '../../i18n/person-name.ts';
import type { Address, CodeableConcept, HumanName } from '@medplum/fhirtypes';
import { RTS_URIS } from '../identifiers.ts';

/** Reading what the directory carries about an expert (written by `buildExpertEntry`). */
export interface PractitionerCertificates {
  readonly signing: readonly string[];
  readonly encryption: readonly string[];
}

interface CertificateExtension {
  url?: string;
  extension?: { url?: string; valueCode?: string; valueBase64Binary?: string }[];
}

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
export function roleReferenceProblem(role: {
  id?: string;
  practitioner?: unknown;
  organization?: unknown;
}): string | undefined {
  const id = role.id ?? '';
  const publisher = directoryPublisherOf(id);
  const practitioner = referencedId(role.practitioner, 'Practitioner');
  if (practitioner !== id)
    return `PractitionerRole/${id} must refer to Practitioner/${id}, not ${practitioner === undefined ? 'nothing' : `Practitioner/${practitioner}`}`;
  const organization = referencedId(role.organization, 'Organization');
  if (organization !== undefined && directoryPublisherOf(organization) !== publisher) {
    return `PractitionerRole/${id} refers to Organization/${organization}, which ${publisher} did not publish (another clinic's namespace)`;
  }
  return undefined;
}

/**
 * Reading an entry the same way wherever it is shown or searched (the workstation's mirror and expert view, the
 * connector, the hub's operator view), by the rules of docs/protocol.md §5.1. Resources are already validated FHIR;
 * a part that is missing is left out, never shown as a placeholder.
 */
export interface DirectoryEntry {
  /** `practitionerName`. */
  readonly name?: string;
  /** `specialtiesOf`. */
  readonly specialties: string[];
  /** `languagesOf`. */
  readonly languages: string[];
  /** `endpointsOf`. */
  readonly endpoints: string[];
  /** `organizationOf`: the hospital. */
  readonly organizationId?: string;
}

export function readDirectoryEntry(
  practitioner: { name?: readonly unknown[]; communication?: readonly unknown[] } | undefined,
  role: { specialty?: readonly unknown[]; endpoint?: readonly unknown[]; organization?: unknown } | undefined,
): DirectoryEntry {
  const name = practitionerName(practitioner);
  const organizationId = organizationOf(role);
  return {
    ...(name !== undefined && { name }),
    specialties: specialtiesOf(role),
    languages: languagesOf(practitioner),
    endpoints: endpointsOf(role),
    ...(organizationId !== undefined && { organizationId }),
  };
}

/** The id of the Organization a PractitionerRole names, if it names one. */
export function organizationOf(role: { organization?: unknown } | undefined): string | undefined {
  return referencedId(role?.organization, 'Organization');
}

/** One name as people read it; a name in Han characters family name first and joined (Dr. 张伟明, not Dr. 伟明 张). */
function nameLine(name: HumanName): string {
  const parts = personName({ given: name.given ?? [], family: name.family });
  if (!writtenInHan(parts)) return formatHumanName(name);
  return [...(name.prefix ?? []), parts, ...(name.suffix ?? [])].join(' ');
}

/**
 * A Practitioner's names as people read them ("Dr Layla Ahmed"), several joined by ", ", or undefined if it has none.
 * Each is prefix, given, family and suffix, or its `text` when it has none of those (a name given only as text is
 * shown as sent, §4).
 */
export function practitionerName(practitioner: { name?: readonly unknown[] } | undefined): string | undefined {
  const names = ((practitioner?.name ?? []) as HumanName[]).map(nameLine).filter(Boolean);
  return names.length > 0 ? names.join(', ') : undefined;
}

/** A PractitionerRole's specialties: each one's `text`, or else its codings' displays (or codes). */
export function specialtiesOf(role: { specialty?: readonly unknown[] } | undefined): string[] {
  return ((role?.specialty ?? []) as CodeableConcept[])
    .map((specialty) => formatCodeableConcept(specialty))
    .filter(Boolean);
}

const BCP_47 = 'urn:ietf:bcp:47';

/** A Practitioner's languages as BCP 47 codes (§5.1): one per `communication`, its coding in that system, else its first code. */
export function languagesOf(practitioner: { communication?: readonly unknown[] } | undefined): string[] {
  return ((practitioner?.communication ?? []) as CodeableConcept[])
    .map((language) => getCodeBySystem(language, BCP_47) ?? language.coding?.find((coding) => coding.code)?.code)
    .filter((code): code is string => Boolean(code));
}

/** Where a hospital is: its name, and its first address's city and the place words the region filter searches. */
export interface OrganizationPlace {
  readonly name?: string;
  readonly city?: string;
  /** The part of a city or county the address names (a borough, a municipality). */
  readonly district?: string;
  /** The county, state or province: the widest area below the country. */
  readonly state?: string;
  /** City, district, state and country, those present, in that order. */
  readonly place: string[];
}

export function readOrganization(
  resource: { resourceType?: string; name?: unknown; address?: readonly unknown[] } | undefined,
): OrganizationPlace {
  const organization = resource?.resourceType === 'Organization' ? resource : undefined;
  const name = typeof organization?.name === 'string' && organization.name ? organization.name : undefined;
  const address = (organization?.address as Address[] | undefined)?.[0];
  const place = [address?.city, address?.district, address?.state, address?.country].filter((part): part is string =>
    Boolean(part),
  );
  return {
    ...(name !== undefined && { name }),
    ...(address?.city && { city: address.city }),
    ...(address?.district && { district: address.district }),
    ...(address?.state && { state: address.state }),
    place,
  };
}
