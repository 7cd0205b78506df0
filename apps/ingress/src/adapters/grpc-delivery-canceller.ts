import { credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { AbortedError, FailedPreconditionError, NotFoundError, UnavailableError } from '@waygate/domain';
import { internalCallMetadata } from '@waygate/grpc';
import { DeliveryAdminServiceClient, DeliveryState } from '@waygate/proto';
import type { DeliveryCanceller } from '../domain/delivery-canceller';

/** How long ingress waits for delivery-retry before telling the caller to retry (UNAVAILABLE). */
export const DEFAULT_CANCEL_DEADLINE_MS = 5000;

/** delivery-retry's answer as the domain error the caller sees; anything unexpected stays an internal error. */
function toDomainError(error: ServiceError, messageId: string): Error {
  switch (error.code) {
    case status.FAILED_PRECONDITION:
      return new FailedPreconditionError(
        `message ${messageId} can no longer be canceled: delivery has already settled it (sent, failed or expired); GetMessage shows the outcome`,
        [{ type: 'DELIVERY_STATE', subject: `messages/${messageId}`, description: 'the delivery is already sent, failed or expired' }],
      );
    case status.ABORTED:
      return new AbortedError(`message ${messageId} is being sent right now; retry CancelMessage to learn whether it was canceled or sent`);
    case status.NOT_FOUND:
      return new NotFoundError('message', messageId);
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new UnavailableError('delivery is unavailable; retry CancelMessage', { cause: error });
    default:
      return new Error(`CancelDelivery failed with gRPC status ${error.code}: ${error.details}`, { cause: error });
  }
}

/**
 * DeliveryCanceller over gRPC: delivery-retry's internal DeliveryAdminService.CancelDelivery, called with the
 * region-internal service token and the tenant's id (`x-waygate-tenant-id`), never with the caller's own credential
 * (delivery-retry's admin API refuses API keys), and with a deadline.
 */
export function createGrpcDeliveryCanceller(options: {
  address: string;
  serviceToken: string;
  deadlineMs?: number;
  /** TLS or plaintext (default) to delivery-retry. */
  credentials?: ChannelCredentials;
}): DeliveryCanceller & { close(): void } {
  const client = new DeliveryAdminServiceClient(options.address, options.credentials ?? credentials.createInsecure());
  const deadlineMs = options.deadlineMs ?? DEFAULT_CANCEL_DEADLINE_MS;
  return {
    cancel(tenantId, messageId) {
      const metadata = internalCallMetadata(options.serviceToken, tenantId);
      return new Promise<void>((resolve, reject) => {
        client.cancelDelivery({ messageId }, metadata, { deadline: Date.now() + deadlineMs }, (error, response) => {
          if (error) return reject(toDomainError(error, messageId));
          const state = response.delivery?.state;
          // Success means CANCELED; anything else would be a contract breach, never reported to the caller as cancelled.
          if (state !== undefined && state !== DeliveryState.DELIVERY_STATE_CANCELED)
            return reject(new Error(`CancelDelivery answered with delivery state ${state} instead of CANCELED`));
          resolve();
        });
      });
    },
    close: () => client.close(),
  };
}
