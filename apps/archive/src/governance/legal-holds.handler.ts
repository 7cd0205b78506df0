import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { unaryHandler } from '@waygate/grpc';
import type {
  GovernanceServiceServer,
  LegalHold as LegalHoldMessage,
  ListLegalHoldsRequest,
  ListLegalHoldsResponse,
  PlaceLegalHoldRequest,
  PlaceLegalHoldResponse,
  ReleaseLegalHoldRequest,
  ReleaseLegalHoldResponse,
} from '@waygate/proto';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { callerKeyId } from './caller-key-id';
import type { LegalHold } from './domain/legal-hold';
import type { LegalHolds } from './legal-holds';

function toProtoHold(hold: LegalHold): LegalHoldMessage {
  return {
    holdId: hold.holdId,
    matter: hold.matter,
    customer: hold.customer,
    placedAt: hold.placedAt,
    releasedAt: hold.releasedAt,
    placedBy: hold.placedBy,
    releasedBy: hold.releasedBy ?? '',
  };
}

/** A unary handler that also gets the caller's API key id (who placed or released a hold). */
function withCaller<Request, Response>(
  tenants: TenantDirectory,
  logger: Logger,
  handle: (request: Request, tenant: Tenant, keyId: string) => Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) =>
    unaryHandler<Request, Response>(tenants, logger, (request, tenant) => handle(request, tenant, callerKeyId(call.metadata)))(
      call,
      callback,
    );
}

/** The holds part of GovernanceService: PlaceLegalHold, ReleaseLegalHold, ListLegalHolds. */
export function createLegalHoldsHandler(
  holds: LegalHolds,
  tenants: TenantDirectory,
  logger: Logger,
): Pick<GovernanceServiceServer, 'placeLegalHold' | 'releaseLegalHold' | 'listLegalHolds'> {
  return {
    placeLegalHold: withCaller<PlaceLegalHoldRequest, PlaceLegalHoldResponse>(tenants, logger, async (request, tenant, keyId) => {
      const { hold, created } = await holds.place(tenant.id, { matter: request.matter, customer: request.customer }, keyId);
      // Ids and the scope's kind only: never the matter (free text) or the customer's number.
      logger.info(
        {
          tenant_id: tenant.id,
          hold_id: hold.holdId,
          scope: hold.customer === '' ? 'tenant' : 'customer',
          key_id: keyId,
          outcome: created ? 'placed' : 'existing',
        },
        'legal hold placed',
      );
      return { hold: toProtoHold(hold) };
    }),
    releaseLegalHold: withCaller<ReleaseLegalHoldRequest, ReleaseLegalHoldResponse>(tenants, logger, async (request, tenant, keyId) => {
      const hold = await holds.release(tenant.id, request.holdId, keyId);
      logger.info({ tenant_id: tenant.id, hold_id: hold.holdId, key_id: keyId }, 'legal hold released');
      return { hold: toProtoHold(hold) };
    }),
    listLegalHolds: withCaller<ListLegalHoldsRequest, ListLegalHoldsResponse>(tenants, logger, async (request, tenant) => {
      const page = await holds.list(tenant.id, {
        customer: request.customer,
        includeReleased: request.includeReleased,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { holds: page.holds.map(toProtoHold), nextPageToken: page.nextPageToken };
    }),
  };
}
