/**
 * WhatsApp Cloud API simulator: a loopback test double for Meta's Cloud API — every message type, templates, media,
 * errors and limits, signed webhooks that retry, batch, duplicate and reorder, inbound messages, and a controllable
 * clock.
 */
export { startSimulator } from './simulator';
export { DEFAULT_STATUS_DELAY_MS } from './messaging/status-lifecycle';
export { seedTemplates } from './messaging/template-rendering';
export { SimulatorInputError } from './simulator-input-error';
export { computeWebhookSignature } from './webhooks/webhook-signature';
export { MAX_TEXT_BODY_LENGTH } from './cloud-api/send-request-validation';
export { MAX_REQUEST_BODY_BYTES } from './http/http-body';
export { loadWebhookFixture, readWebhookFixtureBytes, WEBHOOK_FIXTURE_NAMES, type WebhookFixtureName } from './webhooks/webhook-fixtures';
export type {
  InboundMessageRecord,
  ReadMark,
  RecipientBehaviour,
  RecipientMode,
  RecipientState,
  SendFailureInjection,
  SendFailureMode,
  SentMessage,
  SimulatorEvent,
  SimulatorOptions,
  SimulatorPhoneNumber,
  SimulatorTemplate,
  SimulatorTemplateButton,
  SimulatorWaba,
  TemplateCategory,
  TemplateStatusChange,
  WebhookDelivery,
  WebhookRetryPolicy,
  WebhookStatusName,
  WebhookStatusSummary,
  WhatsAppSimulator,
} from './types';
export type { InboundMessageInput } from './webhooks/inbound-payloads';
export type { WebhookFaultKind, WebhookFaultRule } from './webhooks/webhook-faults';
export type { MediaDownloadFaultRule } from './media/media-download-faults';
export type { StatusWebhookError, StatusWebhookStatus } from './webhooks/status-payloads';
export type { WhatsAppWebhookPayload } from './webhooks/webhook-envelope';
export type { MetaErrorResponseBody } from './cloud-api/meta-errors';
