import { unaryHandler } from '@waygate/grpc';
import type { AccessLogEntry, GovernanceServiceServer, ListAccessLogRequest, ListAccessLogResponse } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';
import type { TenantDirectory } from '@waygate/tenancy';
import type { RecordedAccessLogEntry } from '../access-log/domain/access-log-entry';
import type { AccessLog } from '../access-log/domain/access-log-service';

function toProto(entry: RecordedAccessLogEntry): AccessLogEntry {
  return {
    index: String(entry.index),
    at: entry.at,
    keyId: entry.keyId,
    action: entry.action,
    filtersJson: entry.filtersJson,
    resultCount: String(entry.resultCount),
    statusCode: entry.statusCode,
    leafHash: entry.leafHash.toString('hex'),
  };
}

/** GovernanceService's access-log part: ListAccessLog, the caller's tenant's log with its signed checkpoint. */
export function createAccessLogHandler(deps: {
  accessLog: AccessLog;
  tenants: TenantDirectory;
  logger: Logger;
}): Pick<GovernanceServiceServer, 'listAccessLog'> {
  return {
    listAccessLog: unaryHandler<ListAccessLogRequest, ListAccessLogResponse>(deps.tenants, deps.logger, async (request, tenant) => {
      const page = await deps.accessLog.list(tenant.id, {
        ...(request.from ? { from: request.from } : {}),
        ...(request.to ? { to: request.to } : {}),
        action: request.action,
        pageSize: request.pageSize,
        pageToken: request.pageToken,
      });
      return { entries: page.entries.map(toProto), nextPageToken: page.nextPageToken, checkpoint: page.checkpoint };
    }),
  };
}
