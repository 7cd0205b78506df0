import type { Clock } from '@waygate/domain';
import type { TemplateCatalogStore, TemplateChange, TemplateDefinition } from './template-catalog';

/** A tenant's WABA and the token that may read its templates. */
export interface TemplateAccount {
  readonly tenantId: string;
  readonly wabaId: string;
  /** Behind a function so the account never prints it. */
  readonly accessToken: () => string;
}

/** Reads a WABA's whole template list from Meta (every page); rejects rather than return part of it. */
export interface TemplateSource {
  listTemplates(wabaId: string, accessToken: string, signal?: AbortSignal): Promise<TemplateDefinition[]>;
}

/** One of Meta's template webhooks, as receipt publishes it (a TemplateEvent). */
export interface TemplateUpdate {
  readonly eventId: string;
  readonly wabaId: string;
  readonly kind: 'status' | 'quality' | 'components' | 'category';
  readonly templateId: string;
  readonly name: string;
  readonly language: string;
  /** The new status, quality score or category. */
  readonly value: string;
  readonly receivedAt: Date;
}

/** Logging hooks, so the domain reports what happened without depending on a logger. */
export interface TemplateSyncEvents {
  synced(account: TemplateAccount, count: number): void;
  syncFailed(account: TemplateAccount, error: unknown): void;
}

export interface TemplateSync {
  /** Syncs every account (at start and periodically); one account's failure does not stop the others. */
  syncAll(): Promise<void>;
  /** Syncs one WABA's accounts; concurrent requests for a WABA share one run, and one more follows a running one. */
  syncWaba(wabaId: string): Promise<void>;
  /**
   * Applies a template webhook at once (a status, category or quality change), so a PAUSED template is refused before
   * the re-sync; then re-syncs the WABA in the background. Returns how many tenants' catalogs had the template.
   */
  applyUpdate(update: TemplateUpdate): Promise<number>;
  /**
   * Whether this tenant's catalog for the WABA has been read from Meta since this process started. Until then a
   * template missing from the catalog may simply not have been seen yet (a new tenant, a template created meanwhile).
   */
  hasSynced(tenantId: string, wabaId: string): boolean;
  /** Waits for background syncs to finish. */
  idle(): Promise<void>;
  /** Aborts syncs under way and starts no more; resolves once none runs (before the store is closed). */
  stop(): Promise<void>;
}

/**
 * Meta's status events that are not statuses: REINSTATED is back to APPROVED; FLAGGED (quality dropping), LOCKED and
 * UNLOCKED change nothing a send depends on, so only the re-sync reads them.
 */
function statusFromEvent(event: string): string | undefined {
  if (event === 'REINSTATED') return 'APPROVED';
  if (event === 'FLAGGED' || event === 'LOCKED' || event === 'UNLOCKED' || event === '') return undefined;
  return event;
}

function changeOf(update: TemplateUpdate): TemplateChange {
  switch (update.kind) {
    case 'status': {
      const status = statusFromEvent(update.value);
      return status === undefined ? {} : { rawStatus: status };
    }
    case 'category':
      return update.value ? { rawCategory: update.value } : {};
    case 'quality':
      return update.value ? { qualityScore: update.value } : {};
    case 'components':
      return {};
  }
}

/** Keeps the template catalog in step with Meta: full syncs, and webhook updates applied at once. */
export function createTemplateSync(deps: {
  store: TemplateCatalogStore;
  source: TemplateSource;
  /** Read at every sync, so accounts added by a tenants-file reload are synced without a restart. */
  accounts: () => readonly TemplateAccount[];
  clock: Clock;
  events: TemplateSyncEvents;
}): TemplateSync {
  const { store, source, accounts, clock, events } = deps;
  const running = new Map<string, Promise<void>>();
  const queued = new Map<string, Promise<void>>();
  const background = new Set<Promise<void>>();
  const stopping = new AbortController();
  const synced = new Set<string>();
  const syncedKey = (tenantId: string, wabaId: string) => `${tenantId}\u0000${wabaId}`;

  async function syncAccount(account: TemplateAccount): Promise<void> {
    if (stopping.signal.aborted) return;
    const startedAt = clock.now();
    try {
      const templates = await source.listTemplates(account.wabaId, account.accessToken(), stopping.signal);
      if (stopping.signal.aborted) return;
      await store.replaceWaba(account.tenantId, account.wabaId, templates, startedAt, clock.now());
      synced.add(syncedKey(account.tenantId, account.wabaId));
      events.synced(account, templates.length);
    } catch (error) {
      if (stopping.signal.aborted) return;
      events.syncFailed(account, error);
      throw error;
    }
  }

  async function runWaba(wabaId: string): Promise<void> {
    const results = await Promise.allSettled(
      accounts()
        .filter((account) => account.wabaId === wabaId)
        .map(syncAccount),
    );
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  function start(wabaId: string): Promise<void> {
    const run = runWaba(wabaId).finally(() => running.delete(wabaId));
    running.set(wabaId, run);
    return run;
  }

  function syncWaba(wabaId: string): Promise<void> {
    const waiting = queued.get(wabaId);
    if (waiting) return waiting;
    const current = running.get(wabaId);
    if (!current) return start(wabaId);
    // A change arrived while a sync was reading: one more sync after it sees the change.
    const next = current
      .catch(() => undefined)
      .then(() => {
        queued.delete(wabaId);
        return start(wabaId);
      });
    queued.set(wabaId, next);
    return next;
  }

  return {
    async syncAll() {
      const wabaIds = [...new Set(accounts().map((account) => account.wabaId))];
      await Promise.allSettled(wabaIds.map(syncWaba));
    },

    syncWaba,

    hasSynced: (tenantId, wabaId) => synced.has(syncedKey(tenantId, wabaId)),

    async applyUpdate(update) {
      const owners = accounts().filter((account) => account.wabaId === update.wabaId);
      const change = changeOf(update);
      let applied = 0;
      for (const owner of owners) {
        const ref = {
          tenantId: owner.tenantId,
          wabaId: update.wabaId,
          templateId: update.templateId,
          name: update.name,
          language: update.language,
        };
        if (await store.applyChange(ref, change, update.receivedAt)) applied++;
      }
      if (owners.length > 0) {
        // Failures are reported through events.syncFailed; the periodic sync tries again.
        const resync = syncWaba(update.wabaId).catch(() => undefined);
        background.add(resync);
        void resync.finally(() => background.delete(resync));
      }
      return applied;
    },

    async idle() {
      await Promise.allSettled([...background, ...running.values(), ...queued.values()]);
    },

    async stop() {
      stopping.abort();
      await Promise.allSettled([...background, ...running.values(), ...queued.values()]);
    },
  };
}
