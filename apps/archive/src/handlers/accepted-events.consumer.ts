import { decodeEvent, fromProtoContent, fromProtoContentType } from '@waygate/contracts';
import type { TemplateCategory } from '@waygate/domain';
import type { HandlerOutcome } from '@waygate/nats';
import { MessageAccepted, TemplateCategory as ProtoTemplateCategory } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveService } from '../domain/archive-service';
import { archivedContentOf } from '../domain/message-record';
import { recordEvent } from './record-event';

const TEMPLATE_CATEGORIES: Partial<Record<ProtoTemplateCategory, TemplateCategory>> = {
  [ProtoTemplateCategory.TEMPLATE_CATEGORY_MARKETING]: 'MARKETING',
  [ProtoTemplateCategory.TEMPLATE_CATEGORY_UTILITY]: 'UTILITY',
  [ProtoTemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION]: 'AUTHENTICATION',
};

/**
 * Archives MessageAccepted events (from ingress) as 'accepted' events, keyed `accepted:<message id>`, with the whole
 * content as accepted (an authentication template without its parameters), its searchable text and media ids.
 */
export function createAcceptedEventsHandler(service: ArchiveService, logger: Logger) {
  return async (data: Uint8Array): Promise<HandlerOutcome> => {
    const event = decodeEvent(MessageAccepted, data);
    if (!event) return { kind: 'reject', reason: 'not a valid MessageAccepted' };
    if (!event.acceptedAt) return { kind: 'reject', reason: 'MessageAccepted without accepted_at' };
    const contentType = event.content ? event.content.$case : fromProtoContentType(event.contentType);
    const templateCategory = TEMPLATE_CATEGORIES[event.templateCategory];
    // ingress accepted it, so it decodes; if a newer ingress sent something this build cannot read, the message is
    // still archived (type, summary, recipient) rather than lost.
    const decoded = fromProtoContent(event.content);
    const content = decoded.ok ? decoded.content : undefined;
    const archived = content ? archivedContentOf(content, templateCategory) : undefined;
    const contextWaMessageId = event.replyToWaMessageId || (content?.kind === 'reaction' ? content.messageId : '');
    return recordEvent(service, logger, {
      eventId: `accepted:${event.messageId}`,
      tenantId: event.tenantId,
      messageId: event.messageId,
      kind: 'accepted',
      status: 'ACCEPTED',
      occurredAt: event.acceptedAt,
      recipient: event.to,
      phoneNumberId: event.phoneNumberId,
      ...(event.content?.$case === 'text' ? { textBody: event.content.value.body } : {}),
      // The type is the content case (MessageAccepted.content_type says the same; the case is what was sent).
      ...(contentType ? { contentType } : {}),
      ...(event.contentSummary ? { contentSummary: event.contentSummary } : {}),
      ...(archived
        ? {
            contentJson: archived.contentJson,
            ...(archived.text !== undefined ? { text: archived.text } : {}),
            ...(archived.templateName !== undefined ? { templateName: archived.templateName } : {}),
            mediaIds: archived.mediaIds,
          }
        : {}),
      ...(templateCategory ? { templateCategory } : {}),
      ...(contextWaMessageId ? { contextWaMessageId } : {}),
    });
  };
}
