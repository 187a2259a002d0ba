/** What other layers may use of shared/protocol/: they import it from here only (eslint rule rts/layers). */
export type { ApplicationProperties, PropertiesOf } from './application-properties.ts';
export { asyncApiDocument } from './asyncapi-document.ts';
export { CODES_WITHOUT_VECTOR, CONFORMANCE_EVALUATE_AT, CONFORMANCE_MISNAMED_IDENTITIES } from './conformance.ts';
export type { ConformanceVector, UnboundEntry, VectorMessage } from './conformance.ts';
export { CONSULT_STATUS_SENDER, CONSULT_STATUSES, canTransition, isTerminal } from './consult-status.ts';
export type { ConsultStatus, ConsultStatusUpdate } from './consult-status.ts';
export { assertEndpointId, isEndpointId } from './endpoint-id.ts';
export { protocolExamples } from './examples.ts';
export type { ProtocolExample } from './examples.ts';
export {
  DIRECTORY_ID_PATTERN,
  RTS_URIS,
  UUID_PATTERN,
  directoryIdSchema,
  endpointIdSchema,
  uuidSchema,
} from './identifiers.ts';
export { publishedSchemas } from './json-schemas.ts';
export { PROTOCOL_LIMITS } from './limits.ts';
export { CONTENT_TYPES, decodeMessage, encodeMessage } from './message-codec.ts';
export type { AmqpMessageFields, MessageMetadata } from './message-codec.ts';
export {
  crlOfUnopenedNotice,
  openMessage,
  reasonForCmsError,
  sealMessage,
  signingTimeProblem,
} from './message-envelope.ts';
export type { OpenContext, OpenedMessage, Rejection } from './message-envelope.ts';
export { HUB_SENDER, MESSAGE_TYPES, MESSAGE_TYPE_SPECS } from './message-types.ts';
export type { MessageType } from './message-types.ts';
export { PROTOCOL_MAJOR, PROTOCOL_VERSION } from './protocol-version.ts';
export { REASON_CODES, REASON_DESCRIPTIONS, failureClass } from './reason-codes.ts';
export type { ReasonCode } from './reason-codes.ts';
