import type { InboundMessageReceived } from '@waygate/proto';

/** The optional content of an inbound message as the domain types keep it: absent rather than empty. */
export interface InboundMessageFields {
  readonly text?: string;
  readonly replyId?: string;
  readonly mediaId?: string;
  readonly mimeType?: string;
  readonly contextWaMessageId?: string;
  readonly contentJson?: string;
}

/**
 * The optional fields of an InboundMessageReceived, each only when set (proto3 sends "" for unset strings): the one
 * mapping the tenant feed and the archive share.
 */
export function inboundMessageFields(event: InboundMessageReceived): InboundMessageFields {
  return {
    ...(event.text ? { text: event.text } : {}),
    ...(event.replyId ? { replyId: event.replyId } : {}),
    ...(event.mediaId ? { mediaId: event.mediaId } : {}),
    ...(event.mimeType ? { mimeType: event.mimeType } : {}),
    ...(event.contextWaMessageId ? { contextWaMessageId: event.contextWaMessageId } : {}),
    ...(event.contentJson ? { contentJson: event.contentJson } : {}),
  };
}
