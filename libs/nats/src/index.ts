export { deadLetterSubject, OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';
export type { StreamSpec } from './subjects';
export { traceHeaders, extractTraceContext } from './trace-headers';
export {
  ACK,
  connectJetStream,
  DEFAULT_ERROR_BACKOFF,
  DEFAULT_MAX_DELIVERIES,
  ensureRegionStreams,
  errorBackoffMs,
  publishEvent,
  startConsumer,
} from './jetstream';
export type { ConsumerBackoff, ConsumerOptions, DeliveryInfo, HandlerOutcome, JetStreamConnection, RunningConsumer } from './jetstream';
export { createDeadLetterStore, InvalidPageTokenError, isDeadLetterId, REPLAY_FOR_HEADER } from './dead-letters';
export type { DeadLetter, DeadLetterPage, DeadLetterReasonKind, DeadLetterSelection, DeadLetterStore } from './dead-letters';
