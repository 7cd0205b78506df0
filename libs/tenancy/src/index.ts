export type {
  ArchiveRate,
  ArchiveSettings,
  CallbackEndpoint,
  OptOutSettings,
  ScorecardCriterionSettings,
  SendLimits,
  Tenant,
  VerificationSettings,
  WhatsAppPhoneNumber,
} from './tenant';
export { TenantDirectory, assertHomedIn, hashApiKey } from './tenant-directory';
export type { TenantApiKey } from './tenant-directory';
export { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, defaultApiKeyId, isApiKeyScope } from './api-key';
export type { ApiKey, ApiKeyScope } from './api-key';
export { DEFAULT_STOP_KEYWORDS, DEFAULT_THROUGHPUT_MPS, TenantsFileError, loadTenantsFile, parseTenants } from './load-tenants-file';
export { tenantLogRef } from './tenant-log-ref';
export { startTenantsFileReloader } from './tenants-file-reloader';
export type { TenantsFileReloader, TenantsReloadOutcome } from './tenants-file-reloader';
