import { isCloudApiError, type CloudApiClient, type CloudApiError, type OutboundContent } from '@waygate/whatsapp-cloud-api';
import { mediaIdsOf, type MessageContent } from '@waygate/domain';
import { toCloudApiMessage } from '../domain/cloud-api-message';
import type { MediaUploader } from '../domain/media-resolver';
import type { CloudApiMessage, CloudApiSendOutcome, WhatsAppClient } from '../domain/whatsapp-client';

/**
 * delivery-retry's WhatsAppClient port on the shared Cloud API client: a send resolves as accepted, Meta's error, or
 * no answer (with whether it may have reached Meta), which the domain's outcome table classifies.
 */
export function createCloudApiWhatsAppClient(client: CloudApiClient): WhatsAppClient {
  return {
    async send(message: CloudApiMessage): Promise<CloudApiSendOutcome> {
      // Media by media-store id go as Meta media ids, which the attempt's media resolver uploaded; without them the
      // message is refused as a permanent media upload error rather than sent without its media.
      if (mediaIdsOf(message.content).length > 0 && !message.metaMediaId) {
        return { kind: 'error', httpStatus: 0, code: 131053, title: 'media by media-store id was not uploaded to WhatsApp' };
      }
      try {
        const { waMessageId, waId } = await client.sendMessage({
          phoneNumberId: message.phoneNumberId,
          accessToken: message.accessToken,
          to: message.to,
          content: toOutboundContent(message),
          ...(message.callbackData ? { callbackData: message.callbackData } : {}),
        });
        return { kind: 'accepted', waMessageId, ...(waId ? { recipientWaId: waId } : {}) };
      } catch (error) {
        if (isCloudApiError(error)) return toSendOutcome(error);
        throw error;
      }
    },
  };
}

/** delivery-retry's MediaUploader port on the shared Cloud API client: Meta's media id, or the outcome to classify. */
export function createCloudApiMediaUploader(client: CloudApiClient): MediaUploader {
  return {
    async upload(request) {
      try {
        const { metaMediaId } = await client.uploadMedia({
          phoneNumberId: request.phoneNumberId,
          accessToken: request.accessToken,
          bytes: request.bytes,
          mimeType: request.mimeType,
          ...(request.filename ? { filename: request.filename } : {}),
        });
        return { kind: 'uploaded', metaMediaId };
      } catch (error) {
        if (isCloudApiError(error)) return toSendOutcome(error);
        throw error;
      }
    },
  };
}

/** Meta's JSON for the message, built by the domain's pure builder, media by id named by Meta's uploaded ids. */
function toOutboundContent(message: CloudApiMessage): OutboundContent {
  const { contextWaMessageId, ...content } = message.content;
  return {
    kind: 'prebuilt',
    message: toCloudApiMessage(content as MessageContent, {
      to: message.to,
      contextWaMessageId,
      metaMediaId: (storeMediaId) => {
        // The attempt resolves every id mediaIdsOf lists before it sends (send() refuses the message otherwise).
        if (!message.metaMediaId) throw new Error(`no Meta media id for ${storeMediaId}`);
        return message.metaMediaId(storeMediaId);
      },
    }),
  };
}

/** Meta's answer (an unusable one is HTTP 502, code 0) or no answer at all. */
function toSendOutcome(error: CloudApiError): Exclude<CloudApiSendOutcome, { kind: 'accepted' }> {
  if (error.httpStatus === undefined) return { kind: 'no-answer', reason: error.title, mayHaveArrived: error.mayHaveReachedMeta };
  return { kind: 'error', httpStatus: error.httpStatus, code: error.code ?? 0, title: error.title };
}
