import { createHash } from 'node:crypto';
import { WrongRegionError } from '@waygate/domain';
import type { ApiKey } from './api-key';
import type { Tenant, WhatsAppPhoneNumber } from './tenant';

/** An API key found in the directory, with the tenant it belongs to. */
export interface TenantApiKey {
  readonly tenant: Tenant;
  readonly key: ApiKey;
}

/** Hex SHA-256 of an API key, the form in which keys are configured and compared. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/** One immutable version of the directory, with its indexes. */
class TenantSnapshot {
  readonly byId = new Map<string, Tenant>();
  readonly byApiKeyHash = new Map<string, TenantApiKey>();
  readonly byPhoneNumber = new Map<string, { tenant: Tenant; phoneNumber: WhatsAppPhoneNumber }>();

  constructor(readonly tenants: readonly Tenant[]) {
    for (const tenant of tenants) {
      if (this.byId.has(tenant.id)) throw new Error(`tenant id "${tenant.id}" is configured twice`);
      this.byId.set(tenant.id, tenant);
      for (const key of tenant.apiKeys) {
        if (this.byApiKeyHash.has(key.sha256)) throw new Error(`an API key of tenant "${tenant.id}" is also configured for another tenant`);
        this.byApiKeyHash.set(key.sha256, { tenant, key });
      }
      for (const phoneNumber of tenant.whatsapp.phoneNumbers) {
        if (this.byPhoneNumber.has(phoneNumber.id)) throw new Error(`phone number id "${phoneNumber.id}" is configured twice`);
        this.byPhoneNumber.set(phoneNumber.id, { tenant, phoneNumber });
      }
    }
  }
}

/**
 * All tenants known to the platform, indexed for the lookups services make on hot paths. Every region's processes
 * load the same directory so that a call for a tenant homed elsewhere can be refused naming its home region.
 *
 * The directory is live: `replaceWith` swaps in a new version (the tenants file was reloaded) in one assignment, so a
 * lookup sees either the old or the new version, never a mix. Consumers therefore hold the directory and look up on
 * every call; whoever derives something from it (a list of verify tokens, callback lanes) re-derives it when
 * `revision` changes or in an `onChange` listener.
 */
export class TenantDirectory {
  private snapshot: TenantSnapshot;
  private readonly listeners = new Set<(directory: TenantDirectory) => void>();
  private currentRevision = 0;

  constructor(tenants: readonly Tenant[]) {
    this.snapshot = new TenantSnapshot(tenants);
  }

  /** Every tenant of the current version. */
  get tenants(): readonly Tenant[] {
    return this.snapshot.tenants;
  }

  /** Increases with every `replaceWith`; a cheap check whether something derived from the directory is stale. */
  get revision(): number {
    return this.currentRevision;
  }

  /** The tenant an API key belongs to. The key is hashed first, so lookup time does not depend on key bytes. */
  authenticate(apiKey: string): Tenant | undefined {
    return this.authenticateApiKey(apiKey)?.tenant;
  }

  /** The configured key (id, scopes) an API key is, with its tenant; hashed first like {@link authenticate}. */
  authenticateApiKey(apiKey: string): TenantApiKey | undefined {
    return apiKey ? this.snapshot.byApiKeyHash.get(hashApiKey(apiKey)) : undefined;
  }

  /**
   * The tenant an API key hash (hex SHA-256, as {@link hashApiKey} makes it) belongs to: for re-checking a credential
   * remembered by its hash (an open stream) against a reloaded directory without keeping the key itself.
   */
  findByApiKeySha256(apiKeySha256: string): Tenant | undefined {
    return this.snapshot.byApiKeyHash.get(apiKeySha256)?.tenant;
  }

  /** The configured key (id, scopes) with this hash, and its tenant, in the current version. */
  findApiKey(apiKeySha256: string): TenantApiKey | undefined {
    return this.snapshot.byApiKeyHash.get(apiKeySha256);
  }

  get(tenantId: string): Tenant | undefined {
    return this.snapshot.byId.get(tenantId);
  }

  /** The tenant and number for a WhatsApp business phone number id (from a webhook's metadata). */
  findPhoneNumber(phoneNumberId: string): { tenant: Tenant; phoneNumber: WhatsAppPhoneNumber } | undefined {
    return this.snapshot.byPhoneNumber.get(phoneNumberId);
  }

  /** Tenants homed in `region`. */
  homedIn(region: string): Tenant[] {
    return this.snapshot.tenants.filter((tenant) => tenant.homeRegion === region);
  }

  /**
   * Takes over the current version of `next` (a freshly parsed tenants file) atomically, then tells the listeners.
   * A listener that throws does not stop the others or undo the swap.
   */
  replaceWith(next: TenantDirectory): void {
    this.snapshot = next.snapshot;
    this.currentRevision += 1;
    for (const listener of this.listeners) {
      try {
        listener(this);
      } catch {
        // A consumer's failure to re-derive must not keep the new keys from the others; it logs its own errors.
      }
    }
  }

  /** Calls `listener` after every `replaceWith`; returns the function that unsubscribes it. */
  onChange(listener: (directory: TenantDirectory) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Throws WrongRegionError unless `tenant` is homed in `servingRegion`. */
export function assertHomedIn(tenant: Tenant, servingRegion: string): void {
  if (tenant.homeRegion !== servingRegion) throw new WrongRegionError(tenant.id, tenant.homeRegion, servingRegion);
}
