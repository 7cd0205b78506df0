import { createHash } from 'node:crypto';
import { boundJson, isJsonObject } from './bounded-json';

/** Meta's template webhook fields, and which TemplateEvent kind each becomes. */
export const TEMPLATE_WEBHOOK_FIELDS = {
  message_template_status_update: 'status',
  message_template_quality_update: 'quality',
  message_template_components_update: 'components',
  template_category_update: 'category',
} as const;
export type TemplateWebhookField = keyof typeof TEMPLATE_WEBHOOK_FIELDS;
export type TemplateWebhookKind = (typeof TEMPLATE_WEBHOOK_FIELDS)[TemplateWebhookField];

/** The change's value kept as JSON for the event: bounded, since it comes from outside. */
const RAW_JSON_LIMITS = { maxDepth: 8, maxBytes: 8 * 1024 } as const;
/** Longest id, name or value kept. */
const MAX_TEXT_CHARS = 512;
/** Most template changes read from one webhook body. */
const MAX_CHANGES = 1000;

/** One template webhook change, ready to publish as a TemplateEvent (no customer data in it). */
export interface TemplateWebhookChange {
  /** Stable for the same change delivered again: derived from the WABA, the entry's time, the field and the value. */
  readonly eventId: string;
  readonly wabaId: string;
  readonly kind: TemplateWebhookKind;
  readonly templateId: string;
  readonly name: string;
  readonly language: string;
  /** Status updates: Meta's event; category updates: the new category; quality updates: the new score. */
  readonly value: string;
  readonly rawJson: string;
}

function text(value: unknown): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' ? value.slice(0, MAX_TEXT_CHARS) : '';
}

function valueOf(kind: TemplateWebhookKind, value: Record<string, unknown>): string {
  switch (kind) {
    case 'status':
      return text(value.event).toUpperCase();
    case 'quality':
      return text(value.new_quality_score).toUpperCase();
    case 'category':
      return text(value.new_category).toUpperCase();
    case 'components':
      return '';
  }
}

/**
 * The template changes of a WhatsApp Business Account webhook body (`message_template_status_update`,
 * `message_template_quality_update`, `message_template_components_update`, `template_category_update`); other fields
 * are someone else's. A change without a WABA id or a template id or name is skipped. Never throws.
 */
export function parseTemplateChanges(payload: unknown): TemplateWebhookChange[] {
  const changes: TemplateWebhookChange[] = [];
  if (!isJsonObject(payload) || payload.object !== 'whatsapp_business_account' || !Array.isArray(payload.entry)) return changes;
  for (const entry of payload.entry) {
    if (!isJsonObject(entry) || !Array.isArray(entry.changes)) continue;
    const wabaId = text(entry.id);
    if (!wabaId) continue;
    for (const change of entry.changes) {
      if (changes.length >= MAX_CHANGES) return changes;
      if (!isJsonObject(change) || typeof change.field !== 'string' || !Object.hasOwn(TEMPLATE_WEBHOOK_FIELDS, change.field)) continue;
      if (!isJsonObject(change.value)) continue;
      const kind = TEMPLATE_WEBHOOK_FIELDS[change.field as TemplateWebhookField];
      const value = change.value;
      const templateId = text(value.message_template_id);
      const name = text(value.message_template_name);
      if (!templateId && !name) continue;
      const rawJson = JSON.stringify(boundJson(value, RAW_JSON_LIMITS).value);
      const eventId = `wa:tpl:${createHash('sha256')
        .update(JSON.stringify([wabaId, text(entry.time), change.field, rawJson]))
        .digest('hex')
        .slice(0, 40)}`;
      changes.push({
        eventId,
        wabaId,
        kind,
        templateId,
        name,
        language: text(value.message_template_language),
        value: valueOf(kind, value),
        rawJson,
      });
    }
  }
  return changes;
}
