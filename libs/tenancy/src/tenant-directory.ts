import { createHash } from 'node:crypto';
import { WrongRegionError } from '@waygate/domain';
import type { Tenant, WhatsAppPhoneNumber } from './tenant';

/** Hex SHA-256 of an API key, the form in which keys are configured and compared. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/**
 * All tenants known to the platform, indexed for the lookups services make on hot paths. Every region's processes
 * load the same directory so that a call for a tenant homed elsewhere can be refused naming its home region.
 */
export class TenantDirectory {
  private readonly byId = new Map<string, Tenant>();
  private readonly byApiKeyHash = new Map<string, Tenant>();
  private readonly byPhoneNumber = new Map<string, { tenant: Tenant; phoneNumber: WhatsAppPhoneNumber }>();

  constructor(readonly tenants: readonly Tenant[]) {
    for (const tenant of tenants) {
      if (this.byId.has(tenant.id)) throw new Error(`tenant id "${tenant.id}" is configured twice`);
      this.byId.set(tenant.id, tenant);
      for (const hash of tenant.apiKeySha256) {
        if (this.byApiKeyHash.has(hash)) throw new Error(`an API key of tenant "${tenant.id}" is also configured for another tenant`);
        this.byApiKeyHash.set(hash, tenant);
      }
      for (const phoneNumber of tenant.whatsapp.phoneNumbers) {
        if (this.byPhoneNumber.has(phoneNumber.id)) throw new Error(`phone number id "${phoneNumber.id}" is configured twice`);
        this.byPhoneNumber.set(phoneNumber.id, { tenant, phoneNumber });
      }
    }
  }

  /** The tenant an API key belongs to. The key is hashed first, so lookup time does not depend on key bytes. */
  authenticate(apiKey: string): Tenant | undefined {
    return apiKey ? this.byApiKeyHash.get(hashApiKey(apiKey)) : undefined;
  }

  get(tenantId: string): Tenant | undefined {
    return this.byId.get(tenantId);
  }

  /** The tenant and number for a WhatsApp business phone number id (from a webhook's metadata). */
  findPhoneNumber(phoneNumberId: string): { tenant: Tenant; phoneNumber: WhatsAppPhoneNumber } | undefined {
    return this.byPhoneNumber.get(phoneNumberId);
  }

  /** Tenants homed in `region`. */
  homedIn(region: string): Tenant[] {
    return this.tenants.filter((tenant) => tenant.homeRegion === region);
  }
}

/** Throws WrongRegionError unless `tenant` is homed in `servingRegion`. */
export function assertHomedIn(tenant: Tenant, servingRegion: string): void {
  if (tenant.homeRegion !== servingRegion) throw new WrongRegionError(tenant.id, tenant.homeRegion, servingRegion);
}
