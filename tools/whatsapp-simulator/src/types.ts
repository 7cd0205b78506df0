import type { InboundMessageInput } from './webhooks/inbound-payloads';
import type { MediaDownloadFaultRule } from './media/media-download-faults';
import type { WebhookFaultRule } from './webhooks/webhook-faults';

/** A business phone number the simulator serves, with the credentials that may send from it. */
export interface SimulatorPhoneNumber {
  /** Graph API phone number id, the `{phone_number_id}` path segment. */
  id: string;
  /** Number as shown to users; webhooks carry it as digits only, like Meta does. */
  displayPhoneNumber: string;
  /** Bearer token accepted for this phone number id. */
  accessToken: string;
  /** WhatsApp Business Account id, used as `entry[].id` in webhooks. */
  wabaId: string;
  /** Messages per second this number may send before Meta answers 130429; Meta's default is 80, at most 1,000. */
  throughputMps?: number;
}

/** Template categories Meta knows; they decide pricing and (in Waygate) default validity. */
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

/** A button of an approved template, as far as sending needs to know it. */
export interface SimulatorTemplateButton {
  type: 'QUICK_REPLY' | 'URL' | 'COPY_CODE' | 'PHONE_NUMBER' | 'OTP';
  /** A URL button whose URL ends in `{{1}}` needs one `text` parameter when sent. */
  dynamic?: boolean;
}

