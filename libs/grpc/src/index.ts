export { createDeadLetterAdminService } from './dead-letter-admin.handler';
export { badRequestViolations, ERROR_DOMAIN, errorInfos, preconditionViolations, retryDelayMs, toGrpcError } from './error-mapping';
export type { GrpcError } from './error-mapping';
export {
  API_KEY_SCOPE_MISSING,
  authenticatedCredential,
  authenticatedTenant,
  createTenantAuthInterceptor,
  RPC_SCOPE_UNKNOWN,
} from './tenant-auth';
export type { AuthenticatedCredential, TenantAuthOptions } from './tenant-auth';
export { authenticateInternalCall, hasInternalServiceToken, INTERNAL_TENANT_ID_KEY, internalCallMetadata } from './internal-auth';
export type { InternalCaller } from './internal-auth';
export { internalUnaryHandler, startGrpcServer, unaryHandler } from './grpc-server';
export type { RunningGrpcServer, ServedService } from './grpc-server';
export { checkGrpcHealth } from './health-check';
export { serverStreamingHandler, StreamCancelledError } from './server-streaming';
export { credentialRevocation, watchCallCredential } from './stream-revocation';
export type { CredentialRevocation } from './stream-revocation';
export { INTERNAL_SERVICES, RPC_SCOPE_BY_PATH, RPC_SCOPES, rpcScopeTable } from './rpc-scopes';
export type { RpcScopeTable } from './rpc-scopes';
export type { ResponseStream } from './server-streaming';
export { channelCredentials, serverCredentials } from './tls-credentials';
