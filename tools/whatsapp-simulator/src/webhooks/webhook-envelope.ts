import { toWaId } from '../phone-numbers';
import type { InboundWebhookContact, InboundWebhookMessage, ValueLevelError } from './inbound-payloads';
import type { StatusWebhookStatus } from './status-payloads';

/** The business number a webhook change is about. */
export interface WebhookBusinessNumber {
  wabaId: string;
  phoneNumberId: string;
  /** As configured (e.g. `+1 555-0100`); the webhook carries it as digits. */
  displayPhoneNumber: string;
}

/** One entry of a `user_preferences` webhook: a customer stopped or resumed marketing messages. */
export interface UserPreferenceWebhookItem {
  wa_id: string;
  detail: string;
  category: 'marketing_messages';
  value: 'stop' | 'resume';
  /** Unix seconds, as a string. */
  timestamp: string;
}

/** What one change reports for one phone number; several kinds may share a change, as Meta batches them. */
export interface WebhookItems {
  statuses?: StatusWebhookStatus[];
  contacts?: InboundWebhookContact[];
  messages?: InboundWebhookMessage[];
  errors?: ValueLevelError[];
  /**
   * Changes of other fields about the WABA (e.g. `message_template_status_update`). They go out in POSTs of their own
   * (see {@link buildAccountChangesPayload}), never batched with statuses and messages.
   */
  accountChanges?: AccountChange[];
  /** Sent as a change of its own, field `user_preferences`. */
  userPreferences?: UserPreferenceWebhookItem[];
}

/** A change of a field other than `messages`: Meta sends its `value` as is, with no phone number metadata. */
export interface AccountChange {
  field: string;
  value: Record<string, unknown>;
}

/** The body Meta POSTs for account-level fields: one entry for the WABA, one change per field update. */
export interface AccountWebhookPayload {
  object: 'whatsapp_business_account';
  entry: { id: string; time: number; changes: AccountChange[] }[];
}
export interface WebhookChangeValue {
  messaging_product: 'whatsapp';
  metadata: { display_phone_number: string; phone_number_id: string };
  contacts?: InboundWebhookContact[];
  messages?: InboundWebhookMessage[];
  statuses?: StatusWebhookStatus[];
  errors?: ValueLevelError[];
  /** `user_preferences` changes only. */
  user_preferences?: UserPreferenceWebhookItem[];
}

/** One change of an entry: the `messages` field, or `user_preferences` (marketing preference changes). */
export interface WebhookChange {
  value: WebhookChangeValue;
  field: 'messages' | 'user_preferences';
}

/** One entry per WhatsApp Business Account. */
export interface WebhookEntry {
  /** The WABA id. */
  id: string;
  changes: WebhookChange[];
}

/** The body Meta POSTs to the webhook URL for the `messages` field. */
export interface WhatsAppWebhookPayload {
  object: 'whatsapp_business_account';
  entry: WebhookEntry[];
}

type CollectedItems = Required<Omit<WebhookItems, 'accountChanges'>>;

function isEmpty(items: WebhookItems): boolean {
  return (
    !items.statuses?.length && !items.contacts?.length && !items.messages?.length && !items.errors?.length && !items.userPreferences?.length
  );
}

function hasMessagesChange(items: CollectedItems): boolean {
  return items.statuses.length + items.contacts.length + items.messages.length + items.errors.length > 0;
}

/** A `user_preferences` change's value: the customers it names (as contacts, like Meta) and their preferences. */
function toUserPreferencesValue(number: WebhookBusinessNumber, items: CollectedItems): WebhookChangeValue {
  const waIds = [...new Set(items.userPreferences.map((preference) => preference.wa_id))];
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: toWaId(number.displayPhoneNumber), phone_number_id: number.phoneNumberId },
    contacts: waIds.map((waId) => ({ profile: { name: 'WhatsApp User' }, wa_id: waId })),
    user_preferences: items.userPreferences,
  };
}

function toChangeValue(number: WebhookBusinessNumber, items: CollectedItems): WebhookChangeValue {
  // Meta's key order: inbound webhooks list contacts before messages; status webhooks only carry statuses.
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: toWaId(number.displayPhoneNumber), phone_number_id: number.phoneNumberId },
    ...(items.contacts.length > 0 ? { contacts: items.contacts } : {}),
    ...(items.messages.length > 0 ? { messages: items.messages } : {}),
    ...(items.statuses.length > 0 ? { statuses: items.statuses } : {}),
    ...(items.errors.length > 0 ? { errors: items.errors } : {}),
  };
}

/**
 * One POST body: one entry per WABA, one change per phone number, in the order they first appear; batches for the same
 * phone number are merged in order. Empty arrays (and batches with nothing in them) are omitted; the display number
 * goes out as digits. Throws when no batch has any item, since Meta never posts an empty webhook.
 */
export function buildWebhookPayload(batches: readonly { number: WebhookBusinessNumber; items: WebhookItems }[]): WhatsAppWebhookPayload {
  const wabas = new Map<string, Map<string, { number: WebhookBusinessNumber; items: CollectedItems }>>();
  for (const { number, items } of batches) {
    if (isEmpty(items)) continue;
    const numbers = wabas.get(number.wabaId) ?? new Map<string, { number: WebhookBusinessNumber; items: CollectedItems }>();
    wabas.set(number.wabaId, numbers);
    const collected = numbers.get(number.phoneNumberId) ?? {
      number,
      items: { statuses: [], contacts: [], messages: [], errors: [], userPreferences: [] },
    };
    numbers.set(number.phoneNumberId, collected);
    collected.items.statuses.push(...(items.statuses ?? []));
    collected.items.contacts.push(...(items.contacts ?? []));
    collected.items.messages.push(...(items.messages ?? []));
    collected.items.errors.push(...(items.errors ?? []));
    collected.items.userPreferences.push(...(items.userPreferences ?? []));
  }
  if (wabas.size === 0) throw new Error('buildWebhookPayload: nothing to send');
  return {
    object: 'whatsapp_business_account',
    entry: [...wabas].map(([wabaId, numbers]) => ({
      id: wabaId,
      changes: [...numbers.values()].flatMap(({ number, items }) => [
        ...(hasMessagesChange(items) ? [{ value: toChangeValue(number, items), field: 'messages' as const }] : []),
        ...(items.userPreferences.length > 0 ? [{ value: toUserPreferencesValue(number, items), field: 'user_preferences' as const }] : []),
      ]),
    })),
  };
}

/** One POST body of account-level changes of one WABA; `timeSec` is the entry's `time` (Unix seconds). */
export function buildAccountChangesPayload(wabaId: string, changes: readonly AccountChange[], timeSec: number): AccountWebhookPayload {
  if (changes.length === 0) throw new Error('buildAccountChangesPayload: nothing to send');
  return { object: 'whatsapp_business_account', entry: [{ id: wabaId, time: timeSec, changes: [...changes] }] };
}
