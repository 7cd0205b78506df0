import { SERVICE_NAMES } from '@waygate/proto';
import type { ApiKeyScope } from '@waygate/tenancy';

/**
 * The one table of what an API key needs for each RPC (issue 14, "scoped keys"): every method of every tenant-facing
 * service, by service and method name as the protos spell them. The tenant-auth interceptor enforces it on every
 * call made with an API key; a tenant-service method that is not in it is refused (fail closed), so a new RPC cannot
 * ship unscoped (and startGrpcServer refuses to serve it). docs/governance.md ("API key scopes") lists it, and
 * rpc-scopes.test.ts keeps the two equal and checks the table against every service of every proto.
 *
 * Choices that are not obvious from the names:
 * - CancelMessage is `messages:send`: it changes what is sent, like SendMessage.
 * - InboundService.MarkMessageRead is `messages:send`: it sends a read receipt to the customer through Meta.
 * - ListOptOuts is `optouts:write`: the opt-out list is managed as a whole by whoever may change it (there is no
 *   separate read scope, and the list is customers' phone numbers, which messages:read alone should not enumerate).
 * - ReceiptService's dead-letter RPCs are `events:read`: they are the tenant's own event deliveries.
 * - GovernanceService is `governance:admin` throughout, ExportCustomerData included (it reaches every service, not
 *   only the archive); ArchiveLogService is `archive:read` (checkpoints and proofs say nothing a record reader cannot
 *   see, and auditors verifying an export need them).
 */
export const RPC_SCOPES: Readonly<Record<string, Readonly<Record<string, ApiKeyScope>>>> = {
  [SERVICE_NAMES.messaging]: {
    SendMessage: 'messages:send',
    GetMessage: 'messages:read',
    CancelMessage: 'messages:send',
    ListMessages: 'messages:read',
    ListTemplates: 'templates:read',
    AddOptOut: 'optouts:write',
    RemoveOptOut: 'optouts:write',
    ListOptOuts: 'optouts:write',
  },
  [SERVICE_NAMES.receipt]: {
    WatchEvents: 'events:read',
    ListDeadLetters: 'events:read',
    ReplayDeadLetters: 'events:read',
  },
  [SERVICE_NAMES.inbound]: {
    MarkMessageRead: 'messages:send',
    GetServiceWindow: 'messages:read',
  },
  [SERVICE_NAMES.media]: {
    PutMedia: 'media:write',
    GetMedia: 'media:read',
    UploadMedia: 'media:write',
    DownloadMedia: 'media:read',
    GetMediaInfo: 'media:read',
    DeleteMedia: 'media:write',
    CreateDownloadUrl: 'media:read',
  },
  [SERVICE_NAMES.verification]: {
    StartVerification: 'verify',
    CheckVerification: 'verify',
    CancelVerification: 'verify',
  },
  [SERVICE_NAMES.archive]: {
    ListMessageEvents: 'archive:read',
    ListConversations: 'archive:read',
    GetTranscript: 'archive:read',
    SearchMessages: 'archive:read',
    ExportConversations: 'archive:export',
    GetConversationMetrics: 'archive:read',
    GetTenantReport: 'archive:read',
  },
  [SERVICE_NAMES.governance]: {
    PlaceLegalHold: 'governance:admin',
    ReleaseLegalHold: 'governance:admin',
    ListLegalHolds: 'governance:admin',
    EraseCustomer: 'governance:admin',
    GetErasureStatus: 'governance:admin',
    ExportCustomerData: 'governance:admin',
    ListAccessLog: 'governance:admin',
  },
  [SERVICE_NAMES.archiveLog]: {
    GetCheckpoint: 'archive:read',
    GetLogPublicKey: 'archive:read',
    GetInclusionProof: 'archive:read',
    GetConsistencyProof: 'archive:read',
  },
};

/**
 * Services that take no API key at all, so no scope: the admin APIs, opened only by the region-internal service token
 * (operators and the region's own services; `access: 'internal'`). Listed so that the proto test can tell an internal
 * service from a tenant service someone forgot to scope.
 */
export const INTERNAL_SERVICES: readonly string[] = [SERVICE_NAMES.deadLetterAdmin, SERVICE_NAMES.deliveryAdmin, SERVICE_NAMES.mediaAdmin];

/** The table keyed by gRPC path (`/package.Service/Method`), as the interceptor sees a call. */
export type RpcScopeTable = ReadonlyMap<string, ApiKeyScope>;

/** {@link RPC_SCOPES} by gRPC path. */
export function rpcScopeTable(table: typeof RPC_SCOPES = RPC_SCOPES): RpcScopeTable {
  return new Map(
    Object.entries(table).flatMap(([service, methods]) =>
      Object.entries(methods).map(([method, scope]): [string, ApiKeyScope] => [`/${service}/${method}`, scope]),
    ),
  );
}

/** {@link RPC_SCOPES} by gRPC path: what the interceptor enforces unless a test substitutes its own table. */
export const RPC_SCOPE_BY_PATH: RpcScopeTable = rpcScopeTable();
