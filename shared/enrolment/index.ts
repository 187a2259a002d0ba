/** What other layers may use of shared/enrolment/: they import it from here only (eslint rule rts/layers). */
export {
  ENDPOINT_KINDS,
  ENROLMENT_FILE_EXTENSION,
  ENROLMENT_FORMAT,
  ENROLMENT_SIGNER_COMMON_NAME,
  EnrolmentError,
  certificateFingerprint,
  enrolmentCaOf,
  isEnrolmentError,
  signEnrolment,
  verifyEnrolment,
  verifyEnrolmentWithItsOwnCa,
} from './enrolment.ts';
export type { EndpointKind, Enrolment } from './enrolment.ts';
