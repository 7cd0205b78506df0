import path from 'node:path';
import { z } from 'zod';
import { ConfigError, envSchemas, parseEnv, serviceEnvShape, toServiceConfig, type ServiceConfig } from '@waygate/config';
import { decodeKey, KEK_VARIABLES, KeyEncryptionKeyConfigError, loadKeyEncryptionKeys, type KeyEncryptionKeys } from '@waygate/keyring';

/**
 * Where the region's key-encryption keys come from. The keys sit behind a function so that logging or serializing
 * the configuration can never print them.
 */
export type KekSource =
  | { readonly kind: 'configured'; readonly keys: () => KeyEncryptionKeys }
  /** Local development only (SQLite storage and no KEK set): generated once, kept in `file`. */
  | { readonly kind: 'local-file'; readonly file: string };

/** media-store's configuration. */
export interface MediaStoreConfig extends ServiceConfig {
  readonly kek: KekSource;
  /** Blob files (SQLite storage): `<data dir>/<region>/media-blobs`. */
  readonly blobDir: string;
  /** The signed-download HTTP server. */
  readonly httpHost: string;
  readonly httpPort: number;
  /** Base of signed download URLs; undefined: `http://<http host>:<bound port>`. */
  readonly publicUrl?: string;
  readonly retentionDays: number;
  readonly sweepIntervalMs: number;
  /** The orphan reaper: blob objects no row points at are deleted once not written for this long. */
  readonly orphanGraceMs: number;
  /** How often the orphan reaper runs (also once at start). */
  readonly orphanIntervalMs: number;
  /**
   * Release 1's single service key, to keep reading media stored before the vault: WAYGATE_MEDIA_ENCRYPTION_KEY, or
   * the local key file `<data dir>/<region>/media-store.key` when it exists (never created any more).
   */
  readonly legacyMediaKey:
    { readonly kind: 'environment'; readonly key: () => Buffer } | { readonly kind: 'file-if-present'; readonly file: string };
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN, when set: other services of the region (receipt) may then call with it plus
   * `x-waygate-tenant-id`, and the admin API (RotateKeyEncryptionKey) is served. Behind a function, like the keys.
   */
  readonly internalServiceToken?: () => string;
}

export const DEFAULT_GRPC_PORT = 50053;
/** 0: any free port (two regions on one machine must not collide); the signed URLs name the bound port. */
export const DEFAULT_HTTP_PORT = 0;
export const DEFAULT_RETENTION_DAYS = 365;
export const DEFAULT_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** An upload writes, commits and records its blob in far less; a stalled one that long is given up on. */
export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;
/**
 * The shortest grace accepted: below it a slow upload (100 MiB from a slow client, between two writes) or a paused
 * replica could lose its bytes to another replica's reaper.
 */
export const MIN_ORPHAN_GRACE_MS = 60 * 1000;
export const DEFAULT_ORPHAN_INTERVAL_MS = 60 * 60 * 1000;
/** Listing every blob more often than this is load without benefit. */
export const MIN_ORPHAN_INTERVAL_MS = 10 * 1000;
/** The warning logged when the local development KEK file is used. */
export const KEK_FILE_HINT = `${KEK_VARIABLES.key} is not set: using a local development key-encryption key file; production must set ${KEK_VARIABLES.key} or ${KEK_VARIABLES.file} (and back it up)`;
const LEGACY_KEY_VARIABLE = 'WAYGATE_MEDIA_ENCRYPTION_KEY';

/**
 * Reads and validates media-store's configuration once, at startup. The KEK (WAYGATE_KEYRING_KEK or
 * WAYGATE_KEYRING_KEK_FILE) is required with MongoDB storage; with SQLite it may be left unset, and a local key file
 * under WAYGATE_DATA_DIR is used instead.
 */
