export { badRequestViolations, preconditionViolations, toGrpcError } from './error-mapping';
export type { GrpcError } from './error-mapping';
export { authenticatedTenant, createTenantAuthInterceptor, INTERNAL_TENANT_ID_KEY } from './tenant-auth';
export type { TenantAuthOptions } from './tenant-auth';
export { startGrpcServer, unaryHandler } from './grpc-server';
export type { RunningGrpcServer, ServedService } from './grpc-server';
export { checkGrpcHealth } from './health-check';
export { serverStreamingHandler, StreamCancelledError } from './server-streaming';
export type { ResponseStream } from './server-streaming';
