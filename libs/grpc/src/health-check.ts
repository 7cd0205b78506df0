import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

type HealthClient = Client & {
  check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
};

let healthClientConstructor: (new (address: string, creds: ChannelCredentials) => HealthClient) | undefined;

/**
 * Asks a server's `grpc.health.v1.Health/Check` (overall status, or one service's) and resolves to its status
 * name, e.g. "SERVING"; rejects if the server cannot be reached within `timeoutMs`. Plaintext unless `credentials`
 * says otherwise (e.g. `channelCredentials(tls.client)` for a TLS server).
 */
export async function checkGrpcHealth(
  address: string,
  options: { service?: string; timeoutMs?: number; credentials?: ChannelCredentials } = {},
): Promise<string> {
  if (!healthClientConstructor) {
    const definition = loadPackageDefinition(loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
      grpc: { health: { v1: { Health: typeof healthClientConstructor } } };
    };
    healthClientConstructor = definition.grpc.health.v1.Health;
  }
  const client = new (healthClientConstructor as NonNullable<typeof healthClientConstructor>)(
    address,
    options.credentials ?? credentials.createInsecure(),
  );
  try {
    return await new Promise<string>((resolve, reject) =>
      client.check(
        { service: options.service ?? '' },
        { deadline: new Date(Date.now() + (options.timeoutMs ?? 2000)) },
        (error, response) => (error ? reject(error) : resolve(response?.status ?? 'UNKNOWN')),
      ),
    );
  } finally {
    client.close();
  }
}
