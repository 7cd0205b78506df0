export { OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';
export type { StreamSpec } from './subjects';
export { traceHeaders, extractTraceContext } from './trace-headers';
export { ACK, connectJetStream, ensureRegionStreams, publishEvent, startConsumer } from './jetstream';
export type { ConsumerBackoff, ConsumerOptions, DeliveryInfo, HandlerOutcome, JetStreamConnection, RunningConsumer } from './jetstream';
export { routeBySubject } from './subject-routes';
export type { SubjectHandler } from './subject-routes';
export { createDeadLetterStore, InvalidPageTokenError, isDeadLetterId } from './dead-letters';
export type { DeadLetter, DeadLetterPage, DeadLetterReasonKind, DeadLetterSelection, DeadLetterStore } from './dead-letters';
