/**
 * The WhatsApp Cloud API client: sending messages, media (upload, locate and download), mark-as-read with typing indicator.
 * One error type for Meta's error body, one CLIENT span per call.
 */
export { createCloudApiClient } from './cloud-api-client';
export type {
  CloudApiClient,
  CloudApiClientOptions,
  MediaDownloadStream,
  MediaLocation,
  OutboundContent,
  SendMessageRequest,
} from './cloud-api-client';
export { CloudApiError, isCloudApiError, isMediaTooLargeError, MediaTooLargeError } from './cloud-api-error';
export type { CloudApiFailureKind, MetaErrorFields } from './cloud-api-error';
export { createMessageTemplateReader, parseMessageTemplate, parseMessageTemplatePage } from './message-templates';
export type {
  MessageTemplate,
  MessageTemplateComponent,
  MessageTemplatePage,
  MessageTemplateReader,
  MessageTemplateReaderOptions,
} from './message-templates';
