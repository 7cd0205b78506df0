import type { CustomerView } from './customer-view';
import type { MediaCatalog } from './media-catalog';
import { createMediaReferencePolicy } from './media-reference-policy';
import type { MessageStore } from './message-store';
import type { OptOutList } from './opt-out-list';
import { createOptOutPolicy } from './opt-out-policy';
import { createReplyTargetPolicy } from './reply-target-policy';
import type { SendPolicy } from './send-policy';
import { createTenantQuotaPolicy, type SendQuotaStore } from './send-quota';
import { createServiceWindowPolicy } from './service-window-policy';
import type { TemplateCatalogStore } from './template-catalog';
import { createTemplateCatalogPolicy } from './template-catalog-policy';

/** What the send policies read: ingress's stores, the template sync's progress and media-store. */
export interface SendPolicyChainDeps {
  readonly messages: MessageStore;
  /** The customer view; it is also the InboundMessageIndex (replies and reactions may name inbound wamids). */
  readonly customers: CustomerView;
  readonly optOuts: OptOutList;
  readonly quotas: SendQuotaStore;
  readonly templates: TemplateCatalogStore;
  /** Whether the tenant's WABA has been synced once (until then an unknown template is UNAVAILABLE, not NOT_FOUND). */
  readonly hasSyncedTemplates: (tenantId: string, wabaId: string) => boolean;
  readonly mediaCatalog: MediaCatalog;
}

/**
 * The policies every send passes, in the order they run (send-policy.ts, docs/customer-window.md): reply-target,
 * template-catalog, media-reference, service-window, opt-out, tenant-quota. opt-out reads the template category that
 * template-catalog adds, so it runs after it; tenant-quota runs last, so only a send that passed the others is
 * counted against the tenant's rate and daily quota.
 */
export function createSendPolicyChain(deps: SendPolicyChainDeps): SendPolicy[] {
  return [
    createReplyTargetPolicy({ store: deps.messages, inbound: deps.customers }),
    createTemplateCatalogPolicy(deps.templates, deps.hasSyncedTemplates),
    createMediaReferencePolicy(deps.mediaCatalog),
    createServiceWindowPolicy(deps.customers),
    createOptOutPolicy({ optOuts: deps.optOuts, view: deps.customers }),
    createTenantQuotaPolicy({ store: deps.quotas }),
  ];
}
