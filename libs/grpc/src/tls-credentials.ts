import { ServerCredentials, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { ClientTlsConfig, ServerTlsConfig } from '@waygate/config';

/**
 * A gRPC server's credentials: TLS with its certificate (and, with `clientCa`, required client certificates signed by
 * that CA) or plaintext without a TLS configuration, the local default.
 */
export function serverCredentials(tls: ServerTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ cert_chain: tls.certChain, private_key: tls.privateKey() }],
    tls.clientCa !== undefined,
  );
}

/**
 * Credentials for calls to another service of the region: TLS verified against the region's CA (presenting this
 * service's certificate when it has one) or plaintext without a TLS configuration.
 */
export function channelCredentials(tls: ClientTlsConfig | undefined): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  return credentials.createSsl(tls.ca, tls.privateKey?.() ?? null, tls.certChain ?? null);
}
