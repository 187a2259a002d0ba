/** What other layers may use of shared/protocol/fhir/: they import it from here only (eslint rule rts/layers). */
export {
  certificatesOf,
  endpointsOf,
  organizationOf,
  practitionerName,
  readDirectoryEntry,
  readOrganization,
  specialtiesOf,
  roleReferenceProblem,
} from './directory-entries.ts';
export { indexFhirDefinitions, protocolResourceDefinitions, validateFhirResource } from './fhir-base-validation.ts';
export type { FhirIssue } from './fhir-base-validation.ts';
export {
  buildConsultReport,
  buildConsultRequest,
  buildConsultStatus,
  buildDirectoryPublish,
  buildDirectorySnapshot,
  buildDirectoryUpdate,
  buildEndpointRegister,
  buildExpertEntry,
  buildHubNotice,
  buildOrganization,
  buildReceipt,
  buildSnapshotRequest,
  readHubNotice,
} from './message-builders.ts';
export type {
  ConsultRequestInput,
  DirectoryChange,
  DirectoryResource,
  MessageContext,
  PatientDetails,
  Prescription,
} from './message-builders.ts';
export { PAYLOAD_PROFILES } from './payload-profiles.ts';
export { HUB_VALIDATED_TYPES, validatePayload, validatePayloadWith } from './payload-validator.ts';
export type { BaseFhirCheck, PayloadChecks, PayloadResult } from './payload-validator.ts';
export { BLOOD_PRESSURE_PANEL, ECG_LEADS, LOINC, MDC, VITAL_SIGNS, WAVEFORMS } from './vital-signs.ts';
export type { VitalSign, Waveform } from './vital-signs.ts';
