/** What other layers may use of shared/api/: they import it from here only (eslint rule rts/layers). */
export { API_ERROR_CODES, API_ERROR_REASONS, apiError, isApiErrorReason } from './api-error.ts';
export type { ApiError, ApiErrorCode, ApiErrorParams, ApiErrorReason } from './api-error.ts';
export { COMMANDS, EVENTS, isCommandChannel, isEventChannel } from './channels.ts';
export type { CommandChannel, CoreCommandChannel, EventChannel } from './channels.ts';
export type { ConnectionState, ConnectionStatus } from './connection-state.ts';
export {
  caseActionSchema,
  caseBucketSchema,
  caseMessageViewSchema,
  casePartySchema,
  caseSortSchema,
  caseSummarySchema,
  inboxRowSchema,
  waitingOnSchema,
  caseViewSchema,
  patientSchema,
  composeConsultSchema,
  priorities,
  reportInputSchema,
  requestContentSchema,
  waveformSchema,
} from './consult-schemas.ts';
export type {
  CaseAction,
  CaseAttention,
  CaseBucket,
  CaseParty,
  CaseSummary,
  InboxRow,
  CaseView,
  ComposeConsult,
  RequestContent,
  PatientView,
  ReportInput,
} from './consult-schemas.ts';
export { commandContract, profileSchema, regionChoiceSchema } from './contract.ts';
export type {
  AppInfo,
  CommandInput,
  CommandOutput,
  DirectoryFacets,
  DirectoryState,
  DraftKey,
  EnrolmentSummary,
  EventPayload,
  ExpertDetail,
  RegionChoice,
  RegionState,
  SetupState,
} from './contract.ts';
export { err, ok } from './result.ts';
export type { Result } from './result.ts';
