export type { Tenant, WhatsAppPhoneNumber } from './tenant';
export { TenantDirectory, assertHomedIn, hashApiKey } from './tenant-directory';
export { loadTenantsFile, parseTenants } from './load-tenants-file';
