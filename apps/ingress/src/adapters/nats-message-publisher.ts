import type { JetStreamClient } from 'nats';
import { customerKeyScope, type Keyring } from '@waygate/keyring';
import { ORDER_KEY_HEADER, publishSealedEvent, regionSubjects } from '@waygate/nats';
import { toProtoContent, toProtoContentType } from '@waygate/contracts';
import type { TemplateCategory as DomainTemplateCategory } from '@waygate/domain';
import { MessageAccepted, TemplateCategory } from '@waygate/proto';
import type { MessagePublisher } from '../domain/message-publisher';

const TEMPLATE_CATEGORIES: Readonly<Record<DomainTemplateCategory, TemplateCategory>> = {
  MARKETING: TemplateCategory.TEMPLATE_CATEGORY_MARKETING,
  UTILITY: TemplateCategory.TEMPLATE_CATEGORY_UTILITY,
  AUTHENTICATION: TemplateCategory.TEMPLATE_CATEGORY_AUTHENTICATION,
};

/**
 * Publishes MessageAccepted to the region's outbound stream, sealed under the recipient's data key (erasing the
 * customer shreds the stream's copy); the message id de-duplicates retried publishes.
 */
export function createNatsMessagePublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'customerRef' | 'dataKeyFor'>,
): MessagePublisher {
  const subject = regionSubjects(region).outboundAccepted;
  return {
    async publishAccepted(message) {
      const event = MessageAccepted.encode({
        tenantId: message.tenantId,
        messageId: message.messageId,
        to: message.to,
        phoneNumberId: message.phoneNumberId,
        content: toProtoContent(message.content),
        acceptedAt: message.acceptedAt,
        expiresAt: message.expiresAt,
        replyToWaMessageId: message.replyToWaMessageId ?? '',
        contentType: toProtoContentType(message.contentType),
        contentSummary: message.contentSummary,
        templateCategory: message.templateCategory
          ? TEMPLATE_CATEGORIES[message.templateCategory]
          : TemplateCategory.TEMPLATE_CATEGORY_UNSPECIFIED,
      }).finish();
      const scope = await customerKeyScope(keyring, message.tenantId, message.to);
      // delivery-retry stores one lane (number -> customer) in order, different lanes in parallel: the order key
      // names the lane by the customer's pseudonym, never the number (headers are not sealed).
      await publishSealedEvent(
        js,
        subject,
        event,
        `accepted:${message.messageId}`,
        { keyring, scope },
        {
          [ORDER_KEY_HEADER]: `${message.phoneNumberId}:${scope.customerRef}`,
        },
      );
    },
  };
}
