export { ConfigError, envSchemas, parseEnv } from './parse-config';
export { parseStorageConfig } from './storage-config';
export type { StorageConfig } from './storage-config';
export { defaultMetricsPort, serviceEnvShape, toServiceConfig } from './service-config';
export type { ServiceConfig, ServiceEnv } from './service-config';
export { toWhatsAppApiConfig, whatsappApiEnvShape } from './whatsapp-api-config';
export type { WhatsAppApiConfig } from './whatsapp-api-config';
export { parseTlsConfig } from './tls-config';
export type { ClientTlsConfig, ServerTlsConfig, TlsConfig } from './tls-config';