/** An approved message template of a WABA (the simulator's template registry). */
export interface SimulatorTemplate {
  wabaId: string;
  name: string;
  /** Meta language code, e.g. `en_US`, `de`. */
  language: string;
  category: TemplateCategory;
  /** `POSITIONAL` ({{1}}) or `NAMED` ({{order_id}}); default `POSITIONAL`. */
  parameterFormat?: 'POSITIONAL' | 'NAMED';
  /** Header; a TEXT header takes at most one parameter, a media header takes the media, LOCATION a location. */
  header?: { format: 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION'; parameters?: number | string[] };
  /** Body placeholders: how many (positional) or their names (named). Default none. */
  bodyParameters?: number | string[];
  buttons?: SimulatorTemplateButton[];
  /** Meta's template id; default derived from WABA, name and language. */
  id?: string;
  /** Review status at start (APPROVED, PENDING, PAUSED, ...); default APPROVED. Only APPROVED templates can be sent. */
  status?: string;
  /** AUTHENTICATION templates: the OTP button's type (its button is `OTP`); default COPY_CODE. */
  otpType?: 'COPY_CODE' | 'ONE_TAP' | 'ZERO_TAP';
  /** AUTHENTICATION templates: shown in the footer ("This code expires in N minutes"). */
  codeExpirationMinutes?: number;
  /** The template's `message_send_ttl_seconds`, when set. */
  messageSendTtlSeconds?: number;
}

/** A template's status change through the control API, as Meta's `message_template_status_update` reports it. */
export interface TemplateStatusChange {
  /** Default: the WABA of the first phone number. */
  wabaId?: string;
  name: string;
  language: string;
  /** The new status, e.g. PAUSED, APPROVED, DISABLED, REJECTED. */
  status: string;
  /** Meta's `reason` (e.g. NONE, INCORRECT_CATEGORY); default NONE. */
  reason?: string;
}

/** How a simulated WhatsApp user behaves when messages are sent to them. */
export type RecipientMode = 'online' | 'offline' | 'not_on_whatsapp';

/** Partial update of a recipient's behaviour; omitted fields keep their current value. */
export interface RecipientBehaviour {
  mode?: RecipientMode;
  readReceipts?: boolean;
  /** Simulated ms from `sent` to `delivered` while online; default the simulator's `statusDelayMs`. */
  deliveryDelayMs?: number;
  /** Simulated ms from `delivered` to `read`; default the simulator's `statusDelayMs`. */
  readDelayMs?: number;
}

/** Complete behaviour of one recipient. */
export interface RecipientState {
  mode: RecipientMode;
  readReceipts: boolean;
  deliveryDelayMs?: number;
  readDelayMs?: number;
}

/** `error` answers with a Meta error; `timeout` never answers (the client times out); `drop` closes the connection. */
export type SendFailureMode = 'error' | 'timeout' | 'drop';

/**
 * Makes otherwise valid sends fail. Without `count` it is an outage that lasts until cleared.
 * Applies to `POST /{phone_number_id}/messages` only.
 */
export interface SendFailureInjection {
  /** Default `error`. */
  mode?: SendFailureMode;
  /** How many sends fail; omitted = every send until `clearSendFailures()`. */
  count?: number;
  /** For mode `error`: the HTTP status (400-599). */
  httpStatus?: number;
  /** For mode `error`: Meta's error code, e.g. 131000, 131016, 2, 130429. */
  code?: number;
  /** Overrides Meta's default `(#code) Title` message. */
  message?: string;
  /** Only sends from this business number. */
  phoneNumberId?: string;
  /** Chance (0-1, seeded) that an eligible send is hit; default 1. */
  probability?: number;
}

/** A message the business successfully sent through the simulator. */
export interface SentMessage {
  wamid: string;
  phoneNumberId: string;
  /** `to` exactly as given in the request. */
  to: string;
  /** `to` normalised to Meta's `wa_id` (E.164 digits without '+'). */
  waId: string;
  /** `text`, `template`, `image`, ... */
  type: string;
  /** The parsed JSON request body. */
  body: Record<string, unknown>;
  /** ISO-8601 simulated time the simulator accepted the message. */
  at: string;
}

/** A mark-as-read (and typing indicator) call the business made for an inbound message. */
export interface ReadMark {
  phoneNumberId: string;
  messageId: string;
  typingIndicator: boolean;
  at: string;
}

/** An inbound message a simulated customer sent to the business. */
export interface InboundMessageRecord {
  messageId: string;
  phoneNumberId: string;
  from: string;
  type: string;
  /** Media id the business can fetch for 7 days (media types only). */
  mediaId?: string;
  at: string;
}

/** Message status values carried by status webhooks. */
export type WebhookStatusName = 'sent' | 'delivered' | 'read' | 'failed';

/** The `{id, status}` pairs a webhook body carries. */
export interface WebhookStatusSummary {
  id: string;
  status: WebhookStatusName;
}

/** One POST attempt of a webhook; retries of the same webhook share `id`. */
export interface WebhookDelivery {
  id: string;
  url: string;
  /** The exact body bytes that were signed and sent. */
  body: string;
  statuses: WebhookStatusSummary[];
  /** Ids and types of the inbound messages in the body. */
  messages: { id: string; type: string }[];
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** HTTP status the receiver answered with; absent when the request itself failed. */
  responseStatus?: number;
  /** Why the request failed (connection refused, timeout, ...); absent when a response arrived. */
  error?: string;
  /** Set on the last attempt when retries ran out (7 simulated days): the webhook is dropped. */
  gaveUp?: boolean;
  /** Set when this delivery repeats an already accepted one (injected `duplicate`). */
  duplicateOf?: string;
  /** ISO-8601 simulated time the attempt finished. */
  at: string;
}

/**
 * Something the simulator did, for logging. Carries no message bodies or tokens;
 * phone numbers are full, so loggers must mask them.
 */
export type SimulatorEvent =
  | { type: 'message_accepted'; wamid: string; phoneNumberId: string; waId: string; messageType: string }
  | { type: 'send_rejected'; phoneNumberId: string; httpStatus: number; code: number }
  | { type: 'send_failure_injected'; phoneNumberId: string; mode: SendFailureMode; code?: number }
  | { type: 'status_emitted'; wamid: string; status: WebhookStatusName; waId: string; errorCode?: number }
  | { type: 'inbound_message'; messageId: string; phoneNumberId: string; waId: string; messageType: string }
  | { type: 'user_preference'; phoneNumberId: string; waId: string; value: 'stop' | 'resume' }
  | { type: 'marked_read'; messageId: string; phoneNumberId: string }
  /** A business uploaded media (`POST /{phone_number_id}/media`). */
  | { type: 'media_uploaded'; mediaId: string; phoneNumberId: string; mimeType: string; fileSize: number }
  | {
      type: 'webhook_attempt';
      deliveryId: string;
      url: string;
      attempt: number;
      statuses: WebhookStatusSummary[];
      messageCount: number;
      responseStatus?: number;
      error?: string;
      gaveUp?: boolean;
    }
  | { type: 'webhook_url_changed'; url: string; wabaId?: string }
  | { type: 'recipient_updated'; waId: string; mode: RecipientMode; readReceipts: boolean }
  | { type: 'failures_injected'; mode: SendFailureMode; count?: number; httpStatus?: number; code?: number }
  | { type: 'webhook_faults_injected'; fault: string; count?: number }
  | { type: 'media_download_faults_injected'; mediaId?: string; count?: number }
  | { type: 'media_download_cut_off'; mediaId: string; afterBytes: number }
  | { type: 'time_changed'; now: string; scale: number }
  | { type: 'template_status_changed'; wabaId: string; templateId: string; status: string }
  | { type: 'reset' };

/** A WhatsApp Business Account's app settings. */
export interface SimulatorWaba {
  id: string;
  /** Signs this WABA's webhooks instead of the simulator-wide `appSecret` (another Meta app). */
  appSecret?: string;
}

/** How long Meta keeps retrying a webhook the receiver did not accept. */
export interface WebhookRetryPolicy {
  /** Simulated ms before the first retry. */
  initialDelayMs: number;
  /** Cap of the doubling delay. */
  maxDelayMs: number;
  /** Give up once the first attempt is this old (Meta: 7 days). */
  maxAgeMs: number;
}

/** Options for {@link startSimulator}. */
export interface SimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Signs webhooks (`X-Hub-Signature-256`). */
  appSecret: string;
  phoneNumbers: SimulatorPhoneNumber[];
  /** Per-WABA settings (e.g. a different app secret). */
  wabas?: SimulatorWaba[];
  /** Approved templates per WABA. */
  templates?: SimulatorTemplate[];
  /** Where webhooks are POSTed; can be set later. */
  webhookUrl?: string;
  /** Default simulated delay between sent -> delivered -> read; default 50. */
  statusDelayMs?: number;
  /** Makes wamids, media ids, conversation ids and probabilistic faults reproducible. */
  seed?: number;
  /** Simulated epoch ms at start; default the real time. */
  startTimeMs?: number;
  /** Simulated ms per real ms; 0 freezes time (only `advanceTime` moves it); default 1. */
  timeScale?: number;
  /** Free-form (non-template) messages need the customer to have written within 24 hours (131047); default true. */
  enforceCustomerServiceWindow?: boolean;
  /** Meta's pair rate limit (131056); `false` turns it off. Default 45 burst, one per 6 s. */
  pairRateLimit?: { burst: number; intervalMs: number } | false;
  /** Webhook retry schedule; default 5 s doubling to 1 h, for 7 days (simulated time). */
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** Most statuses/messages in one webhook POST; default 25. */
  webhookBatchSize?: number;
  /** Observes what the simulator does, e.g. to log it. Must not throw. */
  onEvent?: (event: SimulatorEvent) => void;
}

