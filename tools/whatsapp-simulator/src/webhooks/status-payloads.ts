import type { WebhookStatusName } from '../types';

/*
 * Shapes follow Meta's status reference (read 2026-09):
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
 *
 * Which status carries what, per that page:
 * - `pricing` is "only included with sent status, and one of either delivered or read status": `sent` always has it,
 *   `delivered` has it, and `read` has it only when no `delivered` webhook went out (a message delivered and read at
 *   once skips `delivered`) — "the object can only appear in one or the other".
 * - `conversation` follows the same rule, but "Version 24.0 and higher: The conversation object will be omitted
 *   entirely, unless the webhook is for a message sent within an open free entry point window". So it is optional on
 *   every status; the runtime passes it only for free-entry-point messages (or when emulating a v23.0 webhook).
 *   `expiration_timestamp` is "only included for sent status".
 * - `pricing_model` is always `PMP`: `CBP` is only for webhooks sent before July 1, 2025.
 * - `failed` carries `errors` and neither conversation nor pricing.
 */

/** An error entry of a `failed` status (Meta's `errors[]`). */
export interface StatusWebhookError {
  code: number;
  title: string;
  /** Meta repeats `title` here. */
  message: string;
  error_data: { details: string };
  /** Link to Meta's error code documentation. */
  href: string;
}

/** Meta's conversation categories (`conversation.origin.type`). */
export type ConversationOriginType =
  'authentication' | 'authentication_international' | 'marketing' | 'marketing_lite' | 'referral_conversion' | 'service' | 'utility';

/**
 * Meta's pricing categories (`pricing.category`). Note Meta spells `authentication-international` with a dash here but
 * with an underscore in `conversation.origin.type`. The group_* categories are left out: the simulator has no groups.
 */
export type PricingCategory =
  'authentication' | 'authentication-international' | 'marketing' | 'marketing_lite' | 'referral_conversion' | 'service' | 'utility';

/** Meta's pricing types (`pricing.type`); `regular` is the billable one. */
export type PricingType = 'regular' | 'free_customer_service' | 'free_entry_point';

/** `conversation` of a status webhook. */
export interface StatusWebhookConversation {
  id: string;
  /** Unix seconds as a string; only on `sent`. */
  expiration_timestamp?: string;
  origin: { type: ConversationOriginType };
}

/** `pricing` of a status webhook. */
export interface StatusWebhookPricing {
  /** Deprecated by Meta in favour of `type` + `category`, but still sent. */
  billable: boolean;
  pricing_model: 'PMP';
  type: PricingType;
  category: PricingCategory;
}

/** One entry of `value.statuses` in Meta's status webhook. */
export interface StatusWebhookStatus {
  id: string;
  status: WebhookStatusName;
  /** Unix seconds as a string. */
  timestamp: string;
  recipient_id: string;
  /** Echo of the send request's `biz_opaque_callback_data`, when it had one. */
  biz_opaque_callback_data?: string;
  conversation?: StatusWebhookConversation;
  pricing?: StatusWebhookPricing;
  errors?: StatusWebhookError[];
}

/** Pricing info of the message a status is about. */
export interface MessagePricing {
  category: PricingCategory;
  /** e.g. service messages inside the customer service window are `free_customer_service`. */
  type: PricingType;
  /** Meta sends `true` exactly when `type` is `regular`. */
  billable: boolean;
}

/** The conversation a message belongs to, as status webhooks report it. */
export interface StatusConversation {
  id: string;
  originType: ConversationOriginType;
}

interface StatusUpdateBase {
  wamid: string;
  /** The customer's wa_id. */
  recipientId: string;
  timestampSec: number;
  /** Echoed as `biz_opaque_callback_data` when the send request set it. */
  bizOpaqueCallbackData?: string;
}

/**
 * A status change with exactly the extra data Meta attaches to that status (see the comment at the top of this file):
 * `conversation` only for free-entry-point messages (v24.0+), `pricing` on `sent`, `delivered`, and on `read` only
 * when no `delivered` webhook was sent.
 */
export type StatusUpdate =
  | (StatusUpdateBase & {
      status: 'sent';
      conversation?: StatusConversation & { expiresAtSec: number };
      pricing: MessagePricing;
    })
  | (StatusUpdateBase & { status: 'delivered'; conversation?: StatusConversation; pricing: MessagePricing })
  | (StatusUpdateBase & { status: 'read'; conversation?: StatusConversation; pricing?: MessagePricing })
  | (StatusUpdateBase & { status: 'failed'; errors: StatusWebhookError[] });

/**
 * `href` of Meta's error entries. Meta's pages disagree (`/docs/whatsapp/cloud-api/support/error-codes/` in the
 * parameter tables); this is the value in the current status page's failed example.
 */
export const ERROR_CODES_HREF = '/documentation/business-messaging/whatsapp/support/error-codes';

/** Meta's `errors[]` entry of a `failed` status; Meta repeats the title as `message`. */
export function failedStatusError(code: number, title: string, details: string): StatusWebhookError {
  return { code, title, message: title, error_data: { details }, href: ERROR_CODES_HREF };
}

/** The error Meta reports when the recipient cannot receive WhatsApp messages. */
export const MESSAGE_UNDELIVERABLE_ERROR: StatusWebhookError = failedStatusError(131026, 'Message undeliverable', 'Message Undeliverable.');

function toWebhookPricing(pricing: MessagePricing): StatusWebhookPricing {
  return { billable: pricing.billable, pricing_model: 'PMP', type: pricing.type, category: pricing.category };
}

function toWebhookConversation(conversation: StatusConversation, expiresAtSec: number | undefined): StatusWebhookConversation {
  return {
    id: conversation.id,
    ...(expiresAtSec === undefined ? {} : { expiration_timestamp: String(expiresAtSec) }),
    origin: { type: conversation.originType },
  };
}

/** Builds one `value.statuses[]` entry for a status change. */
export function buildStatusObject(update: StatusUpdate): StatusWebhookStatus {
  const status: StatusWebhookStatus = {
    id: update.wamid,
    status: update.status,
    timestamp: String(update.timestampSec),
    recipient_id: update.recipientId,
  };
  if (update.bizOpaqueCallbackData !== undefined) status.biz_opaque_callback_data = update.bizOpaqueCallbackData;
  if (update.status === 'failed') {
    status.errors = update.errors.map((error) => ({ ...error, error_data: { ...error.error_data } }));
    return status;
  }
  if (update.conversation !== undefined) {
    // Only `sent` tells when the window expires, even if a caller hands the expiry to a later status.
    const expiresAtSec = update.status === 'sent' ? update.conversation.expiresAtSec : undefined;
    status.conversation = toWebhookConversation(update.conversation, expiresAtSec);
  }
  if (update.pricing !== undefined) status.pricing = toWebhookPricing(update.pricing);
  return status;
}
