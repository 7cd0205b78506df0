import { fromProtoStatus } from '@waygate/contracts';
import { InvalidArgumentError, type FieldViolation } from '@waygate/domain';
import { unaryHandler } from '@waygate/grpc';
import { Direction, MessageStatus, type SearchMessagesRequest, type SearchMessagesResponse } from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { Direction as DomainDirection } from '../domain/transcript';
import type { MessageSearch } from '../search/search-messages';
import { toProtoTranscriptMessage } from './transcript-proto';

const DIRECTIONS: Partial<Record<Direction, DomainDirection>> = {
  [Direction.DIRECTION_INBOUND]: 'inbound',
  [Direction.DIRECTION_OUTBOUND]: 'outbound',
};

/**
 * gRPC ArchiveService.SearchMessages: proto <-> domain only. Validation (INVALID_ARGUMENT with a field violation per
 * bad field), tenant scoping and paging are the search's; errors map to gRPC in unaryHandler. An enum value this
 * build does not know is refused naming its field (never searched as if unset). Logs nothing of the query: it may
 * hold personal data.
 */
export function createSearchMessagesHandler(search: MessageSearch, tenants: TenantDirectory, logger: Logger) {
  return unaryHandler<SearchMessagesRequest, SearchMessagesResponse>(tenants, logger, async (request, tenant) => {
    const direction = DIRECTIONS[request.direction];
    const status = fromProtoStatus(request.status);
    const violations: FieldViolation[] = [];
    if (request.direction !== Direction.DIRECTION_UNSPECIFIED && !direction)
      violations.push({ field: 'direction', reason: 'UNKNOWN_VALUE', description: 'is not a known direction' });
    if (request.status !== MessageStatus.MESSAGE_STATUS_UNSPECIFIED && !status)
      violations.push({ field: 'status', reason: 'UNKNOWN_VALUE', description: 'is not a known message status' });
    if (violations.length > 0) throw new InvalidArgumentError(violations);
    const result = await search.search(tenant.id, {
      query: request.query,
      customer: request.customer,
      phoneNumberId: request.phoneNumberId,
      type: request.type,
      ...(direction ? { direction } : {}),
      ...(status ? { status } : {}),
      ...(request.from ? { from: request.from } : {}),
      ...(request.to ? { to: request.to } : {}),
      pageSize: request.pageSize,
      pageToken: request.pageToken,
    });
    return {
      hits: result.hits.map((hit) => ({ message: toProtoTranscriptMessage(hit.entry), snippet: hit.snippet, rank: hit.rank })),
      nextPageToken: result.nextPageToken,
    };
  });
}
