export { erasureCompletedSubject, erasureRequestedSubject, OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';
export type { StreamSpec } from './subjects';
export { traceHeaders, extractTraceContext } from './trace-headers';
export {
  ACK,
  connectJetStream,
  ensureRegionStreams,
  publishCustomerEvent,
  publishEvent,
  publishSealedEvent,
  SEALED_HEADER,
  startConsumer,
  ORDER_KEY_HEADER,
  orderKeyHeader,
  messageOrderKey,
} from './jetstream';
export type {
  EventSeal,
  ConsumerBackoff,
  ConsumerOptions,
  DeliveryInfo,
  HandlerOutcome,
  JetStreamConnection,
  RunningConsumer,
} from './jetstream';
export { routeBySubject } from './subject-routes';
export type { SubjectHandler } from './subject-routes';
export { createDeadLetterStore, InvalidPageTokenError, isDeadLetterId } from './dead-letters';
export type { DeadLetter, DeadLetterPage, DeadLetterReasonKind, DeadLetterSelection, DeadLetterStore } from './dead-letters';
export { DEFAULT_JANITOR_INTERVAL_MS, startStreamJanitor } from './stream-janitor';
export type { StreamJanitor } from './stream-janitor';
export { LegalHoldMirror, legalHoldsBucketName } from './legal-hold-mirror';
export type { LegalHoldSummary } from './legal-hold-mirror';
