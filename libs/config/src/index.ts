export { ConfigError, commonEnvShape, envSchemas, parseEnv } from './parse-config';
export { parseStorageConfig } from './storage-config';
export type { StorageConfig } from './storage-config';
