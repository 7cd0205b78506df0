import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  ArchiveLogServiceService,
  ArchiveServiceService,
  GovernanceServiceService,
  type EraseCustomerRequest,
  type ExportConversationsRequest,
  type ExportConversationsResponse,
  type ExportCustomerDataRequest,
  type ExportCustomerDataResponse,
  type GetConsistencyProofRequest,
  type GetConversationMetricsRequest,
  type GetErasureStatusRequest,
  type GetInclusionProofRequest,
  type GetTenantReportRequest,
  type GetTenantReportResponse,
  type GetTranscriptRequest,
  type GetTranscriptResponse,
  type ListAccessLogRequest,
  type ListAccessLogResponse,
  type ListConversationsRequest,
  type ListConversationsResponse,
  type ListLegalHoldsRequest,
  type ListLegalHoldsResponse,
  type ListMessageEventsRequest,
  type ListMessageEventsResponse,
  type PlaceLegalHoldRequest,
  type ReleaseLegalHoldRequest,
  type SearchMessagesRequest,
  type SearchMessagesResponse,
} from '@waygate/proto';

/** A customer's pseudonym in the access log (never the number). */
export type CustomerPseudonym = (customer: string) => Promise<string>;

/**
 * How one RPC is recorded: its action, the filters of its request (what may be kept: ids, ranges, flags; customers as
 * pseudonyms, search text as its length; never a text, a query, a phone number or a token) and how many items a
 * response message (or stream chunk) returns.
 */
export interface AccessLogAction {
  readonly action: string;
  filters(request: unknown, pseudonym: CustomerPseudonym): Promise<Record<string, unknown>>;
  count(response: unknown): number;
}

/** Ids longer than this are recorded by length only (valid ones are far shorter; an invalid one is not evidence). */
const MAX_RECORDED_ID_CHARS = 128;
/** Conversation ids of an export recorded one by one up to this many; beyond, only their number. */
const MAX_RECORDED_IDS = 20;

function id(value: string): string | { length: number } | undefined {
  if (!value) return undefined;
  return value.length <= MAX_RECORDED_ID_CHARS ? value : { length: value.length };
}

function time(value: Date | undefined): string | undefined {
  return value && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
}

async function customerRef(value: string, pseudonym: CustomerPseudonym): Promise<string | undefined> {
  return value ? pseudonym(value) : undefined;
}

