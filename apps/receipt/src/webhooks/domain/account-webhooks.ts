import { createHash } from 'node:crypto';
import type { Clock } from '@waygate/domain';
import type { Tenant, TenantDirectory } from '@waygate/tenancy';
import { isJsonObject } from './bounded-json';

/** Meta's account webhook fields receipt takes; each change of them becomes one AccountEvent. */
export const ACCOUNT_WEBHOOK_FIELDS = ['phone_number_quality_update', 'business_capability_update', 'account_update'] as const;
export type AccountWebhookField = (typeof ACCOUNT_WEBHOOK_FIELDS)[number];

/** Meta's throughput after a THROUGHPUT_UPGRADE (messages per second; the default is 80). */
export const UPGRADED_THROUGHPUT_MPS = 1000;

/** Strings from Meta are cut to this; these are enum-like values and dates. */
const MAX_VALUE_CHARS = 64;
/** At most this many restrictions are kept from one change. */
const MAX_RESTRICTIONS = 16;

/** One restriction Meta put on a WABA. */
export interface AccountRestrictionInfo {
  readonly restrictionType: string;
  readonly expiration: string;
}

/** What one account webhook change says, in Waygate's words. */
export type AccountChange =
  | {
      readonly kind: 'phone-number-quality';
      readonly displayPhoneNumber: string;
      /** The tenant's number with that display number, when configured. */
      readonly phoneNumberId?: string;
      readonly event: string;
      readonly currentLimit: string;
      readonly oldLimit: string;
      /** -1 is unlimited; absent when not sent. */
      readonly maxDailyConversationsPerBusiness?: number;
      /** Set on THROUGHPUT_UPGRADE: the number's new messages per second. */
      readonly throughputMps?: number;
    }
  | {
      readonly kind: 'business-capability';
      readonly maxDailyConversationsPerBusiness?: number;
      readonly maxPhoneNumbersPerBusiness?: number;
      readonly maxPhoneNumbersPerWaba?: number;
    }
  | {
      readonly kind: 'account-update';
      readonly event: string;
      readonly phoneNumber?: string;
      readonly violationType?: string;
      readonly banState?: string;
      readonly banDate?: string;
      readonly restrictions: readonly AccountRestrictionInfo[];
    };

