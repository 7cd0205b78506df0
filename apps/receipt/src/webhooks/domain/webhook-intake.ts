import { createHash } from 'node:crypto';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import { boundJson, isJsonObject, nestsDeeperThan } from './bounded-json';
import { planRegionForwards, type RegionForward } from './region-forwarding';
import { isSignedWith, presentedSignature } from './webhook-signature';

/** What the webhook endpoint does with a POST. */
export type WebhookIntakeDecision =
  /** Missing, malformed or wrong `X-Hub-Signature-256`: 401, nothing queued. */
  | { readonly kind: 'unauthenticated'; readonly reason: string }
  /**
   * Validly signed, but nothing in it may be applied here: 200 so that Meta does not retry it, nothing queued.
   * `forwards`: template and account changes of other regions' WABAs, for their regions (region-forwarding.ts).
   */
  | { readonly kind: 'ignored'; readonly reason: string; readonly forwards: readonly RegionForward[] }
  /**
   * Validly signed by the owner of every entry it carries: queue `body` (only this region's entries; parts nested
   * deeper than MAX_WEBHOOK_DEPTH replaced by a marker, `nestingReplaced`).
   */
  | {
      readonly kind: 'accepted';
      readonly body: Uint8Array;
      /** Which bodies the processor keeps in queue order (see {@link webhookOrderKey}); undefined: any order. */
      readonly orderKey: string | undefined;
      readonly droppedEntries: number;
      readonly nestingReplaced: boolean;
      readonly forwards: readonly RegionForward[];
    };

/**
 * Deepest nesting queued as it came. Meta's webhooks nest about ten levels; a deeper part (a hostile or broken field)
 * is replaced by a marker string before queuing, so that nothing downstream — re-serializing, storing, publishing —
 * recurses that deep. The body is still accepted: answering an error would only make Meta retry it for days, and the
 * rest of it is good.
 */
export const MAX_WEBHOOK_DEPTH = 64;

