import { DEFAULT_STOP_KEYWORDS, type Tenant } from '@waygate/tenancy';
import type { InboundContent } from './webhook-payload';

/** How a customer's marketing preference was learned. */
export type PreferenceSource = 'stop-keyword' | 'quick-reply' | 'user-preferences';

/** A customer's change of marketing preference, ready to announce (CustomerPreferenceChanged). */
export interface PreferenceAnnouncement {
  /** De-duplication key downstream: derived from the wamid or the webhook entry, so a redelivery repeats it. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly phoneNumberId: string;
  /** E.164. */
  readonly customer: string;
  readonly waId: string;
  readonly preference: 'stopped' | 'resumed';
  readonly source: PreferenceSource;
  readonly occurredAt: Date;
}

export interface PreferencePublisher {
  /** Durable when it resolves. */
  publish(announcement: PreferenceAnnouncement): Promise<void>;
}

/** Longest message compared with the stop keywords; a keyword is a word or two, never a paragraph. */
const MAX_KEYWORD_MESSAGE_CHARS = 64;

function normalizedKeyword(text: string): string {
  return text.trim().toLocaleUpperCase('en-US');
}

/**
 * Whether an inbound message asks to stop marketing messages: a text that is exactly one of the tenant's stop
 * keywords (case and surrounding space ignored; default STOP), or a quick-reply button (or interactive reply) whose
 * payload is one of the tenant's opt-out payloads. Undefined otherwise.
 */
export function optOutRequestedBy(content: InboundContent, tenant: Tenant): 'stop-keyword' | 'quick-reply' | undefined {
  const settings = tenant.optOut;
  if (content.kind === 'text' && content.body.length <= MAX_KEYWORD_MESSAGE_CHARS) {
    const keywords = settings?.stopKeywords ?? DEFAULT_STOP_KEYWORDS;
    const said = normalizedKeyword(content.body);
    if (keywords.some((keyword) => normalizedKeyword(keyword) === said)) return 'stop-keyword';
  }
  const payloads = settings?.quickReplyPayloads ?? [];
  if (content.kind === 'button' && payloads.includes(content.payload)) return 'quick-reply';
  if (content.kind === 'interactive' && payloads.includes(content.id)) return 'quick-reply';
  return undefined;
}
