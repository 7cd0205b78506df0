import type { Logger } from '@waygate/telemetry';
import type { Tenant } from './tenant';
import type { TenantDirectory } from './tenant-directory';

/** A retention setting of the tenants file a service disposes of data by. */
export type RetentionSetting = 'archiveRetentionDays' | 'mediaRetentionDays';

/** `days` of a floor (and of an effective retention) that means "kept forever". */
export const KEPT_FOREVER = 0;

/**
 * The longest retention a service ever ran a tenant with in compliance mode, persisted by the service that owns the
 * data (the archive for archive records, media-store for media), so that a later, shorter setting is refused.
 */
export interface RetentionFloor {
  readonly tenantId: string;
  readonly setting: RetentionSetting;
  /** Days; {@link KEPT_FOREVER} (0) when the data was to be kept forever. */
  readonly days: number;
  /** The tenant was in compliance mode for this setting: it can never go back to operational. */
  readonly compliance: boolean;
}

/** Where a service persists its retention floors (SQLite and MongoDB adapters in @waygate/storage). */
export interface RetentionFloorStore {
  /** Every floor of `setting`. */
  load(setting: RetentionSetting): Promise<RetentionFloor[]>;
  /** Raises the tenant's floor: days to the longer of the two (forever is longest), compliance once set stays set. */
  raise(floor: RetentionFloor): Promise<void>;
}

/** The tenants file asks for a retention a compliance-mode floor forbids; the message names tenant and setting. */
export class RetentionPolicyError extends Error {
  override readonly name = 'RetentionPolicyError';
  constructor(readonly problems: readonly string[]) {
    super(`retention policy refused:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Whether `a` days keep data at least as long as `b` days (KEPT_FOREVER outlasts everything). */
function keepsAtLeast(a: number, b: number): boolean {
  if (a === KEPT_FOREVER) return true;
  if (b === KEPT_FOREVER) return false;
  return a >= b;
}

/** The longer of two retentions. */
export function longerRetention(a: number, b: number): number {
  return keepsAtLeast(a, b) ? a : b;
}

function describeDays(days: number): string {
  return days === KEPT_FOREVER ? 'kept forever' : `${days} days`;
}

/**
 * Checks and records one retention setting of every tenant against the persisted floors: at startup (refusing to
 * start) and as the tenants-file reloader's validation hook (refusing the new file, the old one stays in force).
 */
export interface RetentionGuard {
  /** What `directory` asks that the floors forbid, one line per tenant and setting (empty: acceptable). */
  check(directory: TenantDirectory): string[];
  /** Raises the floors to what an accepted `directory` asks (in memory at once, persisted in the background). */
  accept(directory: TenantDirectory): void;
}

/** What a guard needs. */
export interface RetentionGuardOptions {
  readonly store: RetentionFloorStore;
  readonly setting: RetentionSetting;
  /** The retention the service applies to the tenant, in days ({@link KEPT_FOREVER}: kept forever). */
  readonly retentionDaysOf: (tenant: Tenant) => number;
  /** The directory in force at startup: checked (RetentionPolicyError) and recorded before the guard is returned. */
  readonly directory: TenantDirectory;
  readonly logger: Logger;
}

/**
 * Loads the floors, refuses `directory` if it breaks one (RetentionPolicyError naming each tenant and setting), records
 * its compliance-mode retentions, and returns the guard for later reloads.
 */
export async function startRetentionGuard(options: RetentionGuardOptions): Promise<RetentionGuard> {
  const { store, setting, retentionDaysOf, logger } = options;
  const floors = new Map<string, RetentionFloor>();
  for (const floor of await store.load(setting)) floors.set(floor.tenantId, floor);

  const check = (directory: TenantDirectory): string[] => {
    const problems: string[] = [];
    for (const tenant of directory.tenants) {
      const floor = floors.get(tenant.id);
      if (!floor?.compliance) continue;
      const where = `tenant "${tenant.id}", governance.${setting}`;
      if (tenant.governance?.mode !== 'compliance') {
        problems.push(`tenant "${tenant.id}", governance.mode: the tenant is in compliance mode and cannot go back to operational`);
        continue;
      }
      const days = retentionDaysOf(tenant);
      if (!keepsAtLeast(days, floor.days)) {
        problems.push(
          `${where}: ${describeDays(days)} is shorter than the ${describeDays(floor.days)} already in force in compliance mode (it can only be lengthened)`,
        );
      }
    }
    return problems;
  };

  const raised = (directory: TenantDirectory): RetentionFloor[] => {
    const changes: RetentionFloor[] = [];
    for (const tenant of directory.tenants) {
      if (tenant.governance?.mode !== 'compliance') continue;
      const days = retentionDaysOf(tenant);
      const floor = floors.get(tenant.id);
      if (floor?.compliance && keepsAtLeast(floor.days, days)) continue;
      const next = { tenantId: tenant.id, setting, days: floor ? longerRetention(floor.days, days) : days, compliance: true };
      floors.set(tenant.id, next);
      changes.push(next);
    }
    return changes;
  };

  const problems = check(options.directory);
  if (problems.length > 0) throw new RetentionPolicyError(problems);
  for (const floor of raised(options.directory)) await store.raise(floor);

  return {
    check,
    accept(directory) {
      for (const floor of raised(directory)) {
        store.raise(floor).catch((error: unknown) =>
          // Held in memory regardless; the next start records it again from the tenants file (or refuses a shorter one).
          logger.error({ err: error, tenant_id: floor.tenantId, setting }, 'cannot persist a retention floor'),
        );
      }
    },
  };
}
