import type { Pricing, TranscriptEntry, TranscriptStatus } from '../../domain/transcript';

/** A conversation as the export sees it: the key and the span, from the core's conversation summary. */
export interface ExportConversation {
  readonly conversationId: string;
  readonly phoneNumberId: string;
  /** E.164. Personal data: in the bundle (the tenant's own export), never in a log. */
  readonly customer: string;
  readonly firstMessageAt?: Date;
  readonly lastMessageAt?: Date;
}

/** A transcript entry as the store reads it: with its 0-based session in the conversation, when the store knows it. */
export type ExportEntry = TranscriptEntry & { readonly sessionIndex?: number };

/** A status as the bundle writes it (snake_case, ISO 8601 UTC times, null for absent). */
export interface StatusRecord {
  readonly status: string;
  readonly occurred_at: string;
  readonly error_code: number | null;
  readonly error_title: string | null;
  readonly pricing: { billable: boolean; pricing_model: string | null; type: string | null; category: string | null } | null;
}

/**
 * One message as messages.jsonl writes it: every TranscriptEntry field, plus the conversation's business number and
 * customer, with a fixed set of keys (null for absent) so that every line has the same shape. Field names follow
 * waygate.archive.v1.TranscriptMessage.
 */
export interface MessageRecord {
  readonly tenant_id: string;
  readonly conversation_id: string;
  readonly phone_number_id: string;
  readonly customer: string;
  readonly record_id: string;
  readonly message_id: string;
  readonly wa_message_id: string | null;
  readonly direction: string;
  readonly type: string;
  readonly occurred_at: string;
  /** 0-based session of the conversation (split by the 24-hour window or a business-initiated template). */
  readonly session_index: number | null;
  readonly text: string | null;
  /** The content exactly as archived (a JSON document, kept as a string so nothing is re-encoded). */
  readonly content_json: string | null;
  readonly media_ids: readonly string[];
  readonly template_name: string | null;
  readonly template_category: string | null;
  readonly context_wa_message_id: string | null;
  readonly status: string | null;
  readonly statuses: readonly StatusRecord[];
  readonly sentiment: { language: string | null; score: number | null; label: string | null } | null;
}

const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

function pricingRecord(pricing: Pricing | undefined): StatusRecord['pricing'] {
  if (!pricing) return null;
  return {
    billable: pricing.billable,
    pricing_model: orNull(pricing.pricingModel),
    type: orNull(pricing.type),
    category: orNull(pricing.category),
  };
}

function statusRecord(status: TranscriptStatus): StatusRecord {
  return {
    status: status.status,
    occurred_at: status.occurredAt.toISOString(),
    error_code: orNull(status.errorCode),
    error_title: orNull(status.errorTitle),
    pricing: pricingRecord(status.pricing),
  };
}

/** The bundle's record of one message of `conversation`. */
export function toMessageRecord(conversation: ExportConversation, entry: ExportEntry): MessageRecord {
  return {
    tenant_id: entry.tenantId,
    conversation_id: entry.conversationId,
    phone_number_id: conversation.phoneNumberId,
    customer: conversation.customer,
    record_id: entry.recordId,
    message_id: entry.messageId,
    wa_message_id: orNull(entry.waMessageId),
    direction: entry.direction,
    type: entry.type,
    occurred_at: entry.occurredAt.toISOString(),
    session_index: orNull(entry.sessionIndex),
    text: orNull(entry.text),
    content_json: orNull(entry.contentJson),
    media_ids: entry.mediaIds,
    template_name: orNull(entry.templateName),
    template_category: orNull(entry.templateCategory),
    context_wa_message_id: orNull(entry.contextWaMessageId),
    status: orNull(entry.status),
    statuses: entry.statuses.map(statusRecord),
    sentiment: entry.sentiment
      ? { language: orNull(entry.sentiment.language), score: orNull(entry.sentiment.score), label: orNull(entry.sentiment.label) }
      : null,
  };
}

/** The pricing Meta reported last for a message (statuses are oldest first), if any. */
export function latestPricing(statuses: readonly StatusRecord[]): StatusRecord['pricing'] {
  for (let i = statuses.length - 1; i >= 0; i--) {
    const pricing = (statuses[i] as StatusRecord).pricing;
    if (pricing) return pricing;
  }
  return null;
}

/** The last status that carried an error (a failure, or an attempt that will be retried), if any. */
export function latestError(statuses: readonly StatusRecord[]): StatusRecord | undefined {
  for (let i = statuses.length - 1; i >= 0; i--) {
    const status = statuses[i] as StatusRecord;
    if (status.error_code !== null || status.error_title !== null) return status;
  }
  return undefined;
}
