import { unaryHandler } from '@waygate/grpc';
import {
  OptOutSource,
  type AddOptOutRequest,
  type AddOptOutResponse,
  type ListOptOutsRequest,
  type ListOptOutsResponse,
  type MessagingServiceServer,
  type OptOut as ProtoOptOut,
  type RemoveOptOutRequest,
  type RemoveOptOutResponse,
} from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { maskPhoneNumber } from '@waygate/domain';
import type { OptOut, OptOutSource as DomainOptOutSource } from '../domain/opt-out-list';
import type { OptOutService } from '../domain/opt-out-service';

const SOURCES: Readonly<Record<DomainOptOutSource, OptOutSource>> = {
  api: OptOutSource.OPT_OUT_SOURCE_API,
  'meta-131050': OptOutSource.OPT_OUT_SOURCE_META_131050,
  'stop-keyword': OptOutSource.OPT_OUT_SOURCE_STOP_KEYWORD,
  'quick-reply': OptOutSource.OPT_OUT_SOURCE_QUICK_REPLY,
  'user-preferences': OptOutSource.OPT_OUT_SOURCE_USER_PREFERENCES,
};

function toProtoOptOut(optOut: OptOut): ProtoOptOut {
  return { phoneNumber: optOut.customer, source: SOURCES[optOut.source], createdAt: optOut.createdAt };
}

/** The opt-out RPCs of MessagingService: proto <-> domain only. */
export function createOptOutHandlers(
  service: OptOutService,
  tenants: TenantDirectory,
  logger: Logger,
): Pick<MessagingServiceServer, 'addOptOut' | 'removeOptOut' | 'listOptOuts'> {
  return {
    addOptOut: unaryHandler<AddOptOutRequest, AddOptOutResponse>(tenants, logger, async (request, tenant) => {
      const optOut = await service.add(tenant, request.phoneNumber);
      logger.info({ tenant_id: tenant.id, customer: maskPhoneNumber(optOut.customer), source: optOut.source }, 'opt-out added by API');
      return { optOut: toProtoOptOut(optOut) };
    }),
    removeOptOut: unaryHandler<RemoveOptOutRequest, RemoveOptOutResponse>(tenants, logger, async (request, tenant) => {
      const removed = await service.remove(tenant, request.phoneNumber);
      logger.info({ tenant_id: tenant.id, customer: maskPhoneNumber(request.phoneNumber), removed }, 'opt-out removed by API');
      return { removed };
    }),
    listOptOuts: unaryHandler<ListOptOutsRequest, ListOptOutsResponse>(tenants, logger, async (request, tenant) => {
      const page = await service.list(tenant, request.pageSize, request.pageToken);
      return { optOuts: page.optOuts.map(toProtoOptOut), nextPageToken: page.nextPageToken };
    }),
  };
}
