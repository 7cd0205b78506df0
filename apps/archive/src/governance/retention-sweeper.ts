import { metrics as otelMetrics } from '@opentelemetry/api';
import type { Clock } from '@waygate/domain';
import type { Tenant } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveRetentionStore } from './domain/archive-retention';
import type { LegalHold } from './domain/legal-hold';

const DAY_MS = 24 * 3_600_000;

/** What one sweep did: counts only (no tenant's customer, never content). */
export interface SweepReport {
  /** Records (messages with their events) disposed of. */
  readonly disposed: number;
  /** Tenants skipped whole because a tenant-wide legal hold is active. */
  readonly heldTenants: number;
  /** Customers whose records were kept because a legal hold covers them. */
  readonly heldCustomers: number;
  /** The pass stopped at its batch limit; the next one continues. */
  readonly truncated: boolean;
}

/** What the sweeper needs. */
export interface RetentionSweeperDeps {
  readonly store: ArchiveRetentionStore;
  /** The search index's remove hook: a disposed record leaves no searchable text behind. */
  readonly removeFromSearch: (tenantId: string, recordId: string) => Promise<unknown>;
  /**
   * The tamper-evident archive log's salt shredding (tlog slice: `ArchiveStore.shredRecordSalts`): the log's entries
   * stay, but a disposed record's salt is destroyed so the entry can no longer be matched to it. Absent: no log.
   */
  readonly shredRecordSalts?: (tenantId: string, recordIds: readonly string[]) => Promise<unknown>;
  /** Every active legal hold (asked once per tenant per pass, and again right before each batch is disposed of). */
  readonly activeHolds: () => Promise<LegalHold[]>;
  /** The tenants whose archive this process keeps (homed in its region), as the tenants file says now. */
  readonly tenants: () => readonly Tenant[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Records per batch (one store transaction); default 500. */
  readonly batchSize?: number;
  /** Batches per pass, over all tenants; default 20 (a pass never runs unbounded). */
  readonly maxBatchesPerPass?: number;
}

/** The archive's retention sweeper: disposes of records older than each tenant's `governance.archiveRetentionDays`. */
export interface RetentionSweeper {
  sweep(): Promise<SweepReport>;
}

function holdsOf(holds: readonly LegalHold[], tenantId: string): { tenantWide: boolean; customers: string[] } {
  const own = holds.filter((hold) => hold.tenantId === tenantId);
  return {
    tenantWide: own.some((hold) => hold.customer === ''),
    customers: [...new Set(own.map((hold) => hold.customer).filter(Boolean))],
  };
}

/**
 * Creates the sweeper. Per batch: the records are selected (skipping held customers), checked against the holds again
 * (a hold placed meanwhile wins), removed from the search index, their log salts shredded, then disposed of in the
 * store (which rebuilds their conversations' summaries). Each step is idempotent, so a crash in between is finished
 * by the next pass.
 */
export function createRetentionSweeper(deps: RetentionSweeperDeps): RetentionSweeper {
  const batchSize = deps.batchSize ?? 500;
  const maxBatches = deps.maxBatchesPerPass ?? 20;
  const meter = otelMetrics.getMeter('archive');
  const disposedCounter = meter.createCounter('waygate_archive_retention_disposed', {
    description: 'archive records (messages with their events) disposed of by the retention sweeper',
  });
  const heldCounter = meter.createCounter('waygate_archive_retention_held', {
    description: 'sweeps of a tenant that a legal hold suspended, by scope (tenant, customer)',
  });
  return {
    async sweep() {
      let disposed = 0;
      let heldTenants = 0;
      let heldCustomers = 0;
      let batches = 0;
      let truncated = false;
      const now = deps.clock.now();
      for (const tenant of deps.tenants()) {
        const days = tenant.governance?.archiveRetentionDays;
        if (days === undefined) continue;
        const before = new Date(now.getTime() - days * DAY_MS);
        let holds = holdsOf(await deps.activeHolds(), tenant.id);
        if (holds.tenantWide) {
          heldTenants += 1;
          heldCounter.add(1, { tenant_id: tenant.id, scope: 'tenant' });
          continue;
        }
        if (holds.customers.length > 0) {
          heldCustomers += holds.customers.length;
          heldCounter.add(1, { tenant_id: tenant.id, scope: 'customer' });
        }
        for (;;) {
          if (batches >= maxBatches) {
            truncated = true;
            break;
          }
          const expired = await deps.store.expiredRecords(tenant.id, before, { exceptCustomers: holds.customers, limit: batchSize });
          if (expired.length === 0) break;
          // Only batches with work count against the pass's bound (a tenant with nothing expired costs one indexed read).
          batches += 1;
          // A hold placed since the batch was read wins.
          holds = holdsOf(await deps.activeHolds(), tenant.id);
          if (holds.tenantWide) break;
          const held = new Set(holds.customers);
          const batch = expired.filter((record) => !held.has(record.customer));
          for (const record of batch) await deps.removeFromSearch(tenant.id, record.recordId);
          await deps.shredRecordSalts?.(
            tenant.id,
            batch.map((record) => record.recordId),
          );
          const result = await deps.store.disposeRecords(tenant.id, batch);
          // The status events' salts too (their ids are known once read in the store's transaction).
          await deps.shredRecordSalts?.(tenant.id, result.eventIds);
          disposed += result.disposed;
          disposedCounter.add(result.disposed, { tenant_id: tenant.id });
          if (expired.length < batchSize) break;
        }
        if (truncated) break;
      }
      const report = { disposed, heldTenants, heldCustomers, truncated };
      deps.logger.info({ component: 'retention-sweeper', ...report }, 'retention sweep');
      return report;
    },
  };
}
