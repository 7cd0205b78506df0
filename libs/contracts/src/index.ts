export { fromProtoSource, fromProtoStatus, toProtoSource, toProtoStatus } from './status-mapping';
export type { StatusSourceName } from './status-mapping';
export { decodeEvent } from './decode-event';
export { inboundMessageFields } from './inbound-message-fields';
export type { InboundMessageFields } from './inbound-message-fields';
