export { fromProtoSource, fromProtoStatus, toProtoSource, toProtoStatus } from './status-mapping';
export type { StatusSourceName } from './status-mapping';
export { decodeEvent } from './decode-event';
export { inboundMessageFields } from './inbound-message-fields';
export type { InboundMessageFields } from './inbound-message-fields';
export { fromProtoContent, fromProtoContentType, toProtoContent, toProtoContentType } from './content-codec';
export type { ContentDecoding, ProtoContent } from './content-codec';
