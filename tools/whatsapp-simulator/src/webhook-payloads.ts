import { toWaId } from './phone-numbers';
import type { SimulatorPhoneNumber, WebhookStatusName } from './types';

/** An error entry of a `failed` status. */
export interface StatusWebhookError {
  code: number;
  title: string;
  message: string;
  error_data: { details: string };
}

/** One entry of `value.statuses` in Meta's status webhook. */
export interface StatusWebhookStatus {
  id: string;
  status: WebhookStatusName;
  timestamp: string;
  recipient_id: string;
  conversation?: { id: string; expiration_timestamp?: string; origin: { type: string } };
  pricing?: { billable: boolean; pricing_model: string; category: string };
  errors?: StatusWebhookError[];
}

/** The body Meta POSTs for message status changes. */
export interface StatusWebhookPayload {
  object: 'whatsapp_business_account';
  entry: {
    id: string;
    changes: {
      value: {
        messaging_product: 'whatsapp';
        metadata: { display_phone_number: string; phone_number_id: string };
        statuses: StatusWebhookStatus[];
      };
      field: 'messages';
    }[];
  }[];
}

interface StatusUpdateBase {
  wamid: string;
  recipientId: string;
  timestampSec: number;
}

/** A status change, with exactly the extra data Meta attaches to that status. */
export type StatusUpdate =
  | (StatusUpdateBase & { status: 'sent'; conversationId: string; conversationExpiresAtSec: number })
  | (StatusUpdateBase & { status: 'delivered'; conversationId: string })
  | (StatusUpdateBase & { status: 'read' })
  | (StatusUpdateBase & { status: 'failed'; errors: StatusWebhookError[] });

// Free-form replies within the customer service window are billed (or not) as "service" conversations.
const SERVICE_ORIGIN = { type: 'service' };
const SERVICE_PRICING = { billable: true, pricing_model: 'CBP', category: 'service' };

/** The error Meta reports when the recipient cannot receive WhatsApp messages. */
export const MESSAGE_UNDELIVERABLE_ERROR: StatusWebhookError = {
  code: 131026,
  title: 'Message undeliverable',
  message: 'Message undeliverable',
  error_data: { details: 'Message Undeliverable.' },
};

function toWebhookStatus(update: StatusUpdate): StatusWebhookStatus {
  const base = {
    id: update.wamid,
    status: update.status,
    timestamp: String(update.timestampSec),
    recipient_id: update.recipientId,
  };
  switch (update.status) {
    case 'sent':
      // Only `sent` tells when the conversation window expires.
      return {
        ...base,
        conversation: {
          id: update.conversationId,
          expiration_timestamp: String(update.conversationExpiresAtSec),
          origin: SERVICE_ORIGIN,
        },
        pricing: SERVICE_PRICING,
      };
    case 'delivered':
      return { ...base, conversation: { id: update.conversationId, origin: SERVICE_ORIGIN }, pricing: SERVICE_PRICING };
    case 'read':
      return base;
    case 'failed':
      return { ...base, errors: update.errors };
  }
}

/** Wraps a status change in Meta's webhook envelope for the sending phone number. */
export function buildStatusWebhookPayload(phone: SimulatorPhoneNumber, update: StatusUpdate): StatusWebhookPayload {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: phone.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              // Webhooks carry the display number as bare digits.
              metadata: { display_phone_number: toWaId(phone.displayPhoneNumber), phone_number_id: phone.id },
              statuses: [toWebhookStatus(update)],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}
