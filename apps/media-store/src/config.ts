import path from 'node:path';
import { z } from 'zod';
import { ConfigError, envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { decodeMediaKey } from './adapters/media-encryption-key';

/**
 * Where the media encryption key comes from. The key itself sits behind a function so that logging or serializing
 * the configuration can never print it.
 */
export type MediaKeySource =
  | { readonly kind: 'environment'; readonly key: () => Buffer }
  /** Local development only (SQLite storage and no WAYGATE_MEDIA_ENCRYPTION_KEY): generated once, kept in `file`. */
  | { readonly kind: 'local-file'; readonly file: string };

/** media-store's configuration (it reads WAYGATE_NATS_URL like every service but does not use NATS yet). */
export interface MediaStoreConfig extends ServiceConfig {
  readonly encryptionKey: MediaKeySource;
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN, when set: other services of the region (receipt) may then call with it plus
   * `x-waygate-tenant-id`. Behind a function, like the key, so the configuration never prints it.
   */
  readonly internalServiceToken?: () => string;
}

export const DEFAULT_GRPC_PORT = 50053;
export const MEDIA_KEY_VARIABLE = 'WAYGATE_MEDIA_ENCRYPTION_KEY';
const KEY_FORMAT = 'must be base64 of exactly 32 bytes, e.g. the output of `openssl rand -base64 32`';

/**
 * Reads and validates media-store's configuration once, at startup. WAYGATE_MEDIA_ENCRYPTION_KEY is required with
 * MongoDB storage; with SQLite it may be left unset, and a local key file under WAYGATE_DATA_DIR is used instead.
 */
export function loadMediaStoreConfig(env: NodeJS.ProcessEnv = process.env): MediaStoreConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_DATA_DIR: envSchemas.dataDir,
      // Set but empty counts as invalid, not as unset: an empty secret is a deployment mistake, not a request for a dev key.
      WAYGATE_MEDIA_ENCRYPTION_KEY: z
        .string()
        .refine((value) => decodeMediaKey(value) !== undefined, KEY_FORMAT)
        .optional(),
      // Optional; set but shorter than 32 characters (or empty) is a deployment mistake.
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken('receipt stores inbound media with it').optional(),
    },
    env,
  );
  const base = toServiceConfig('media-store', parsed, env);
  const storage = base.storage;
  const keyText = parsed.WAYGATE_MEDIA_ENCRYPTION_KEY;
  let encryptionKey: MediaKeySource;
  if (keyText !== undefined) {
    const key = decodeMediaKey(keyText) as Buffer;
    encryptionKey = { kind: 'environment', key: () => key };
  } else if (storage.kind === 'sqlite') {
    encryptionKey = { kind: 'local-file', file: path.join(parsed.WAYGATE_DATA_DIR, parsed.WAYGATE_REGION, 'media-store.key') };
  } else {
    throw new ConfigError([`${MEDIA_KEY_VARIABLE}: required when WAYGATE_STORAGE=mongodb; ${KEY_FORMAT} (not set)`]);
  }
  const internalToken = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  return { ...base, encryptionKey, ...(internalToken === undefined ? {} : { internalServiceToken: () => internalToken }) };
}
