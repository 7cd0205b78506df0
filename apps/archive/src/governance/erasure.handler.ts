import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { serverStreamingHandler, unaryHandler } from '@waygate/grpc';
import {
  ErasureState,
  type EraseCustomerRequest,
  type EraseCustomerResponse,
  type ExportCustomerDataRequest,
  type ExportCustomerDataResponse,
  type GetErasureStatusRequest,
  type GetErasureStatusResponse,
  type GovernanceServiceServer,
} from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import { tenantLogRef, type TenantDirectory } from '@waygate/tenancy';
import { callerKeyId } from './caller-key-id';
import type { ErasureRecord } from './domain/erasure';
import type { ErasureCoordinator } from './erasure-coordinator';
import type { BundleChunk } from '../export/domain/file-chunker';

function stateOf(done: boolean): ErasureState {
  return done ? ErasureState.ERASURE_STATE_COMPLETE : ErasureState.ERASURE_STATE_IN_PROGRESS;
}

/** The erasure record as GetErasureStatus answers it: the customer by hash only. */
export function toErasureStatus(record: ErasureRecord): GetErasureStatusResponse {
  return {
    erasureId: record.erasureId,
    state: stateOf(record.completedAt !== undefined),
    customerHash: record.customerHash,
    requestedAt: record.requestedAt,
    completedAt: record.completedAt,
    requestedBy: record.requestedBy,
    parts: record.parts.map((part) => ({
      service: part.service,
      state: stateOf(part.completedAt !== undefined),
      completedAt: part.completedAt,
      counts: Object.fromEntries(Object.entries(part.counts).map(([kind, count]) => [kind, String(count)])),
    })),
    receipt: record.receipt ?? '',
  };
}

/**
 * EraseCustomer, GetErasureStatus and ExportCustomerData (the erasure part of createGovernanceHandler). The key id of
 * the caller is recorded with the erasure; nothing here logs a number or content.
 */
export function createErasureHandler(deps: {
  readonly coordinator: ErasureCoordinator;
  readonly exportBundle: (tenantId: string, customer: string) => AsyncIterable<BundleChunk>;
  readonly tenants: TenantDirectory;
  readonly logger: Logger;
}): Pick<GovernanceServiceServer, 'eraseCustomer' | 'getErasureStatus' | 'exportCustomerData'> {
  const { coordinator, tenants, logger } = deps;
  return {
    eraseCustomer(call: ServerUnaryCall<EraseCustomerRequest, EraseCustomerResponse>, callback: sendUnaryData<EraseCustomerResponse>) {
      const requestedBy = callerKeyId(call.metadata);
      unaryHandler<EraseCustomerRequest, EraseCustomerResponse>(tenants, logger, async (request, tenant) => {
        const record = await coordinator.erase(tenant.id, { customer: request.customer, reason: request.reason }, requestedBy);
        return { erasureId: record.erasureId, state: stateOf(record.completedAt !== undefined) };
      })(call, callback);
    },
    getErasureStatus: unaryHandler<GetErasureStatusRequest, GetErasureStatusResponse>(tenants, logger, async (request, tenant) =>
      toErasureStatus(await coordinator.status(tenant.id, request.erasureId)),
    ),
    exportCustomerData: serverStreamingHandler<ExportCustomerDataRequest, ExportCustomerDataResponse>(
      tenants,
      logger,
      async (request, tenant, stream) => {
        const started = Date.now();
        let files = 0;
        let bytes = 0;
        let completed = false;
        try {
          for await (const chunk of deps.exportBundle(tenant.id, request.customer)) {
            if (stream.signal.aborted) break;
            // Awaited: the next page is fetched from the services only once the client has taken this chunk.
            await stream.write({ path: chunk.path, data: chunk.data, last: chunk.lastChunk });
            bytes += chunk.data.length;
            if (chunk.lastChunk) files++;
          }
          completed = !stream.signal.aborted;
        } finally {
          logger.info(
            { tenant: tenantLogRef(tenant.id), files, bytes, duration_ms: Date.now() - started, cancelled: stream.signal.aborted },
            completed ? 'customer export streamed' : 'customer export ended early',
          );
        }
      },
    ),
  };
}
