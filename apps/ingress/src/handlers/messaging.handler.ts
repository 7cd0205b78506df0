import { fromProtoContent, fromProtoContentType, fromProtoStatus, toProtoContentType, toProtoStatus } from '@waygate/contracts';
import { unaryHandler } from '@waygate/grpc';
import {
  type CancelMessageRequest,
  type CancelMessageResponse,
  type GetMessageRequest,
  type ListMessagesRequest,
  type ListMessagesResponse,
  type Message,
  type MessagingServiceServer,
  type SendMessageRequest,
  type SendMessageResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { MessagingService } from '../domain/messaging-service';
import type { OutboundMessage } from '../domain/outbound-message';
import type { OptOutService } from '../domain/opt-out-service';
import type { SendRequest } from '../domain/send-request';
import { createOptOutHandlers } from './opt-outs.handler';

function toSendRequest(request: SendMessageRequest): SendRequest {
  const decoded = fromProtoContent(request.content);
  const validity = request.validity;
  return {
    to: request.to,
    ...(decoded.ok ? { content: decoded.content } : { content: undefined, contentViolations: decoded.violations }),
    idempotencyKey: request.idempotencyKey,
    // int64 seconds arrive as a decimal string; a Number is exact within any Duration the domain accepts.
    validity: validity ? { seconds: Number(validity.seconds), nanos: validity.nanos } : undefined,
    phoneNumberId: request.phoneNumberId,
    replyTo: request.replyTo,
  };
}

function toProtoMessage(message: OutboundMessage): Message {
  return {
    messageId: message.messageId,
    to: message.to,
    status: toProtoStatus(message.status),
    waMessageId: message.waMessageId ?? '',
    timeline: message.timeline.map((entry) => ({
      status: toProtoStatus(entry.status),
      occurredAt: entry.occurredAt,
      source: entry.source,
      errorCode: entry.errorCode ?? 0,
      errorTitle: entry.errorTitle ?? '',
      attempt: entry.attempt ?? 0,
      nextAttemptAt: entry.nextAttemptAt,
    })),
    acceptedAt: message.acceptedAt,
    expiresAt: message.expiresAt,
    contentType: toProtoContentType(message.contentType),
    contentSummary: message.contentSummary,
    phoneNumberId: message.phoneNumberId,
    replyToWaMessageId: message.replyToWaMessageId ?? '',
  };
}

/**
 * gRPC MessagingService: translates proto <-> domain; everything else is the domain's. ListTemplates is
 * templates.handler.ts's (server.ts joins them).
 */
export function createMessagingHandler(
  service: MessagingService,
  tenants: TenantDirectory,
  logger: Logger,
  optOuts: OptOutService,
): Omit<MessagingServiceServer, 'listTemplates'> {
  return {
    sendMessage: unaryHandler<SendMessageRequest, SendMessageResponse>(tenants, logger, async (request, tenant) => {
      const message = await service.send(tenant, toSendRequest(request));
      logger.info({ tenant_id: tenant.id, message_id: message.messageId, status: message.status }, 'message accepted');
      return {
        messageId: message.messageId,
        status: toProtoStatus(message.status),
      };
    }),
    getMessage: unaryHandler<GetMessageRequest, Message>(tenants, logger, async (request, tenant) =>
      toProtoMessage(await service.get(tenant, request.messageId)),
    ),
    cancelMessage: unaryHandler<CancelMessageRequest, CancelMessageResponse>(tenants, logger, async (request, tenant) => {
      const message = await service.cancel(tenant, request.messageId);
      logger.info({ tenant_id: tenant.id, message_id: message.messageId, status: message.status }, 'message canceled');
      return { status: toProtoStatus(message.status) };
    }),
    listMessages: unaryHandler<ListMessagesRequest, ListMessagesResponse>(tenants, logger, async (request, tenant) => {
      const page = await service.list(tenant, {
        to: request.to,
        statuses: request.statuses.map(fromProtoStatus),
        acceptedAfter: request.acceptedAfter,
        acceptedBefore: request.acceptedBefore,
        contentKinds: request.contentTypes.map(fromProtoContentType),
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { messages: page.messages.map(toProtoMessage), nextPageToken: page.nextPageToken };
    }),
    // Being built (issue 11); each answers UNIMPLEMENTED until its handler lands.
    ...createOptOutHandlers(optOuts, tenants, logger),
  };
}