export function loadMediaStoreConfig(env: NodeJS.ProcessEnv = process.env): MediaStoreConfig {
  const parsed = parseEnv(
    {
      ...serviceEnvShape(DEFAULT_GRPC_PORT),
      WAYGATE_DATA_DIR: envSchemas.dataDir,
      WAYGATE_MEDIA_HTTP_HOST: envSchemas.host,
      WAYGATE_MEDIA_HTTP_PORT: envSchemas.port(DEFAULT_HTTP_PORT),
      WAYGATE_MEDIA_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
      WAYGATE_MEDIA_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(DEFAULT_RETENTION_DAYS),
      WAYGATE_MEDIA_SWEEP_INTERVAL_MS: envSchemas.durationMs(DEFAULT_SWEEP_INTERVAL_MS),
      WAYGATE_MEDIA_ORPHAN_GRACE_MS: z.coerce
        .number()
        .int()
        .min(MIN_ORPHAN_GRACE_MS, `must be at least ${MIN_ORPHAN_GRACE_MS} ms (1 minute): a running upload must never look orphaned`)
        .default(DEFAULT_ORPHAN_GRACE_MS),
      WAYGATE_MEDIA_ORPHAN_INTERVAL_MS: z.coerce
        .number()
        .int()
        .min(MIN_ORPHAN_INTERVAL_MS, `must be at least ${MIN_ORPHAN_INTERVAL_MS} ms`)
        .default(DEFAULT_ORPHAN_INTERVAL_MS),
      // Optional; set but shorter than 32 characters (or empty) is a deployment mistake.
      WAYGATE_INTERNAL_SERVICE_TOKEN: envSchemas.internalServiceToken('receipt stores inbound media with it').optional(),
    },
    env,
  );
  const base = toServiceConfig('media-store', parsed, env);
  const problems: string[] = [];
  const legacyText = env[LEGACY_KEY_VARIABLE];
  const legacyKey = legacyText === undefined ? undefined : decodeKey(legacyText);
  if (legacyText !== undefined && !legacyKey)
    problems.push(
      `${LEGACY_KEY_VARIABLE}: must be base64 of exactly 32 bytes (release 1's media key, now only read; new media uses ${KEK_VARIABLES.key})`,
    );
  let kek: KekSource | undefined;
  try {
    const keys = loadKeyEncryptionKeys(env);
    if (keys) kek = { kind: 'configured', keys: () => keys };
  } catch (error) {
    if (!(error instanceof KeyEncryptionKeyConfigError)) throw error;
    problems.push(error.message);
  }
  if (!kek && problems.length === 0) {
    if (base.storage.kind === 'sqlite') {
      kek = { kind: 'local-file', file: path.join(parsed.WAYGATE_DATA_DIR, parsed.WAYGATE_REGION, 'keyring.kek') };
    } else {
      problems.push(
        `${KEK_VARIABLES.key} or ${KEK_VARIABLES.file}: required when WAYGATE_STORAGE=mongodb (the region's key-encryption key)`,
      );
    }
  }
  if (problems.length > 0 || !kek) throw new ConfigError(problems);
  const internalToken = parsed.WAYGATE_INTERNAL_SERVICE_TOKEN;
  return {
    ...base,
    kek,
    blobDir: path.join(parsed.WAYGATE_DATA_DIR, parsed.WAYGATE_REGION, 'media-blobs'),
    httpHost: parsed.WAYGATE_MEDIA_HTTP_HOST,
    httpPort: parsed.WAYGATE_MEDIA_HTTP_PORT,
    ...(parsed.WAYGATE_MEDIA_PUBLIC_URL ? { publicUrl: parsed.WAYGATE_MEDIA_PUBLIC_URL.replace(/\/+$/, '') } : {}),
    legacyMediaKey: legacyKey
      ? { kind: 'environment', key: () => legacyKey }
      : { kind: 'file-if-present', file: path.join(parsed.WAYGATE_DATA_DIR, parsed.WAYGATE_REGION, 'media-store.key') },
    retentionDays: parsed.WAYGATE_MEDIA_RETENTION_DAYS,
    sweepIntervalMs: parsed.WAYGATE_MEDIA_SWEEP_INTERVAL_MS,
    orphanGraceMs: parsed.WAYGATE_MEDIA_ORPHAN_GRACE_MS,
    orphanIntervalMs: parsed.WAYGATE_MEDIA_ORPHAN_INTERVAL_MS,
    ...(internalToken === undefined ? {} : { internalServiceToken: () => internalToken }),
  };
}