function parseJson(body: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(body).toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Ids longer than this are not order keys (Meta's wamids are about 60 characters). */
const MAX_ORDER_KEY_ID = 256;
/** Items looked at for the order key; a body with more is ordered by its business number. */
const MAX_ORDER_KEY_ITEMS = 1000;

/**
 * The order key of a queued body (issue 15): bodies with the same key are processed one after another in queue order,
 * bodies with different keys side by side. What must keep its order is one message's statuses (and an inbound
 * message's repeats), so:
 * - a body about one message (every status and inbound message in it has the same wamid: Meta's usual one status
 *   per POST) is keyed by that wamid, hashed: `wamid:<first 32 hex digits of its SHA-256>`. The key travels in a
 *   header, which is not sealed with the body, and a wamid encodes the customer's number;
 * - a batch about several messages cannot be keyed by all its wamids; it is keyed by its business number
 *   (`number:<phone_number_id>`, when all its changes are one number's), so a number's batches keep their order among
 *   themselves while its statuses within one batch are still sent side by side. A message whose statuses come once
 *   alone and once in a batch may then have them processed side by side; the tenant feed orders statuses by the
 *   lifecycle (as it does for Meta's own out-of-order deliveries);
 * - anything else (templates, account updates, several numbers): undefined, no order to keep.
 */
export function webhookOrderKey(entries: readonly unknown[]): string | undefined {
  const wamids = new Set<string>();
  const numbers = new Set<string>();
  let items = 0;
  for (const entry of entries) {
    const changes = isJsonObject(entry) && Array.isArray(entry.changes) ? (entry.changes as unknown[]) : [];
    for (const change of changes) {
      const value = isJsonObject(change) && isJsonObject(change.value) ? change.value : undefined;
      if (!value) continue;
      const metadata = isJsonObject(value.metadata) ? value.metadata : undefined;
      if (typeof metadata?.phone_number_id === 'string') numbers.add(metadata.phone_number_id);
      for (const list of [value.statuses, value.messages]) {
        if (!Array.isArray(list)) continue;
        for (const item of list as unknown[]) {
          if (++items > MAX_ORDER_KEY_ITEMS) break;
          const id = isJsonObject(item) ? item.id : undefined;
          if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ORDER_KEY_ID) wamids.add(id);
        }
      }
    }
  }
  if (wamids.size === 1 && items <= MAX_ORDER_KEY_ITEMS)
    return `wamid:${createHash('sha256')
      .update([...wamids][0], 'utf8')
      .digest('hex')
      .slice(0, 32)}`;
  const [number] = numbers;
  if (wamids.size > 0 && numbers.size === 1 && number.length > 0 && number.length <= MAX_ORDER_KEY_ID) return `number:${number}`;
  return undefined;
}

/** The id of an entry (`entry[].id`, the WABA id), if it has one. */
function entryWabaId(entry: unknown): string | undefined {
  return isJsonObject(entry) && typeof entry.id === 'string' && entry.id.length > 0 ? entry.id : undefined;
}

/**
 * Decides what to do with a webhook POST. Meta signs each POST with the app secret of the app the WABA is subscribed
 * through, so the signature is checked with the secret of the tenant owning each `entry[].id` (WABA id): a body
 * carrying a WABA must be signed with that WABA's secret, which keeps one tenant (who knows its own app secret) from
 * forging webhooks for another. Only when no entry names a configured WABA (not JSON, no entries, unknown WABAs) is
 * every app secret of the region tried; such a body has nothing to apply and is answered without being queued.
 * Entries of WABAs homed in another region (or unknown) are removed before queuing, so nothing about them is stored.
 */
export function createWebhookIntake(
  tenants: TenantDirectory,
  region: string,
): (body: Uint8Array, signatureHeader: string | undefined) => WebhookIntakeDecision {
  // Derived once per version of the (live) tenants directory: a reloaded file takes effect with the next webhook.
  let derived = { revision: -1, ownersByWaba: new Map<string, Tenant[]>(), regionSecrets: [] as string[] };
  const current = () => {
    if (derived.revision === tenants.revision) return derived;
    const ownersByWaba = new Map<string, Tenant[]>();
    for (const tenant of tenants.tenants) {
      const owners = ownersByWaba.get(tenant.whatsapp.wabaId) ?? [];
      owners.push(tenant);
      ownersByWaba.set(tenant.whatsapp.wabaId, owners);
    }
    const regionSecrets = [...new Set(tenants.homedIn(region).map((tenant) => tenant.whatsapp.appSecret))];
    derived = { revision: tenants.revision, ownersByWaba, regionSecrets };
    return derived;
  };

  return (body, signatureHeader) => {
    const { ownersByWaba, regionSecrets } = current();
    const presented = presentedSignature(signatureHeader);
    if (!presented) return { kind: 'unauthenticated', reason: 'missing or malformed X-Hub-Signature-256' };
    const parsed = parseJson(body);
    // JSON.parse itself takes any depth; only what comes after it recurses.
    const nestingReplaced = parsed.ok && nestsDeeperThan(parsed.value, MAX_WEBHOOK_DEPTH);
    const parsedValue = !parsed.ok
      ? undefined
      : nestingReplaced
        ? boundJson(parsed.value, { maxDepth: MAX_WEBHOOK_DEPTH, maxBytes: Number.POSITIVE_INFINITY }).value
        : parsed.value;
    const payload = isJsonObject(parsedValue) && parsedValue.object === 'whatsapp_business_account' ? parsedValue : undefined;
    const entries = payload && Array.isArray(payload.entry) ? (payload.entry as unknown[]) : [];
    const owners = [...new Set(entries.map(entryWabaId))].flatMap((wabaId) => (wabaId ? (ownersByWaba.get(wabaId) ?? []) : []));

    if (owners.length === 0) {
      // No configured WABA to check against: any app secret of the region may have signed it (it applies nothing).
      if (!regionSecrets.some((secret) => isSignedWith(body, presented, secret))) {
        return { kind: 'unauthenticated', reason: 'signature matches no app secret of this region' };
      }
      if (!parsed.ok) return { kind: 'ignored', reason: 'body is not JSON', forwards: [] };
      if (!payload || entries.length === 0)
        return { kind: 'ignored', reason: 'not a whatsapp_business_account payload with entries', forwards: [] };
      return { kind: 'ignored', reason: 'no entry belongs to a configured WABA', forwards: [] };
    }
    // Every owner must have signed it; owners with different secrets cannot both have, so such a body is refused.
    const secrets = [...new Set(owners.map((owner) => owner.whatsapp.appSecret))];
    if (!secrets.every((secret) => isSignedWith(body, presented, secret))) {
      return { kind: 'unauthenticated', reason: "signature does not match the app secret of the payload's WABA" };
    }
    const isLocal = (entry: unknown) => (ownersByWaba.get(entryWabaId(entry) ?? '') ?? []).some((owner) => owner.homeRegion === region);
    const local = entries.filter(isLocal);
    const forwards = planRegionForwards(entries, ownersByWaba, region);
    if (local.length === 0) return { kind: 'ignored', reason: 'every WABA of the payload is homed in another region', forwards };
    const orderKey = webhookOrderKey(local);
    if (local.length === entries.length && !nestingReplaced)
      return { kind: 'accepted', body, orderKey, droppedEntries: 0, nestingReplaced, forwards };
    return {
      forwards,
      kind: 'accepted',
      orderKey,
      // Safe to serialize: `payload` nests at most MAX_WEBHOOK_DEPTH levels.
      body: Buffer.from(JSON.stringify({ ...payload, entry: local }), 'utf8'),
      droppedEntries: entries.length - local.length,
      nestingReplaced,
    };
  };
}
