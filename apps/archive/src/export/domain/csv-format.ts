import { latestError, latestPricing, type MessageRecord } from './export-record';

/** messages.csv's columns, in order (the header row). */
export const CSV_COLUMNS = [
  'tenant_id',
  'conversation_id',
  'phone_number_id',
  'customer',
  'record_id',
  'message_id',
  'wa_message_id',
  'direction',
  'type',
  'occurred_at',
  'session_index',
  'text',
  'media_ids',
  'template_name',
  'template_category',
  'context_wa_message_id',
  'status',
  'statuses',
  'error_code',
  'error_title',
  'billable',
  'pricing_model',
  'pricing_type',
  'pricing_category',
  'sentiment_language',
  'sentiment_score',
  'sentiment_label',
  'content_json',
] as const;

/**
 * Characters that make a spreadsheet read a cell as a formula (CSV injection, OWASP): = + - @, tab and carriage
 * return. A text cell starting with one gets a leading apostrophe, which spreadsheets show as "text" and hide; so a
 * customer's "+4915…" reads as "'+4915…" in the file. Numbers the export itself formats are not prefixed.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: a text neutralised against formula injection, then quoted per RFC 4180 when it needs to be. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV line (RFC 4180: CRLF line ends). */
function csvLine(cells: readonly (string | number | boolean | null)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header row. */
export function csvHeader(): string {
  return csvLine(CSV_COLUMNS);
}

/** One message as a CSV row, columns as CSV_COLUMNS. */
export function csvRow(record: MessageRecord): string {
  const pricing = latestPricing(record.statuses);
  const error = latestError(record.statuses);
  return csvLine([
    record.tenant_id,
    record.conversation_id,
    record.phone_number_id,
    record.customer,
    record.record_id,
    record.message_id,
    record.wa_message_id,
    record.direction,
    record.type,
    record.occurred_at,
    record.session_index,
    record.text,
    record.media_ids.join(' '),
    record.template_name,
    record.template_category,
    record.context_wa_message_id,
    record.status,
    record.statuses.map((status) => `${status.status} ${status.occurred_at}`).join('; '),
    error?.error_code ?? null,
    error?.error_title ?? null,
    pricing ? pricing.billable : null,
    pricing?.pricing_model ?? null,
    pricing?.type ?? null,
    pricing?.category ?? null,
    record.sentiment?.language ?? null,
    record.sentiment?.score ?? null,
    record.sentiment?.label ?? null,
    record.content_json,
  ]);
}
