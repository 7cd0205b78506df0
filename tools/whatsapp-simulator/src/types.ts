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
}

/** How a simulated WhatsApp user behaves when messages are sent to them. */
export type RecipientMode = 'online' | 'offline' | 'not_on_whatsapp';

/** Partial update of a recipient's behaviour; omitted fields keep their current value. */
export interface RecipientBehaviour {
  mode?: RecipientMode;
  readReceipts?: boolean;
}

/** Complete behaviour of one recipient. */
export interface RecipientState {
  mode: RecipientMode;
  readReceipts: boolean;
}

/** Makes the next `count` otherwise valid sends fail with this Meta error. */
export interface SendFailureInjection {
  count: number;
  httpStatus: number;
  code: number;
  /** Overrides Meta's default `(#code) Title` message. */
  message?: string;
}

/** A message the business successfully sent through the simulator. */
export interface SentMessage {
  wamid: string;
  phoneNumberId: string;
  /** `to` exactly as given in the request. */
  to: string;
  /** `to` normalised to Meta's `wa_id` (E.164 digits without '+'). */
  waId: string;
  /** The parsed JSON request body. */
  body: Record<string, unknown>;
  /** ISO-8601 time the simulator accepted the message. */
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
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** HTTP status the receiver answered with; absent when the request itself failed. */
  responseStatus?: number;
  /** Why the request failed (connection refused, timeout, ...); absent when a response arrived. */
  error?: string;
  /** ISO-8601 time the attempt finished. */
  at: string;
}

/**
 * Something the simulator did, for logging. Carries no message bodies or tokens;
 * phone numbers are full, so loggers must mask them.
 */
export type SimulatorEvent =
  | { type: 'message_accepted'; wamid: string; phoneNumberId: string; waId: string }
  | { type: 'send_rejected'; phoneNumberId: string; httpStatus: number; code: number }
  | { type: 'status_emitted'; wamid: string; status: WebhookStatusName; waId: string }
  | {
      type: 'webhook_attempt';
      deliveryId: string;
      url: string;
      attempt: number;
      statuses: WebhookStatusSummary[];
      responseStatus?: number;
      error?: string;
    }
  | { type: 'webhook_url_changed'; url: string }
  | { type: 'recipient_updated'; waId: string; mode: RecipientMode; readReceipts: boolean }
  | { type: 'failures_injected'; count: number; httpStatus: number; code: number };

/** Options for {@link startSimulator}. */
export interface SimulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Signs webhooks (`X-Hub-Signature-256`). */
  appSecret: string;
  phoneNumbers: SimulatorPhoneNumber[];
  /** Where status webhooks are POSTed; can be set later. */
  webhookUrl?: string;
  /** Delay between sent -> delivered -> read; default 50. */
  statusDelayMs?: number;
  /** Makes wamids (and conversation ids) reproducible. */
  seed?: number;
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
  /** What the business sent, in order. */
  sentMessages(): SentMessage[];
  /** Every webhook POST attempt, in the order they finished. */
  webhookDeliveries(): WebhookDelivery[];
  /** Closes the server, cancels timers and in-flight webhooks; resolves when fully closed. */
  stop(): Promise<void>;
}
