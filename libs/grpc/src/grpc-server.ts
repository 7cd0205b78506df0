import path from 'node:path';
import {
  Server,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { PROTO_ROOT } from '@waygate/proto';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import type { ServerTlsConfig } from '@waygate/config';
import type { Logger } from '@waygate/telemetry';
import { toGrpcError } from './error-mapping';
import { authenticateInternalCall, type InternalCaller } from './internal-auth';
import { RPC_SCOPE_BY_PATH, type RpcScopeTable } from './rpc-scopes';
import { authenticatedTenant, createTenantAuthInterceptor } from './tenant-auth';
import { serverCredentials } from './tls-credentials';

/** One gRPC service a process serves. */
export interface ServedService {
  /** Fully-qualified name, e.g. "waygate.messaging.v1.MessagingService" (health reports it). */
  readonly name: string;
  /** Its proto file relative to `proto/` (reflection serves it). */
  readonly protoFile: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /**
   * Who may call it. `tenant` (default): tenants with their API key only. `tenant-or-service`: also other services of
   * the region, with the internal service token plus `x-waygate-tenant-id` (acting for that tenant; e.g. media-store's
   * MediaService for receipt). `internal`: only other services of the region and operators, with the internal service
   * token (API keys are refused, UNAUTHENTICATED); admin APIs are internal.
   */
  readonly access?: 'tenant' | 'tenant-or-service' | 'internal';
}

/** A started gRPC server with health, reflection and tenant authentication. */
export interface RunningGrpcServer {
  readonly port: number;
  /**
   * The overall status (service "") its `grpc.health.v1.Health` reports: SERVING from start, NOT_SERVING from the
   * first moment of `shutdown`. For the plaintext readiness endpoint (`StartedService.servingStatus`).
   */
  servingStatus(): 'SERVING' | 'NOT_SERVING';
  /** Reports NOT_SERVING, lets in-flight calls finish (up to `graceMs`), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

/**
 * Starts a gRPC server with Waygate's standard parts: `grpc.health.v1.Health` (overall and per service), server
 * reflection over the served protos, and the auth interceptor on every non-public method (tenant API keys, or the
 * region-internal service token for internal services).
 */
export async function startGrpcServer(options: {
  host: string;
  port: number;
  services: readonly ServedService[];
  tenants: TenantDirectory;
  region: string;
  maxReceiveMessageBytes?: number;
  /**
   * The region-internal service token: required by services with `access: 'internal'` or `'tenant-or-service'`, and
   * accepted only by those (see `TenantAuthOptions`).
   */
  internalServiceToken?: string;
  /** TLS (and optional client-certificate authentication); plaintext without it, the local default. */
  tls?: ServerTlsConfig;
  /**
   * More interceptors, run after authentication (they see the authenticated tenant and credential), in order; e.g.
   * the archive's access log.
   */
  interceptors?: readonly ServerInterceptor[];
  /**
   * The scope an API key needs per method. Default: the platform's table (libs/grpc/src/rpc-scopes.ts); only tests of
   * the server's own mechanics, serving a service in an unusual role, pass another.
   */
  rpcScopes?: RpcScopeTable;
}): Promise<RunningGrpcServer> {
  const internalServices = options.services.filter((service) => service.access === 'internal').map((service) => service.name);
  const servicesActingForTenants = options.services
    .filter((service) => service.access === 'tenant-or-service')
    .map((service) => service.name);
  // Fail at start, not per call: an internal API without a token would refuse everyone (or, worse, be left open).
  if (internalServices.length > 0 && !options.internalServiceToken) {
    throw new Error(`internal services (${internalServices.join(', ')}) need the region's internal service token`);
  }
  const rpcScopes = options.rpcScopes ?? RPC_SCOPE_BY_PATH;
  // The interceptor refuses every API key for a method in no scope; say so at start rather than on each call.
  const unscoped = options.services
    .filter((service) => service.access !== 'internal')
    .flatMap((service) => Object.values(service.definition).map((method) => method.path))
    .filter((methodPath) => !rpcScopes.has(methodPath));
  if (unscoped.length > 0) {
    throw new Error(`tenant methods without an API key scope (add them to libs/grpc/src/rpc-scopes.ts): ${unscoped.join(', ')}`);
  }
  const server = new Server({
    interceptors: [
      createTenantAuthInterceptor(options.tenants, options.region, {
        ...(options.internalServiceToken ? { internalServiceToken: options.internalServiceToken } : {}),
        internalServices,
        servicesActingForTenants,
        rpcScopes,
      }),
      ...(options.interceptors ?? []),
    ],
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
  });
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(options.services.map((s) => [s.name, 'SERVING'])) });
  // Set together with the health service's overall status, never apart from it.
  let overall: 'SERVING' | 'NOT_SERVING' = 'SERVING';
  health.addToServer(server);
  for (const service of options.services) server.addService(service.definition, service.implementation);
  addReflection(server, options.services);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, serverCredentials(options.tls), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    port,
    servingStatus: () => overall,
    async shutdown(graceMs = 10_000) {
      overall = 'NOT_SERVING';
      health.setStatus('', 'NOT_SERVING');
      for (const service of options.services) health.setStatus(service.name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/** Services every Waygate server registers besides its own: health and both versions of server reflection. */
const STANDARD_SERVICE_NAMES = ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/** The reflection protos that ship with @grpc/reflection, so that reflection also describes itself. */
function reflectionProtoPaths(): string[] {
  const protoDir = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection');
  return [path.join(protoDir, 'v1', 'reflection.proto'), path.join(protoDir, 'v1alpha', 'reflection.proto')];
}

/**
 * Server reflection over exactly what this server registers: its services, health and reflection. The served protos
 * import others (archive.proto and receipt.proto import messaging.proto for MessageStatus), and reflection would
 * otherwise list every service in those imports as if it were served here; the imported files are still served, so
 * clients can resolve every type.
 */
function addReflection(server: Server, services: readonly ServedService[]): void {
  const packageDefinition = loadSync([healthProtoPath, ...reflectionProtoPaths(), ...services.map((s) => s.protoFile)], {
    includeDirs: [PROTO_ROOT, path.dirname(require.resolve('protobufjs/package.json'))],
    keepCase: true,
  });
  new ReflectionService(packageDefinition, { services: [...STANDARD_SERVICE_NAMES, ...services.map((s) => s.name)] }).addToServer(server);
}

/** Runs `work` and answers the call with its result, or with its error mapped by `toGrpcError` (unexpected ones logged). */
function answer<Response>(
  work: () => Promise<Response>,
  callback: sendUnaryData<Response>,
  logger: Logger,
  call: { getPath(): string },
): void {
  work().then(
    (response) => callback(null, response),
    (error: unknown) => {
      const grpcError = toGrpcError(error);
      if (grpcError.details === 'internal error') logger.error({ err: error, method: call.getPath() }, 'unexpected error in handler');
      callback(grpcError, null);
    },
  );
}

/**
 * Wraps a unary handler: resolves the authenticated tenant, runs `handle`, and maps any error through
 * `toGrpcError` (logging unexpected ones), so handlers only translate between proto and domain.
 */
export function unaryHandler<Request, Response>(
  tenants: TenantDirectory,
  logger: Logger,
  handle: (request: Request, tenant: Tenant) => Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) => answer(async () => handle(call.request, authenticatedTenant(call.metadata, tenants)), callback, logger, call);
}

/**
 * Wraps a unary handler of an internal (admin) API that is not scoped to one tenant: checks the region-internal
 * service token itself (with {@link authenticateInternalCall}, so it holds even where the interceptor does not know
 * the service as internal), runs `handle` with the caller, and maps errors like {@link unaryHandler}.
 */
export function internalUnaryHandler<Request, Response>(
  internalServiceToken: string,
  logger: Logger,
  handle: (request: Request, caller: InternalCaller) => Promise<Response>,
): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void {
  return (call, callback) =>
    answer(async () => handle(call.request, authenticateInternalCall(call.metadata, internalServiceToken)), callback, logger, call);
}
