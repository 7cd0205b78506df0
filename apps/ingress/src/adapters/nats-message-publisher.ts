import type { JetStreamClient } from 'nats';
import { publishEvent, regionSubjects } from '@waygate/nats';
import { MessageAccepted } from '@waygate/proto';
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
        content: { $case: 'text', value: { body: message.content.body, previewUrl: message.content.previewUrl } },
        acceptedAt: message.acceptedAt,
        expiresAt: message.expiresAt,
      }).finish();
      await publishEvent(js, subject, event, `accepted:${message.messageId}`);
    },
  };
}
