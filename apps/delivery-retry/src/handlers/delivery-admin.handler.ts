import type { Logger } from '@waygate/telemetry';
import { AbortedError, FailedPreconditionError, NotFoundError, validateMessageId } from '@waygate/domain';
import { unaryHandler } from '@waygate/grpc';
import {
  DeliveryState,
  type CancelDeliveryRequest,
  type CancelDeliveryResponse,
  type Delivery as ProtoDelivery,
  type DeliveryAdminServiceServer,
  type GetDeliveryRequest,
  type GetDeliveryResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Delivery, DeliveryState as DomainState } from '../domain/delivery';
import type { DeliveryEngine } from '../domain/delivery-engine';

const STATE: Readonly<Record<DomainState, DeliveryState>> = {
  PENDING: DeliveryState.DELIVERY_STATE_PENDING,
  SENT: DeliveryState.DELIVERY_STATE_SENT,
  // The proto has no DELIVERED: for delivery-retry a delivered message is simply one WhatsApp accepted.
  DELIVERED: DeliveryState.DELIVERY_STATE_SENT,
  FAILED: DeliveryState.DELIVERY_STATE_FAILED,
  EXPIRED: DeliveryState.DELIVERY_STATE_EXPIRED,
  CANCELED: DeliveryState.DELIVERY_STATE_CANCELED,
};

function toProto(delivery: Delivery): ProtoDelivery {
  return {
    messageId: delivery.messageId,
    state: STATE[delivery.state],
    attempts: delivery.attempts,
    waMessageId: delivery.waMessageId ?? '',
    lastErrorCode: delivery.lastErrorCode ?? 0,
    lastErrorTitle: delivery.lastErrorTitle ?? '',
    nextAttemptAt: delivery.nextAttemptAt,
    expiresAt: delivery.expiresAt,
  };
}

/**
 * gRPC DeliveryAdminService: delivery state of a tenant's message (no content), and cancellation. Internal: the server
 * accepts only the region's internal service token, with the tenant named in `x-waygate-tenant-id` (ingress, for
 * CancelMessage; operators); tenants' API keys are refused before these handlers run.
 */
export function createDeliveryAdminHandler(engine: DeliveryEngine, tenants: TenantDirectory, logger: Logger): DeliveryAdminServiceServer {
  return {
    getDelivery: unaryHandler<GetDeliveryRequest, GetDeliveryResponse>(tenants, logger, async (request, tenant) => {
      validateMessageId('message_id', request.messageId);
      const delivery = await engine.get(tenant.id, request.messageId);
      if (!delivery) throw new NotFoundError('delivery', request.messageId);
      return { delivery: toProto(delivery) };
    }),

    cancelDelivery: unaryHandler<CancelDeliveryRequest, CancelDeliveryResponse>(tenants, logger, async (request, tenant) => {
      validateMessageId('message_id', request.messageId);
      const outcome = await engine.cancel(tenant.id, request.messageId);
      logger.info({ tenant_id: tenant.id, message_id: request.messageId, outcome: outcome.kind }, 'cancel requested');
      switch (outcome.kind) {
        case 'canceled':
          return { delivery: toProto(outcome.delivery) };
        case 'in-flight':
          throw new AbortedError('a send of this message is in flight; call again to see whether it was canceled or sent');
        case 'settled':
          throw new FailedPreconditionError(`message is already ${outcome.delivery.state}; only messages not yet sent can be canceled`, [
            {
              type: 'MESSAGE_STATUS',
              subject: `messages/${request.messageId}`,
              description: `delivery state is ${outcome.delivery.state}`,
            },
          ]);
      }
    }),
  };
}
