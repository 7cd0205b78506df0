export { MESSAGE_STATUSES, isTerminalStatus, nextStatus } from './message-status';
export type { MessageStatus } from './message-status';
export { ACCEPTED_STATE, decideStatus } from './status-machine';
export type { MessageStatusState, StatusDecision, StatusEffect, StatusReportFacts, StatusSource, StatusTransition } from './status-machine';
export { isE164, maskPhoneNumber, toWaId } from './phone-number';
export {
  AbortedError,
  FailedPreconditionError,
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  WaygateError,
  WrongRegionError,
  isWaygateError,
} from './errors';
export type { ErrorReason, FieldViolation, PreconditionViolation } from './errors';
export { scaledClock, systemClock } from './clock';
export type { Clock } from './clock';
export { newId } from './ids';
export { decodePageTokenFields, encodePageTokenFields, requestFingerprint } from './page-token';
export { MAX_ID_LENGTH, MAX_WHATSAPP_ID_LENGTH, idViolations, validateId, validateMessageId } from './id-validation';
export { orderStatusEvents } from './status-event-order';
export { META_ERROR_CODES, MIN_RETRY_DELAY_MS, classifyMetaError, isFailureRetriedByDelivery } from './meta-error-codes';
export type { OutcomeClass, RetryReason } from './meta-error-codes';
export { callbackDataFor, messageIdFromCallbackData } from './callback-data';
export { CONTENT_KINDS, MEDIA_CONTENT_KINDS, isMediaContentKind } from './message-content';
export { mediaIdReferencesOf, mediaIdsOf } from './media-references';
export type { MediaReference } from './media-references';
export type {
  ContactCard,
  ContentKind,
  InteractiveAction,
  InteractiveHeader,
  LocationValue,
  MediaContentKind,
  MediaSource,
  MediaValue,
  MessageContent,
  TemplateButtonAction,
  TemplateCategory,
  TemplateComponent,
  TemplateComponentType,
  TemplateParameter,
  TemplateParameterValue,
} from './message-content';
export type { CustomerDataParticipant, CustomerDataRecord, CustomerDataSubject } from './customer-data';