/** A running simulator. */
export interface WhatsAppSimulator {
  /** Cloud API base, e.g. `http://127.0.0.1:43123`; send to `${url}/v23.0/{phone_number_id}/messages`. */
  readonly url: string;
  setWebhookUrl(url: string): void;
  setRecipient(waId: string, behaviour: RecipientBehaviour): void;
  injectSendFailures(failure: SendFailureInjection): void;
  clearSendFailures(): void;
  injectWebhookFaults(rule: WebhookFaultRule): void;
  clearWebhookFaults(): void;
  /** Cuts media downloads off midway (the whole size declared, part of the body sent, the connection dropped). */
  injectMediaDownloadFaults(rule: MediaDownloadFaultRule): void;
  clearMediaDownloadFaults(): void;
  /** Serves `bytes` as the media at `link` when a send names it (instead of fetching the internet). */
  hostMedia(link: string, mimeType: string, bytes: Uint8Array): void;
  /** A customer writes to a business number (default: the first configured). Returns the inbound message id. */
  sendInbound(message: InboundMessageInput, phoneNumberId?: string): { messageId: string; mediaId?: string };
  /**
   * A customer stops or resumes marketing messages from a business number (default: the first configured): Meta's
   * `user_preferences` webhook, delivered in order with the customer's messages.
   */
  sendUserPreference(change: { from: string; value: 'stop' | 'resume' }, phoneNumberId?: string): void;
  /** Simulated now (epoch ms). */
  now(): number;
  /** Moves simulated time forward, running everything that falls due (statuses, webhook retries, expiries). */
  advanceTime(ms: number): Promise<void>;
  setTimeScale(scale: number): void;
  /** What the business sent, in order. */
  sentMessages(): SentMessage[];
  /** Mark-as-read calls the business made. */
  readMarks(): ReadMark[];
  /** Messages customers sent, in order. */
  inboundMessages(): InboundMessageRecord[];
  /** Every webhook POST attempt, in the order they finished. */
  webhookDeliveries(): WebhookDelivery[];
  /**
   * Changes a template's status (Meta pausing, disabling or re-approving it) and sends the matching signed
   * `message_template_status_update` webhook. Returns the template's id. Throws SimulatorInputError for an unknown
   * template.
   */
  setTemplateStatus(change: TemplateStatusChange): { templateId: string };
  /** Forgets all state (sent messages, deliveries, recipients, windows, limits, media, faults, pending work); keeps config. */
  reset(): Promise<void>;
  /** Closes the server, cancels timers and in-flight webhooks; resolves when fully closed. */
  stop(): Promise<void>;
}
