import { z } from 'zod';
import { ConfigError, envSchemas, parseEnv } from './parse-config';

/** Where a service keeps its data: an embedded SQLite file (default) or MongoDB (production). */
export type StorageConfig =
  { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'mongodb'; readonly uri: string; readonly database: string };

/**
 * Reads WAYGATE_STORAGE, WAYGATE_DATA_DIR and WAYGATE_MONGODB_URI. Each service has its own SQLite file or
 * MongoDB database (`waygate_<region>_<service>`), so no service reads another's data.
 */
export function parseStorageConfig(service: string, region: string, env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const parsed = parseEnv(
    {
      WAYGATE_STORAGE: envSchemas.storage,
      WAYGATE_DATA_DIR: envSchemas.dataDir,
      WAYGATE_MONGODB_URI: envSchemas.mongoUri,
      WAYGATE_MONGODB_DATABASE_PREFIX: z
        .string()
        .regex(/^[a-z0-9_]+$/)
        .default('waygate'),
    },
    env,
  );
  if (parsed.WAYGATE_STORAGE === 'mongodb') {
    if (!parsed.WAYGATE_MONGODB_URI) throw new ConfigError(['WAYGATE_MONGODB_URI: required when WAYGATE_STORAGE=mongodb (not set)']);
    return {
      kind: 'mongodb',
      uri: parsed.WAYGATE_MONGODB_URI,
      database: `${parsed.WAYGATE_MONGODB_DATABASE_PREFIX}_${region}_${service.replace(/-/g, '_')}`,
    };
  }
  return { kind: 'sqlite', file: `${parsed.WAYGATE_DATA_DIR}/${region}/${service}.sqlite` };
}
