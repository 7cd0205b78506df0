import { systemClock } from '@waygate/domain';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import { createCloudApiTemplateSource } from './adapters/cloud-api-template-source';
import type { IngressConfig } from './config';
import type { TemplateCatalogStore } from './domain/template-catalog';
import { createTemplateSync, type TemplateSync } from './domain/template-sync';

/** The template catalog's sync from Meta, running: at start, every interval and on each tenants file reload. */
export interface StartedTemplateSync {
  readonly sync: TemplateSync;
  /** Ends the schedule (the interval and the reload listener); `sync.stop()` then ends a sync in flight. */
  stopSchedule(): void;
}

/**
 * Starts syncing the templates of every tenant homed in this region: its WABA's templates, read with its first
 * number's token. Not awaited: ingress serves while Meta is unreachable; until a tenant's first sync, an unknown
 * template is UNAVAILABLE.
 */
export function startTemplateSync(deps: {
  config: IngressConfig;
  tenants: TenantDirectory;
  store: TemplateCatalogStore;
  logger: Logger;
}): StartedTemplateSync {
  const { config, tenants, logger } = deps;
  const sync = createTemplateSync({
    store: deps.store,
    source: createCloudApiTemplateSource({
      baseUrl: config.whatsappApiBaseUrl,
      version: config.whatsappApiVersion,
      timeoutMs: config.whatsappTimeoutMs,
    }),
    accounts: () =>
      tenants.homedIn(config.region).flatMap((tenant) => {
        const number = tenant.whatsapp.phoneNumbers[0];
        return number ? [{ tenantId: tenant.id, wabaId: tenant.whatsapp.wabaId, accessToken: () => number.accessToken }] : [];
      }),
    clock: systemClock,
    events: {
      synced: (account, count) => logger.info({ tenant_id: account.tenantId, waba_id: account.wabaId, count }, 'templates synced'),
      syncFailed: (account, error) =>
        logger.warn({ err: error, tenant_id: account.tenantId, waba_id: account.wabaId }, 'template sync failed; will retry'),
    },
  });
  void sync.syncAll();
  const timer = setInterval(() => void sync.syncAll(), config.templateSyncIntervalMs);
  // A reloaded tenants file may bring new WABAs or tokens: read them now rather than at the next interval.
  const stopSyncOnReload = tenants.onChange(() => void sync.syncAll());
  return {
    sync,
    stopSchedule() {
      clearInterval(timer);
      stopSyncOnReload();
    },
  };
}
