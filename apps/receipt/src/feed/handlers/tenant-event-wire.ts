import { toProtoContentType, toProtoStatus } from '@waygate/contracts';
import { ContentType, TenantEvent as TenantEventMessage, TenantEventType } from '@waygate/proto';
import type { TenantEvent, TenantEventType as DomainEventType } from '../domain/tenant-event';

/** A tenant event as the proto `waygate.receipt.v1.TenantEvent`. */
export function toProtoTenantEvent(event: TenantEvent): TenantEventMessage {
  const base = {
    eventId: event.eventId,
    sequence: String(event.sequence),
    tenantId: event.tenantId,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
  };
  if (event.type === 'status') {
    const status = event.status;
    return {
      ...base,
      type: TenantEventType.TENANT_EVENT_TYPE_STATUS,
      payload: {
        $case: 'status',
        value: {
          messageId: status.messageId,
          waMessageId: status.waMessageId ?? '',
          recipient: status.recipient ?? '',
          status: toProtoStatus(status.status),
          messageStatus: toProtoStatus(status.messageStatus),
          errorCode: status.errorCode ?? 0,
          errorTitle: status.errorTitle ?? '',
          implied: status.implied ?? false,
          contentType: status.contentType ? toProtoContentType(status.contentType) : ContentType.CONTENT_TYPE_UNSPECIFIED,
          contentSummary: status.contentSummary ?? '',
        },
      },
    };
  }
  const inbound = event.inbound;
  return {
    ...base,
    type: TenantEventType.TENANT_EVENT_TYPE_INBOUND,
    payload: {
      $case: 'inbound',
      value: {
        waMessageId: inbound.waMessageId,
        phoneNumberId: inbound.phoneNumberId,
        from: inbound.from,
        type: inbound.type,
        text: inbound.text ?? '',
        replyId: inbound.replyId ?? '',
        mediaId: inbound.mediaId ?? '',
        mimeType: inbound.mimeType ?? '',
        contextWaMessageId: inbound.contextWaMessageId ?? '',
        contentJson: inbound.contentJson ?? '',
        serviceWindowClosesAt: inbound.serviceWindowClosesAt,
      },
    },
  };
}

/**
 * The JSON body of a callback: the proto3 JSON mapping of the same TenantEvent the stream sends (lowerCamelCase
 * names, enums by name, `sequence` as a decimal string, RFC 3339 timestamps, default values omitted), so any
 * protobuf library can parse it into the generated type.
 */
export function tenantEventJson(event: TenantEvent): string {
  return JSON.stringify(TenantEventMessage.toJSON(toProtoTenantEvent(event)));
}

/** The domain name of a wire event type, or the wire name of one that is not a valid filter value. */
export function eventTypeName(type: TenantEventType): DomainEventType | string {
  if (type === TenantEventType.TENANT_EVENT_TYPE_STATUS) return 'status';
  if (type === TenantEventType.TENANT_EVENT_TYPE_INBOUND) return 'inbound';
  return TenantEventType[type] ?? String(type);
}
