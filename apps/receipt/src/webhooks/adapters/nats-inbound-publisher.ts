import type { JetStreamClient } from 'nats';
import { customerKeyScope, type Keyring } from '@waygate/keyring';
import { publishSealedEvent, regionSubjects } from '@waygate/nats';
import { InboundMessageReceived } from '@waygate/proto';
import type { InboundMessageRecord } from '../domain/inbound-store';
import type { InboundAnnouncement, InboundMessagePublisher } from '../domain/receipt-service';

/** The event's `text`: text body, media caption, or the title/text of a reply button or list row. */
function textOf(content: InboundMessageRecord['content']): string {
  switch (content.kind) {
    case 'text':
      return content.body;
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return content.caption ?? '';
    case 'interactive':
      return content.title;
    case 'button':
      return content.text;
    default:
      return '';
  }
}

function replyIdOf(content: InboundMessageRecord['content']): string {
  if (content.kind === 'interactive') return content.id;
  if (content.kind === 'button') return content.payload;
  return '';
}

/**
 * `content_json`: the parsed content; for media, Meta's media id (useless to tenants once stored) is replaced by
 * media-store's, or by the reason it is unavailable. Never bytes.
 */
function contentJsonOf(record: InboundMessageRecord): string {
  const content = record.content;
  if (
    content.kind !== 'image' &&
    content.kind !== 'video' &&
    content.kind !== 'audio' &&
    content.kind !== 'document' &&
    content.kind !== 'sticker'
  ) {
    return JSON.stringify(content);
  }
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { mediaId, url, ...rest } = content;
  return JSON.stringify({
    ...rest,
    ...(record.media ? { mediaId: record.media.mediaId, sizeBytes: record.media.sizeBytes } : {}),
    ...(record.mediaUnavailable ? { mediaUnavailable: record.mediaUnavailable } : {}),
  });
}

/** The InboundMessageReceived event of a recorded inbound message. */
export function toInboundMessageReceived(announcement: InboundAnnouncement): InboundMessageReceived {
  const { record } = announcement;
  const mimeType = 'mimeType' in record.content ? record.content.mimeType : '';
  return {
    eventId: announcement.eventId,
    tenantId: record.tenantId,
    phoneNumberId: record.phoneNumberId,
    from: record.customer,
    waMessageId: record.waMessageId,
    occurredAt: record.occurredAt,
    type: record.type,
    text: textOf(record.content),
    replyId: replyIdOf(record.content),
    mediaId: record.media?.mediaId ?? '',
    mimeType: record.media?.mimeType ?? mimeType,
    contextWaMessageId: record.contextWaMessageId ?? '',
    contentJson: contentJsonOf(record),
    serviceWindowClosesAt: announcement.serviceWindowClosesAt,
  };
}

/**
 * Publishes InboundMessageReceived on `waygate.<region>.events.inbound`, with its event id as Nats-Msg-Id, sealed under
 * the customer's data key (erasing the customer shreds the stream's copy).
 */
export function createNatsInboundPublisher(
  js: JetStreamClient,
  region: string,
  keyring: Pick<Keyring, 'customerRef' | 'dataKeyFor'>,
): InboundMessagePublisher {
  const subject = regionSubjects(region).inboundEvents;
  return {
    async publish(announcement) {
      const event = toInboundMessageReceived(announcement);
      const scope = await customerKeyScope(keyring, event.tenantId, event.from);
      await publishSealedEvent(js, subject, InboundMessageReceived.encode(event).finish(), announcement.eventId, { keyring, scope });
    },
  };
}
