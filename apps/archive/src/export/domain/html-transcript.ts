import type { ExportConversation, MessageRecord, StatusRecord } from './export-record';

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. Every value the transcript shows goes through it. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] as string);
}

// Self-contained: no script, no external font, image or stylesheet, so the file prints and archives as it is.
const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;color:#111;margin:2rem auto;max-width:52rem;padding:0 1rem}
h1{font-size:1.3rem;margin:0 0 .5rem}
dl.about{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 1.5rem;font-size:.9rem}
dl.about dt{color:#555}dl.about dd{margin:0;word-break:break-all}
ol.messages{list-style:none;margin:0;padding:0}
li.message{border:1px solid #ccc;border-radius:6px;padding:.5rem .75rem;margin:0 0 .6rem;max-width:85%;break-inside:avoid;page-break-inside:avoid}
li.inbound{background:#f4f4f4;margin-right:auto}
li.outbound{background:#e8f5e9;margin-left:auto}
.meta{font-size:.8rem;color:#444;margin-bottom:.25rem}
.text{white-space:pre-wrap;word-wrap:break-word}
pre.content{white-space:pre-wrap;word-break:break-all;font-size:.75rem;background:#fff;border:1px dashed #bbb;padding:.25rem;margin:.25rem 0}
ul.statuses,ul.media{margin:.25rem 0 0;padding-left:1.1rem;font-size:.8rem;color:#333}
.failed{color:#b00020}
footer{margin-top:1.5rem;font-size:.8rem;color:#555}
@media print{body{margin:0;max-width:none;font-size:11pt}li.message{border-color:#999}li.inbound,li.outbound{background:none}a{color:inherit}@page{margin:15mm}}
`;

/** What the transcript's header shows besides the conversation. */
export interface TranscriptHeader {
  readonly tenantId: string;
  readonly exportedAt: Date;
  /** The time range exported, when the request had one. */
  readonly from?: Date;
  readonly to?: Date;
}

function row(term: string, value: string): string {
  return `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`;
}

/** The document's start: head with print CSS, the conversation's facts, the list's opening tag. */
export function htmlTranscriptStart(conversation: ExportConversation, header: TranscriptHeader): string {
  const rows = [
    row('Conversation', conversation.conversationId),
    row('Tenant', header.tenantId),
    row('Business number id', conversation.phoneNumberId),
    row('Customer', conversation.customer),
    conversation.firstMessageAt ? row('First message', conversation.firstMessageAt.toISOString()) : '',
    conversation.lastMessageAt ? row('Last message', conversation.lastMessageAt.toISOString()) : '',
    header.from || header.to
      ? row('Range exported', `${header.from?.toISOString() ?? 'start'} to ${header.to?.toISOString() ?? 'end'} (to exclusive)`)
      : '',
    row('Exported at', header.exportedAt.toISOString()),
  ].join('');
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>Transcript ${escapeHtml(conversation.conversationId)}</title><style>${STYLE}</style></head>\n<body>\n` +
    `<header><h1>Conversation transcript</h1><dl class="about">${rows}</dl></header>\n<ol class="messages">\n`
  );
}

function statusLine(status: StatusRecord): string {
  const parts = [
    `${escapeHtml(status.status)} <time datetime="${escapeHtml(status.occurred_at)}">${escapeHtml(status.occurred_at)}</time>`,
  ];
  if (status.error_code !== null || status.error_title !== null)
    parts.push(`error ${escapeHtml(String(status.error_code ?? ''))} ${escapeHtml(status.error_title ?? '')}`.trim());
  if (status.pricing) {
    const pricing = status.pricing;
    parts.push(
      `pricing: ${pricing.billable ? 'billable' : 'not billable'}` +
        [pricing.pricing_model, pricing.type, pricing.category]
          .filter((value): value is string => value !== null)
          .map((value) => `, ${escapeHtml(value)}`)
          .join(''),
    );
  }
  return `<li${status.status === 'FAILED' ? ' class="failed"' : ''}>${parts.join(' · ')}</li>`;
}

/** One message as a list item: direction, time, type, ids, text (or content), media ids, statuses, sentiment. */
export function htmlTranscriptMessage(record: MessageRecord): string {
  const inbound = record.direction === 'inbound';
  const meta = [
    inbound ? 'Customer → business' : 'Business → customer',
    `<time datetime="${escapeHtml(record.occurred_at)}">${escapeHtml(record.occurred_at)}</time>`,
    escapeHtml(record.type),
    record.session_index !== null ? `session ${record.session_index + 1}` : '',
    `id ${escapeHtml(record.message_id)}`,
    record.wa_message_id && record.wa_message_id !== record.message_id ? `wamid ${escapeHtml(record.wa_message_id)}` : '',
    record.status ? `status ${escapeHtml(record.status)}` : '',
  ].filter(Boolean);
  const body: string[] = [];
  if (record.template_name)
    body.push(
      `<div class="meta">template ${escapeHtml(record.template_name)}${record.template_category ? ` (${escapeHtml(record.template_category)})` : ''}</div>`,
    );
  if (record.context_wa_message_id) body.push(`<div class="meta">in reply to ${escapeHtml(record.context_wa_message_id)}</div>`);
  if (record.text) body.push(`<div class="text">${escapeHtml(record.text)}</div>`);
  // Without a text (a location, contacts, a reaction ...), the content itself is what the reader needs to see.
  else if (record.content_json) body.push(`<pre class="content">${escapeHtml(record.content_json)}</pre>`);
  if (record.media_ids.length > 0)
    body.push(`<ul class="media">${record.media_ids.map((id) => `<li>media-store id ${escapeHtml(id)}</li>`).join('')}</ul>`);
  if (record.statuses.length > 0) body.push(`<ul class="statuses">${record.statuses.map(statusLine).join('')}</ul>`);
  if (record.sentiment?.label)
    body.push(
      `<div class="meta">sentiment ${escapeHtml(record.sentiment.label)}` +
        `${record.sentiment.score !== null ? ` (${escapeHtml(String(record.sentiment.score))})` : ''}` +
        `${record.sentiment.language ? `, language ${escapeHtml(record.sentiment.language)}` : ''}</div>`,
    );
  return `<li class="message ${inbound ? 'inbound' : 'outbound'}"><div class="meta">${meta.join(' · ')}</div>${body.join('')}</li>\n`;
}

/** The document's end, with the message count. */
export function htmlTranscriptEnd(messages: number): string {
  return `</ol>\n<footer>${messages} message${messages === 1 ? '' : 's'}. Media are listed by their media-store id.</footer>\n</body></html>\n`;
}