/** Drops what does not filter (absent, empty, zero, false), so an entry lists only what the caller asked for. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, value]) => value !== undefined && value !== '' && value !== 0 && value !== false && !(Array.isArray(value) && value.length === 0),
    ),
  );
}

function action<Request, Response>(
  name: string,
  filters: (request: Request, pseudonym: CustomerPseudonym) => Promise<Record<string, unknown>> | Record<string, unknown>,
  count: (response: Response) => number,
): AccessLogAction {
  return {
    action: name,
    filters: async (request, pseudonym) => compact(await filters(request as Request, pseudonym)),
    count: (response) => count(response as Response),
  };
}

const one = () => 1;
const none = () => ({});
const paging = (request: { pageSize: number; pageToken: string }) => ({ page_size: request.pageSize, next_page: request.pageToken !== '' });

/** Every RPC of ArchiveService, GovernanceService and ArchiveLogService, by gRPC path. */
export const ACCESS_LOG_ACTIONS: ReadonlyMap<string, AccessLogAction> = new Map<string, AccessLogAction>([
  [
    ArchiveServiceService.listMessageEvents.path,
    action<ListMessageEventsRequest, ListMessageEventsResponse>(
      'archive.ListMessageEvents',
      (r) => ({ message_id: id(r.messageId) }),
      (r) => r.events.length,
    ),
  ],
  [
    ArchiveServiceService.listConversations.path,
    action<ListConversationsRequest, ListConversationsResponse>(
      'archive.ListConversations',
      async (r, pseudonym) => ({
        customer_ref: await customerRef(r.customer, pseudonym),
        phone_number_id: id(r.phoneNumberId),
        from: time(r.from),
        to: time(r.to),
        has_unanswered: r.hasUnanswered,
        sentiment: r.sentiment,
        ...paging(r),
      }),
      (r) => r.conversations.length,
    ),
  ],
  [
    ArchiveServiceService.getTranscript.path,
    action<GetTranscriptRequest, GetTranscriptResponse>(
      'archive.GetTranscript',
      (r) => ({ conversation_id: id(r.conversationId), from: time(r.from), to: time(r.to), ...paging(r) }),
      (r) => r.messages.length,
    ),
  ],
  [
    ArchiveServiceService.searchMessages.path,
    action<SearchMessagesRequest, SearchMessagesResponse>(
      'archive.SearchMessages',
      async (r, pseudonym) => ({
        // The query only by its length: search text names what a tenant looked for, often a person or a number.
        query_length: r.query.length,
        customer_ref: await customerRef(r.customer, pseudonym),
        direction: r.direction,
        type: id(r.type),
        status: r.status,
        from: time(r.from),
        to: time(r.to),
        phone_number_id: id(r.phoneNumberId),
        ...paging(r),
      }),
      (r) => r.hits.length,
    ),
  ],
  [
    ArchiveServiceService.exportConversations.path,
    action<ExportConversationsRequest, ExportConversationsResponse>(
      'archive.ExportConversations',
      async (r, pseudonym) => ({
        conversation_ids: r.conversationIds.length <= MAX_RECORDED_IDS ? r.conversationIds.map(id) : undefined,
        conversation_id_count: r.conversationIds.length,
        customer_ref: await customerRef(r.customer, pseudonym),
        phone_number_id: id(r.phoneNumberId),
        from: time(r.from),
        to: time(r.to),
        formats: r.formats,
      }),
      // Files: each ends with its last chunk.
      (r) => (r.lastChunk ? 1 : 0),
    ),
  ],
  [
    ArchiveServiceService.getConversationMetrics.path,
    action<GetConversationMetricsRequest, unknown>(
      'archive.GetConversationMetrics',
      (r) => ({ conversation_id: id(r.conversationId) }),
      one,
    ),
  ],
  [
    ArchiveServiceService.getTenantReport.path,
    action<GetTenantReportRequest, GetTenantReportResponse>(
      'archive.GetTenantReport',
      (r) => ({ from: time(r.from), to: time(r.to), phone_number_id: id(r.phoneNumberId) }),
      (r) => r.days.length,
    ),
  ],
  [
    GovernanceServiceService.placeLegalHold.path,
    action<PlaceLegalHoldRequest, unknown>(
      'governance.PlaceLegalHold',
      // The matter by length: a case name may name people.
      async (r, pseudonym) => ({ matter_length: r.matter.length, customer_ref: await customerRef(r.customer, pseudonym) }),
      one,
    ),
  ],
  [
    GovernanceServiceService.releaseLegalHold.path,
    action<ReleaseLegalHoldRequest, unknown>('governance.ReleaseLegalHold', (r) => ({ hold_id: id(r.holdId) }), one),
  ],
  [
    GovernanceServiceService.listLegalHolds.path,
    action<ListLegalHoldsRequest, ListLegalHoldsResponse>(
      'governance.ListLegalHolds',
      async (r, pseudonym) => ({
        customer_ref: await customerRef(r.customer, pseudonym),
        include_released: r.includeReleased,
        ...paging(r),
      }),
      (r) => r.holds.length,
    ),
  ],
  [
    GovernanceServiceService.eraseCustomer.path,
    action<EraseCustomerRequest, unknown>(
      'governance.EraseCustomer',
      async (r, pseudonym) => ({ customer_ref: await customerRef(r.customer, pseudonym), reason_length: r.reason.length }),
      one,
    ),
  ],
  [
    GovernanceServiceService.getErasureStatus.path,
    action<GetErasureStatusRequest, unknown>('governance.GetErasureStatus', (r) => ({ erasure_id: id(r.erasureId) }), one),
  ],
  [
    GovernanceServiceService.exportCustomerData.path,
    action<ExportCustomerDataRequest, ExportCustomerDataResponse>(
      'governance.ExportCustomerData',
      async (r, pseudonym) => ({ customer_ref: await customerRef(r.customer, pseudonym) }),
      (r) => (r.last ? 1 : 0),
    ),
  ],
  [
    GovernanceServiceService.listAccessLog.path,
    action<ListAccessLogRequest, ListAccessLogResponse>(
      'governance.ListAccessLog',
      (r) => ({ from: time(r.from), to: time(r.to), action: id(r.action), ...paging(r) }),
      (r) => r.entries.length,
    ),
  ],
  [ArchiveLogServiceService.getCheckpoint.path, action('archiveLog.GetCheckpoint', none, one)],
  [ArchiveLogServiceService.getLogPublicKey.path, action('archiveLog.GetLogPublicKey', none, one)],
  [
    ArchiveLogServiceService.getInclusionProof.path,
    action<GetInclusionProofRequest, unknown>(
      'archiveLog.GetInclusionProof',
      (r) => ({ record_id: id(r.recordId), tree_size: Number(r.treeSize) }),
      one,
    ),
  ],
  [
    ArchiveLogServiceService.getConsistencyProof.path,
    action<GetConsistencyProofRequest, unknown>(
      'archiveLog.GetConsistencyProof',
      (r) => ({ first_size: Number(r.firstSize), second_size: Number(r.secondSize) }),
      one,
    ),
  ],
]);

/** The services whose every call is recorded. */
export const ACCESS_LOGGED_SERVICES: readonly ServiceDefinition[] = [
  ArchiveServiceService,
  GovernanceServiceService,
  ArchiveLogServiceService,
];

/**
 * How a method of a recorded service that the table does not know yet (a new RPC) is recorded: by its name, with
 * no filters (nothing of its request is known to be safe to keep) and its response messages counted.
 */
export function fallbackAccessLogAction(path: string): AccessLogAction {
  const [, service = '', method = ''] = /^\/(?:[\w.]+\.)?(\w+)\/(\w+)$/.exec(path) ?? [];
  const short = service.replace(/Service$/, '');
  return {
    action: `${short.charAt(0).toLowerCase()}${short.slice(1)}.${method}`,
    filters: async () => ({ unlisted_method: true }),
    count: one,
  };
}
