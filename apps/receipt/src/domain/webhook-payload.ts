/** A status from a WhatsApp webhook (`entry[].changes[].value.statuses[]`), normalized. */
export interface WebhookStatus {
  /** `value.metadata.phone_number_id`: which business number (and so which tenant) it concerns. */
  readonly phoneNumberId: string;
  /** The `wamid` the Cloud API returned when the message was sent. */
  readonly waMessageId: string;
  readonly status: 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';
  /** Meta's timestamp (unix seconds), not the arrival time. */
  readonly occurredAt: Date;
  readonly errorCode?: number;
  readonly errorTitle?: string;
}

/** What a webhook body contained. */
export interface ParsedWebhook {
  readonly statuses: WebhookStatus[];
  /** Inbound customer messages (handled in a later version; counted so they are visible in logs). */
  readonly inboundMessageCount: number;
  /** Parts that could not be understood; logged without content, never fatal. */
  readonly skipped: string[];
}

const STATUS_NAMES: Readonly<Record<string, WebhookStatus['status']>> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Parses a WhatsApp Business Account webhook body (already JSON-decoded). Unknown fields and status kinds are
 * skipped with a reason rather than failing the whole payload, because Meta adds fields and batches several
 * changes per POST.
 */
export function parseWebhookPayload(payload: unknown): ParsedWebhook {
  const statuses: WebhookStatus[] = [];
  const skipped: string[] = [];
  let inboundMessageCount = 0;
  if (!isRecord(payload) || payload.object !== 'whatsapp_business_account') {
    return { statuses, inboundMessageCount, skipped: ['not a whatsapp_business_account payload'] };
  }
  asArray(payload.entry).forEach((entry, entryIndex) => {
    asArray(isRecord(entry) ? entry.changes : undefined).forEach((change, changeIndex) => {
      const where = `entry[${entryIndex}].changes[${changeIndex}]`;
      if (!isRecord(change) || change.field !== 'messages' || !isRecord(change.value)) {
        skipped.push(`${where}: not a messages change`);
        return;
      }
      const value = change.value;
      const phoneNumberId = isRecord(value.metadata) ? String(value.metadata.phone_number_id ?? '') : '';
      if (!phoneNumberId) {
        skipped.push(`${where}: no metadata.phone_number_id`);
        return;
      }
      inboundMessageCount += asArray(value.messages).length;
      asArray(value.statuses).forEach((raw, statusIndex) => {
        const at = `${where}.value.statuses[${statusIndex}]`;
        const status = isRecord(raw) ? STATUS_NAMES[String(raw.status)] : undefined;
        const seconds = isRecord(raw) ? Number(raw.timestamp) : NaN;
        if (!isRecord(raw) || !status || typeof raw.id !== 'string' || !raw.id || !Number.isFinite(seconds)) {
          skipped.push(`${at}: unsupported or incomplete status`);
          return;
        }
        const firstError = asArray(raw.errors)[0];
        statuses.push({
          phoneNumberId,
          waMessageId: raw.id,
          status,
          occurredAt: new Date(seconds * 1000),
          ...(isRecord(firstError) && typeof firstError.code === 'number' ? { errorCode: firstError.code } : {}),
          ...(isRecord(firstError) && typeof firstError.title === 'string' ? { errorTitle: firstError.title } : {}),
        });
      });
    });
  });
  return { statuses, inboundMessageCount, skipped };
}
