import { unaryHandler } from '@waygate/grpc';
import type {
  GetServiceWindowRequest,
  GetServiceWindowResponse,
  InboundServiceServer,
  MarkMessageReadRequest,
  MarkMessageReadResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { InboundApi } from '../domain/inbound-api';

/** gRPC InboundService: translates proto <-> domain. Logs ids only, never customers' numbers. */
export function createInboundHandler(api: InboundApi, tenants: TenantDirectory, logger: Logger): InboundServiceServer {
  return {
    markMessageRead: unaryHandler<MarkMessageReadRequest, MarkMessageReadResponse>(tenants, logger, async (request, tenant) => {
      await api.markMessageRead(tenant, { waMessageId: request.waMessageId, showTypingIndicator: request.showTypingIndicator });
      logger.info({ tenant_id: tenant.id, typing_indicator: request.showTypingIndicator }, 'inbound message marked read');
      return {};
    }),
    getServiceWindow: unaryHandler<GetServiceWindowRequest, GetServiceWindowResponse>(tenants, logger, async (request, tenant) => {
      const window = await api.getServiceWindow(tenant, { phoneNumberId: request.phoneNumberId, customer: request.customer });
      return { open: window.open, closesAt: window.closesAt, lastInboundAt: window.lastInboundAt };
    }),
  };
}
