import { systemClock } from '@waygate/domain';
import { startGrpcServer } from '@waygate/grpc';
import { MediaServiceService, SERVICE_NAMES, SERVICE_PROTO_FILES } from '@waygate/proto';
import { connectMongo } from '@waygate/storage';
import { loadTenantsFile, startTenantsFileReloader } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { StartedService } from '@waygate/telemetry-sdk';
import { loadOrCreateKeyFile } from './adapters/media-encryption-key';
import { MongoMediaStore } from './adapters/mongo-media-store';
import { SqliteMediaStore } from './adapters/sqlite-media-store';
import { MEDIA_KEY_VARIABLE, type MediaKeySource, type MediaStoreConfig } from './config';
import { createMediaCipher } from './domain/media-cipher';
import type { MediaStore } from './domain/media-store';
import { createMediaService } from './domain/media-service';
import { MAX_MEDIA_BYTES } from './domain/put-media-request';
import { createMediaHandler } from './handlers/media.handler';

/** A 5 MiB blob plus the request's other fields and protobuf framing; anything larger grpc-js refuses up front. */
export const MAX_GRPC_MESSAGE_BYTES = MAX_MEDIA_BYTES + 1024 * 1024;

async function openMediaStore(config: MediaStoreConfig): Promise<{ store: MediaStore; close: () => Promise<void> }> {
  if (config.storage.kind === 'sqlite') {
    const store = new SqliteMediaStore(config.storage.file);
    return { store, close: () => store.close() };
  }
  const mongo = await connectMongo(config.storage.uri, config.storage.database);
  const store = await MongoMediaStore.open(mongo);
  return { store, close: () => mongo.client.close() };
}

/** The key from the environment, or (local development) the generated key file; logs where it came from, never the key. */
function resolveMediaKey(source: MediaKeySource, logger: Logger): Buffer {
  if (source.kind === 'environment') return source.key();
  const { key, created, permissionsTooOpen } = loadOrCreateKeyFile(source.file);
  logger.warn(
    { key_file: source.file, created },
    `${MEDIA_KEY_VARIABLE} is not set: using a local development key file; production must set ${MEDIA_KEY_VARIABLE} (and back it up)`,
  );
  if (permissionsTooOpen) logger.warn({ key_file: source.file }, 'media encryption key file is readable by other users; chmod 600 it');
  return key;
}

/** Wires media-store: the encryption key, the media store and the MediaService gRPC API. Uses no NATS. */
export async function startMediaStore(config: MediaStoreConfig, logger: Logger): Promise<StartedService & { grpcPort: number }> {
  const tenants = loadTenantsFile(config.tenantsFile);
  // Live: a changed tenants file (or SIGHUP) swaps the directory every lookup below goes through.
  const tenantsReloader = startTenantsFileReloader({ file: config.tenantsFile, directory: tenants, logger });
  const cipher = createMediaCipher(resolveMediaKey(config.encryptionKey, logger));
  const storage = await openMediaStore(config);
  const service = createMediaService({ store: storage.store, cipher, clock: systemClock });

  let grpc: Awaited<ReturnType<typeof startGrpcServer>>;
  try {
    grpc = await startGrpcServer({
      tls: config.tls.server,
      host: config.grpcHost,
      port: config.grpcPort,
      tenants,
      region: config.region,
      maxReceiveMessageBytes: MAX_GRPC_MESSAGE_BYTES,
      ...(config.internalServiceToken ? { internalServiceToken: config.internalServiceToken() } : {}),
      services: [
        {
          name: SERVICE_NAMES.media,
          protoFile: SERVICE_PROTO_FILES.media,
          definition: MediaServiceService,
          implementation: createMediaHandler(service, tenants, logger),
          // receipt stores inbound media for the tenant with the region's service token.
          access: 'tenant-or-service',
        },
      ],
    });
  } catch (error) {
    // e.g. the port is taken: release the store rather than leave it open behind a failed start.
    await storage.close();
    throw error;
  }
  logger.info(
    {
      port: grpc.port,
      region: config.region,
      storage: config.storage.kind,
      key_source: config.encryptionKey.kind,
      internal_service_auth: config.internalServiceToken !== undefined,
    },
    'media-store listening',
  );

  return {
    grpcPort: grpc.port,
    async stop() {
      tenantsReloader.close();
      await grpc.shutdown();
      await storage.close();
    },
  };
}
