import type { JetStreamClient } from 'nats';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { ContentType, MessageAccepted, TemplateCategory } from '@waygate/proto';
import type { MessagePublisher } from '../domain/message-publisher';

/** Publishes MessageAccepted to the region's outbound stream; the message id de-duplicates retried publishes. */
export function createNatsMessagePublisher(js: JetStreamClient, region: string): MessagePublisher {
  const subject = regionSubjects(region).outboundAccepted;
  return {
    async publishAccepted(message) {
      const event = MessageAccepted.encode({
        tenantId: message.tenantId,
        messageId: message.messageId,
        to: message.to,
        phoneNumberId: message.phoneNumberId,
        // Only text is accepted until the content codec (@waygate/contracts) covers every kind.
        content:
          message.content.kind === 'text'
            ? { $case: 'text', value: { body: message.content.body, previewUrl: message.content.previewUrl } }
            : undefined,
        acceptedAt: message.acceptedAt,
        expiresAt: message.expiresAt,
        replyToWaMessageId: '',
        contentType: ContentType.CONTENT_TYPE_TEXT,
        contentSummary: '',
        templateCategory: TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
      }).finish();
      await publishEvent(js, subject, event, `accepted:${message.messageId}`);
    },
  };
}
