import { createHmac } from 'node:crypto';
import type { Tenant } from '@waygate/tenancy';
import { isJsonObject } from './bounded-json';

/**
 * Webhook fields Meta always sends to the app's default callback URL, whatever override a WABA or number has
 * (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/override): template and account-level
 * webhooks. They carry no customer data; those of a WABA homed in another region are forwarded to that region.
 */
export const FORWARDED_FIELDS: ReadonlySet<string> = new Set([
  'message_template_status_update',
  'message_template_quality_update',
  'message_template_components_update',
  'template_category_update',
  'phone_number_quality_update',
  'business_capability_update',
  'account_update',
]);

/** One region's share of a webhook: a body of its WABAs' template and account changes, signed as Meta would. */
export interface RegionForward {
  readonly region: string;
  /** `{"object":"whatsapp_business_account","entry":[…]}` with only the forwarded changes of that region's WABAs. */
  readonly body: Uint8Array;
  /** `sha256=<hex>`: HMAC-SHA256 with the app secret of the WABAs' owner, which the other region holds too. */
  readonly signature: string;
  /** How many changes it carries (for the log line). */
  readonly changes: number;
}

/**
 * Picks, out of a verified webhook's entries, the template and account changes (FORWARDED_FIELDS) of WABAs whose
 * owner is homed in another region, grouped per region and per app secret (a body is signed by one secret). Other
 * fields of other regions' WABAs are not forwarded: `messages` webhooks reach each region through Meta's override
 * URLs, and a misrouted one is dropped, never carried across. A WABA with an owner in this region stays here.
 */
export function planRegionForwards(
  entries: readonly unknown[],
  ownersByWaba: ReadonlyMap<string, readonly Tenant[]>,
  region: string,
): RegionForward[] {
  const groups = new Map<string, { region: string; appSecret: string; entries: unknown[]; changes: number }>();
  for (const entry of entries) {
    if (!isJsonObject(entry) || typeof entry.id !== 'string' || !Array.isArray(entry.changes)) continue;
    const owners = ownersByWaba.get(entry.id) ?? [];
    const owner = owners[0];
    if (owner === undefined || owners.some((tenant) => tenant.homeRegion === region)) continue;
    const changes = entry.changes.filter(
      (change) => isJsonObject(change) && typeof change.field === 'string' && FORWARDED_FIELDS.has(change.field),
    );
    if (changes.length === 0) continue;
    const key = `${owner.homeRegion}\u0000${owner.whatsapp.appSecret}`;
    const group = groups.get(key) ?? { region: owner.homeRegion, appSecret: owner.whatsapp.appSecret, entries: [], changes: 0 };
    group.entries.push({ ...entry, changes });
    group.changes += changes.length;
    groups.set(key, group);
  }
  return [...groups.values()].map((group) => {
    const body = Buffer.from(JSON.stringify({ object: 'whatsapp_business_account', entry: group.entries }), 'utf8');
    return {
      region: group.region,
      body,
      signature: `sha256=${createHmac('sha256', group.appSecret).update(body).digest('hex')}`,
      changes: group.changes,
    };
  });
}
