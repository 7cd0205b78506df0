import { isCloudApiError, type CloudApiClient, type CloudApiError, type OutboundContent } from '@waygate/whatsapp-cloud-api';
import type { DeliveryContent } from '../domain/delivery';
import type { CloudApiMessage, CloudApiSendOutcome, WhatsAppClient } from '../domain/whatsapp-client';

/**
 * delivery-retry's WhatsAppClient port on the shared Cloud API client: a send resolves as accepted, Meta's error, or
 * no answer (with whether it may have reached Meta), which the domain's outcome table classifies.
 */
export function createCloudApiWhatsAppClient(client: CloudApiClient): WhatsAppClient {
  return {
    async send(message: CloudApiMessage): Promise<CloudApiSendOutcome> {
      try {
        const { waMessageId } = await client.sendMessage({
          phoneNumberId: message.phoneNumberId,
          accessToken: message.accessToken,
          to: message.to,
          content: toOutboundContent(message.content),
          ...(message.callbackData ? { callbackData: message.callbackData } : {}),
        });
        return { kind: 'accepted', waMessageId };
      } catch (error) {
        if (isCloudApiError(error)) return toSendOutcome(error);
        throw error;
      }
    },
  };
}

function toOutboundContent(content: DeliveryContent): OutboundContent {
  switch (content.kind) {
    case 'text':
      return { kind: 'text', body: content.body, previewUrl: content.previewUrl };
  }
}

/** Meta's answer (an unusable one is HTTP 502, code 0) or no answer at all. */
function toSendOutcome(error: CloudApiError): CloudApiSendOutcome {
  if (error.httpStatus === undefined) return { kind: 'no-answer', reason: error.title, mayHaveArrived: error.mayHaveReachedMeta };
  return { kind: 'error', httpStatus: error.httpStatus, code: error.code ?? 0, title: error.title };
}
