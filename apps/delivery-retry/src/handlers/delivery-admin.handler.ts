import { InvalidArgumentError, NotFoundError } from '@waygate/domain';
import { unaryHandler } from '@waygate/grpc';
import { DeliveryState, type DeliveryAdminServiceServer, type GetDeliveryRequest, type GetDeliveryResponse } from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { DeliveryState as DomainState } from '../domain/delivery';
import type { DeliveryService } from '../domain/delivery-service';

const STATE: Readonly<Record<DomainState, DeliveryState>> = {
  PENDING: DeliveryState.DELIVERY_STATE_PENDING,
  SENT: DeliveryState.DELIVERY_STATE_SENT,
  FAILED: DeliveryState.DELIVERY_STATE_FAILED,
  EXPIRED: DeliveryState.DELIVERY_STATE_EXPIRED,
};

/** gRPC DeliveryAdminService: a tenant's view of delivery state (no content). */
export function createDeliveryAdminHandler(service: DeliveryService, tenants: TenantDirectory, logger: Logger): DeliveryAdminServiceServer {
  return {
    getDelivery: unaryHandler<GetDeliveryRequest, GetDeliveryResponse>(tenants, logger, async (request, tenant) => {
      if (!request.messageId)
        throw new InvalidArgumentError([{ field: 'message_id', reason: 'REQUIRED', description: 'message_id is required' }]);
      const delivery = await service.get(tenant.id, request.messageId);
      if (!delivery) throw new NotFoundError('delivery', request.messageId);
      return {
        delivery: {
          messageId: delivery.messageId,
          state: STATE[delivery.state],
          attempts: delivery.attempts,
          waMessageId: delivery.waMessageId ?? '',
          lastErrorCode: delivery.lastErrorCode ?? 0,
          lastErrorTitle: delivery.lastErrorTitle ?? '',
          nextAttemptAt: delivery.nextAttemptAt,
          expiresAt: delivery.expiresAt,
        },
      };
    }),
    // Placeholder while issue 4 lands (replaced in this change set).
    cancelDelivery: (_call, callback) => callback({ code: 12, details: 'CancelDelivery is not implemented yet' }),
  };
}