/** An account change of one tenant, as published and counted. */
export interface AccountAnnouncement {
  /** `wa:account:<field>:<sha256 of the entry id, time and change>`: the same change delivered twice has one id. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly wabaId: string;
  readonly occurredAt: Date;
  readonly change: AccountChange;
}

/**
 * Changes that need a person: the number was flagged or its limit lowered, the account got a violation, a restriction,
 * or a ban (scheduled or done), or was deleted. Each is counted in `waygate_account_alerts_total{kind}`.
 */
export type AccountAlertKind =
  'phone_number_flagged' | 'messaging_limit_downgraded' | 'account_violation' | 'account_restricted' | 'account_banned' | 'account_deleted';

export interface AccountEventPublisher {
  publish(announcement: AccountAnnouncement): Promise<void>;
}

/** Where account changes are counted (metrics an alert can fire on). */
export interface AccountMetrics {
  record(announcement: AccountAnnouncement, alert: AccountAlertKind | undefined): void;
}

/** The alert a change raises, if any. */
export function alertOf(change: AccountChange): AccountAlertKind | undefined {
  switch (change.kind) {
    case 'phone-number-quality':
      if (change.event === 'FLAGGED') return 'phone_number_flagged';
      if (change.event === 'DOWNGRADE') return 'messaging_limit_downgraded';
      return undefined;
    case 'business-capability':
      return undefined;
    case 'account-update':
      if (change.event === 'ACCOUNT_VIOLATION') return 'account_violation';
      if (change.event === 'ACCOUNT_RESTRICTION') return 'account_restricted';
      if (change.event === 'DISABLED_UPDATE' && change.banState !== 'REINSTATE') return 'account_banned';
      if (change.event === 'ACCOUNT_DELETED') return 'account_deleted';
      return undefined;
  }
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0
    ? value.slice(0, MAX_VALUE_CHARS)
    : typeof value === 'number' && Number.isFinite(value)
      ? String(value)
      : undefined;

/** A limit Meta sends as a number or a numeric string; -1 is unlimited. */
const limit = (value: unknown): number | undefined => {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(number) && number >= -1 ? number : undefined;
};

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

function parseChange(field: AccountWebhookField, value: Record<string, unknown>): AccountChange {
  switch (field) {
    case 'phone_number_quality_update': {
      const event = text(value.event) ?? '';
      return {
        kind: 'phone-number-quality',
        displayPhoneNumber: text(value.display_phone_number) ?? '',
        event,
        currentLimit: text(value.current_limit) ?? '',
        oldLimit: text(value.old_limit) ?? '',
        ...optional('maxDailyConversationsPerBusiness', limit(value.max_daily_conversations_per_business)),
        ...(event === 'THROUGHPUT_UPGRADE' ? { throughputMps: UPGRADED_THROUGHPUT_MPS } : {}),
      };
    }
    case 'business_capability_update':
      return {
        kind: 'business-capability',
        // v24+ sends the portfolio's limit; older versions the per-phone one (the same limit, under its old name).
        ...optional(
          'maxDailyConversationsPerBusiness',
          limit(value.max_daily_conversations_per_business) ?? limit(value.max_daily_conversation_per_phone),
        ),
        ...optional('maxPhoneNumbersPerBusiness', limit(value.max_phone_numbers_per_business)),
        ...optional('maxPhoneNumbersPerWaba', limit(value.max_phone_numbers_per_waba)),
      };
    case 'account_update': {
      const ban = isJsonObject(value.ban_info) ? value.ban_info : {};
      const violation = isJsonObject(value.violation_info) ? value.violation_info : {};
      // Meta has sent waba_ban_state as a string and as a one-element list.
      const banState = Array.isArray(ban.waba_ban_state) ? text(ban.waba_ban_state[0]) : text(ban.waba_ban_state);
      const restrictions = (Array.isArray(value.restriction_info) ? value.restriction_info : [])
        .slice(0, MAX_RESTRICTIONS)
        .filter(isJsonObject)
        .map((r) => ({ restrictionType: text(r.restriction_type) ?? '', expiration: text(r.expiration) ?? '' }));
      return {
        kind: 'account-update',
        event: text(value.event) ?? '',
        ...optional('phoneNumber', text(value.phone_number)),
        ...optional('violationType', text(violation.violation_type)),
        ...optional('banState', banState),
        ...optional('banDate', text(ban.waba_ban_date)),
        restrictions,
      };
    }
  }
}

/** One account change found in a webhook body, before it is matched to a tenant. */
export interface ParsedAccountChange {
  readonly field: AccountWebhookField;
  readonly wabaId: string;
  /** The entry's `time` (Unix seconds), when sent. */
  readonly time?: number;
  readonly change: AccountChange;
  /** The change's own bytes, for its event id. */
  readonly fingerprint: string;
}

/**
 * The account webhook changes of a webhook body (already JSON-decoded): every `entry[].changes[]` whose field is one
 * of ACCOUNT_WEBHOOK_FIELDS. Anything else, or a change without a value, is not one. Never throws; values are bounded.
 */
export function parseAccountChanges(payload: unknown): ParsedAccountChange[] {
  if (!isJsonObject(payload) || payload.object !== 'whatsapp_business_account' || !Array.isArray(payload.entry)) return [];
  const found: ParsedAccountChange[] = [];
  for (const entry of payload.entry) {
    if (!isJsonObject(entry) || typeof entry.id !== 'string' || !Array.isArray(entry.changes)) continue;
    const time = typeof entry.time === 'number' && Number.isSafeInteger(entry.time) && entry.time > 0 ? entry.time : undefined;
    for (const change of entry.changes) {
      if (!isJsonObject(change) || !isJsonObject(change.value)) continue;
      const field = ACCOUNT_WEBHOOK_FIELDS.find((name) => name === change.field);
      if (!field) continue;
      const parsed = parseChange(field, change.value);
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([entry.id, time ?? null, field, parsed]))
        .digest('hex');
      found.push({ field, wabaId: entry.id.slice(0, MAX_VALUE_CHARS), ...(time ? { time } : {}), change: parsed, fingerprint });
    }
  }
  return found;
}

const digits = (phone: string) => phone.replace(/\D/g, '');

/** The tenant's number with this display number (Meta names the number only by it in quality updates). */
function numberByDisplay(tenant: Tenant, displayPhoneNumber: string): string | undefined {
  const wanted = digits(displayPhoneNumber);
  if (!wanted) return undefined;
  return tenant.whatsapp.phoneNumbers.find((number) => digits(number.displayPhoneNumber) === wanted)?.id;
}

/**
 * Applies Meta's account webhooks: each change of a WABA homed in this region becomes an AccountEvent for its tenant
 * (published with its event id, so a repeated webhook is one event) and is counted, with the alert it raises. Changes
 * of WABAs the tenants file does not know, or homed elsewhere, are left alone. Returns how many were published.
 */
export function createAccountWebhooks(deps: {
  tenants: TenantDirectory;
  region: string;
  publisher: AccountEventPublisher;
  metrics: AccountMetrics;
  clock: Clock;
}): { apply(payload: unknown): Promise<number> } {
  return {
    async apply(payload) {
      let published = 0;
      for (const parsed of parseAccountChanges(payload)) {
        const owners = deps.tenants.tenants.filter(
          (tenant) => tenant.whatsapp.wabaId === parsed.wabaId && tenant.homeRegion === deps.region,
        );
        for (const tenant of owners) {
          const change: AccountChange =
            parsed.change.kind === 'phone-number-quality'
              ? { ...parsed.change, ...optional('phoneNumberId', numberByDisplay(tenant, parsed.change.displayPhoneNumber)) }
              : parsed.change;
          const announcement: AccountAnnouncement = {
            eventId: `wa:account:${parsed.field}:${parsed.fingerprint}`,
            tenantId: tenant.id,
            wabaId: parsed.wabaId,
            occurredAt: parsed.time ? new Date(parsed.time * 1000) : deps.clock.now(),
            change,
          };
          await deps.publisher.publish(announcement);
          deps.metrics.record(announcement, alertOf(change));
          published++;
        }
      }
      return published;
    },
  };
}
