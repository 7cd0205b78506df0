import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO_ROOT = path.resolve(__dirname, '../../../proto');
const REFLECTION_PROTO = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');

type Callback<T> = (error: ServiceError | null, value?: T) => void;
type UnaryMethod = (request: unknown, metadata: Metadata, callback: Callback<unknown>) => void;

/**
 * gRPC clients built from the public `.proto` files with @grpc/proto-loader, exactly as an outside platform team
 * would build them; so this test exercises the published contract, not Waygate's own generated code.
 */
export function loadPublicClients() {
  const definition = loadPackageDefinition(
    loadSync(
      [
        'waygate/messaging/v1/messaging.proto',
        'waygate/archive/v1/archive.proto',
        'waygate/media/v1/media.proto',
        'waygate/delivery/v1/delivery_admin.proto',
        'waygate/admin/v1/dead_letters.proto',
        'waygate/verify/v1/verify.proto',
        'waygate/governance/v1/governance.proto',
      ],
      {
        includeDirs: [PROTO_ROOT],
        keepCase: true,
        longs: String,
        enums: String,
        defaults: true,
        oneofs: true,
      },
    ),
  ) as unknown as {
    waygate: {
      messaging: { v1: { MessagingService: new (address: string, creds: unknown) => Client } };
      archive: { v1: { ArchiveService: new (address: string, creds: unknown) => Client } };
      media: { v1: { MediaService: new (address: string, creds: unknown) => Client } };
      delivery: { v1: { DeliveryAdminService: new (address: string, creds: unknown) => Client } };
      admin: { v1: { DeadLetterAdminService: new (address: string, creds: unknown) => Client } };
      verify: { v1: { VerificationService: new (address: string, creds: unknown) => Client } };
      governance: {
        v1: {
          GovernanceService: new (address: string, creds: unknown) => Client;
          ArchiveLogService: new (address: string, creds: unknown) => Client;
        };
      };
    };
  };
  const reflection = loadPackageDefinition(loadSync(REFLECTION_PROTO, { keepCase: true, oneofs: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: unknown) => Client } } };
  };
  return {
    messaging: (address: string) => new definition.waygate.messaging.v1.MessagingService(address, credentials.createInsecure()),
    archive: (address: string) => new definition.waygate.archive.v1.ArchiveService(address, credentials.createInsecure()),
    media: (address: string) => new definition.waygate.media.v1.MediaService(address, credentials.createInsecure()),
    deliveryAdmin: (address: string) => new definition.waygate.delivery.v1.DeliveryAdminService(address, credentials.createInsecure()),
    deadLetterAdmin: (address: string) => new definition.waygate.admin.v1.DeadLetterAdminService(address, credentials.createInsecure()),
    verification: (address: string) => new definition.waygate.verify.v1.VerificationService(address, credentials.createInsecure()),
    governance: (address: string) => new definition.waygate.governance.v1.GovernanceService(address, credentials.createInsecure()),
    archiveLog: (address: string) => new definition.waygate.governance.v1.ArchiveLogService(address, credentials.createInsecure()),
    reflection: (address: string) => new reflection.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure()),
  };
}

/** Calls a unary method with an API key; resolves to the response or rejects with the gRPC error. */
export function callUnary<T>(
  client: Client,
  method: string,
  request: unknown,
  apiKey?: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<T> {
  const metadata = new Metadata();
  if (apiKey !== undefined) metadata.set('authorization', `Bearer ${apiKey}`);
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const fn = (client as unknown as Record<string, UnaryMethod>)[method].bind(client);
  return new Promise((resolve, reject) => fn(request, metadata, (error, value) => (error ? reject(error) : resolve(value as T))));
}

/** Lists the services a server's reflection endpoint reports. */
export function listServicesByReflection(client: Client): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const stream = (
      client as unknown as { ServerReflectionInfo: () => NodeJS.ReadWriteStream & { write(m: unknown): void } }
    ).ServerReflectionInfo();
    stream.on('data', (response: { list_services_response?: { service: { name: string }[] } }) => {
      resolve(response.list_services_response?.service.map((s) => s.name) ?? []);
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
}
