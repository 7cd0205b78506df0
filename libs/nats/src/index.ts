export { OUTBOUND_CONSUMERS, regionStreams, regionSubjects } from './subjects';
export type { StreamSpec } from './subjects';
export { traceHeaders, extractTraceContext } from './trace-headers';
export { ACK, connectJetStream, ensureRegionStreams, publishEvent, startConsumer } from './jetstream';
export type { ConsumerOptions, DeliveryInfo, HandlerOutcome, JetStreamConnection, RunningConsumer } from './jetstream';
