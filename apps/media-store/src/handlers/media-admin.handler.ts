import { internalUnaryHandler } from '@waygate/grpc';
import type { Keyring } from '@waygate/keyring';
import type { MediaAdminServiceServer, RotateKeyEncryptionKeyRequest, RotateKeyEncryptionKeyResponse } from '@waygate/proto';
import type { Logger } from '@waygate/telemetry';

/** gRPC MediaAdminService (internal token only): KEK rotation. */
export function createMediaAdminHandler(deps: { keyring: Keyring; internalServiceToken: string; logger: Logger }): MediaAdminServiceServer {
  return {
    rotateKeyEncryptionKey: internalUnaryHandler<RotateKeyEncryptionKeyRequest, RotateKeyEncryptionKeyResponse>(
      deps.internalServiceToken,
      deps.logger,
      async () => {
        const result = await deps.keyring.rotateKeyEncryptionKey();
        deps.logger.info(
          { rewrapped: result.rewrapped, unchanged: result.unchanged, kek_id: result.keyEncryptionKeyId },
          'data keys re-wrapped',
        );
        return { rewrapped: result.rewrapped, unchanged: result.unchanged, keyEncryptionKeyId: result.keyEncryptionKeyId };
      },
    ),
  };
}
