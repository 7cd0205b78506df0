import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, loadPackageDefinition, type Client, type ClientDuplexStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ArchiveServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { parseTenants } from '@waygate/tenancy';
import { tenantsYaml } from '@waygate/testing';
import { startGrpcServer } from './grpc-server';

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** A reflection client built from the protos that ship with @grpc/reflection, as any independent client would. */
function reflectionClient(address: string, version: 'v1' | 'v1alpha'): Client & Record<string, unknown> {
  const file = path.join(
    path.dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection',
    version,
    'reflection.proto',
  );
  const loaded = loadPackageDefinition(loadSync(file, { keepCase: true })) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: ServiceClientConstructor }> };
  };
  const Constructor = loaded.grpc.reflection[version]?.ServerReflection;
  if (!Constructor) throw new Error(`no ServerReflection in ${file}`);
  return new Constructor(address, credentials.createInsecure()) as Client & Record<string, unknown>;
}

/** One ServerReflectionInfo request on a fresh stream, and its one response. */
function ask(client: Client & Record<string, unknown>, request: Record<string, unknown>): Promise<ReflectionResponse> {
  const open = client.ServerReflectionInfo as () => ClientDuplexStream<Record<string, unknown>, ReflectionResponse>;
  const stream = open.call(client);
  return new Promise((resolve, reject) => {
    stream.once('data', (response: ReflectionResponse) => {
      resolve(response);
      stream.end();
    });
    stream.once('error', reject);
    stream.write(request);
  });
}

test('reflection lists exactly the services the server registers, plus health and reflection', async () => {
  const tenants = parseTenants(tenantsYaml([{ id: 'acme', homeRegion: 'eu', apiKey: 'key-acme' }]));
  // archive.proto imports messaging.proto (for MessageStatus): MessagingService must not be listed as served.
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tenants,
    region: 'eu',
    services: [
      {
        name: SERVICE_NAMES.archive,
        protoFile: SERVICE_PROTO_FILES.archive,
        definition: ArchiveServiceService,
        implementation: {
          listMessageEvents: (_call: unknown, callback: (error: null, value: unknown) => void) => callback(null, { events: [] }),
        },
      },
    ],
  });
  const expected = [
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
    'waygate.archive.v1.ArchiveService',
  ];
  const clients = (['v1', 'v1alpha'] as const).map((version) => reflectionClient(`127.0.0.1:${server.port}`, version));
  try {
    for (const client of clients) {
      const listed = await ask(client, { list_services: '*' });
      assert.deepEqual(listed.list_services_response?.service.map((service) => service.name).sort(), expected);
    }
    // The served service is still fully described, including the types it imports from messaging.proto.
    const described = await ask(clients[0] as Client & Record<string, unknown>, { file_containing_symbol: SERVICE_NAMES.archive });
    assert.equal(described.error_response, undefined);
    const files = described.file_descriptor_response?.file_descriptor_proto ?? [];
    assert.ok(files.length >= 2, 'archive.proto and the files it imports');
    assert.ok(files.some((bytes) => Buffer.from(bytes).toString('latin1').includes('MessageStatus')));
  } finally {
    clients.forEach((client) => client.close());
    await server.shutdown(1000);
  }
});
