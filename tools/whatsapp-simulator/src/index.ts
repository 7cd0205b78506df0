/**
 * WhatsApp Cloud API simulator: a loopback test double for Meta's Cloud API that answers sends with Meta's
 * shapes and delivers signed status webhooks.
 */
export { startSimulator, DEFAULT_STATUS_DELAY_MS } from './simulator';
export { SimulatorInputError } from './simulator-input-error';
export { computeWebhookSignature } from './webhook-signature';
export { MAX_TEXT_BODY_LENGTH } from './message-validation';
export { MAX_REQUEST_BODY_BYTES } from './http-body';
export type {
  RecipientBehaviour,
  RecipientMode,
  RecipientState,
  SendFailureInjection,
  SentMessage,
  SimulatorEvent,
  SimulatorOptions,
  SimulatorPhoneNumber,
  WebhookDelivery,
  WebhookStatusName,
  WebhookStatusSummary,
  WhatsAppSimulator,
} from './types';
export type { StatusWebhookError, StatusWebhookPayload, StatusWebhookStatus } from './webhook-payloads';
export type { MetaErrorResponseBody } from './meta-errors';
