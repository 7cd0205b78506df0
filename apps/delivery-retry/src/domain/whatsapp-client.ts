import type { DeliveryContent } from './delivery';

/** One message to send through the Cloud API. */
export interface CloudApiMessage {
  readonly phoneNumberId: string;
  readonly accessToken: string;
  /** E.164 recipient. */
  readonly to: string;
  readonly content: DeliveryContent;
  /** Sent as `biz_opaque_callback_data`, which Meta echoes in the message's status webhooks. */
  readonly callbackData?: string;
  /** Meta's media id for each media-store id the content names (see mediaIdsOf), resolved by the media resolver. */
  readonly metaMediaId?: (mediaId: string) => string;
}

/** What the Cloud API answered. */
export type CloudApiSendOutcome =
  | {
      readonly kind: 'accepted';
      readonly waMessageId: string;
      /** The customer's wa_id Meta answered (contacts[].wa_id), when it did; it can differ from `to`. */
      readonly recipientWaId?: string;
    }
  /** Meta answered with an error object (or a non-2xx status without one: code 0). */
  | { readonly kind: 'error'; readonly httpStatus: number; readonly code: number; readonly title: string }
  /** No answer: timeout, refused or dropped connection. */
  | {
      readonly kind: 'no-answer';
      readonly reason: string;
      /** False only when the request certainly never reached Meta (connection refused, unknown host). */
      readonly mayHaveArrived: boolean;
    };

/** The WhatsApp Cloud API as delivery-retry needs it. */
export interface WhatsAppClient {
  send(message: CloudApiMessage): Promise<CloudApiSendOutcome>;
}
