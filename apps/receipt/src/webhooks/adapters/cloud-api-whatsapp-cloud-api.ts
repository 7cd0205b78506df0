import { isCloudApiError, isMediaTooLargeError, type CloudApiClient, type CloudApiError } from '@waygate/whatsapp-cloud-api';
import {
  MediaDownloadInterruptedError,
  type CloudApiFailure,
  type MediaDownload,
  type WhatsAppCloudApi,
} from '../domain/whatsapp-cloud-api';

/**
 * receipt's WhatsAppCloudApi port on the shared Cloud API client: media download (locate, then stream at most
 * `maxBytes`) and mark-as-read, each failure as Meta's error or no answer.
 */
export function createCloudApiWhatsAppCloudApi(client: CloudApiClient): WhatsAppCloudApi {
  return {
    async downloadMedia({ mediaId, accessToken, maxBytes }): Promise<MediaDownload> {
      try {
        const media = await client.retrieveMedia({ mediaId, accessToken });
        const download = await client.streamMedia({ media, accessToken, maxBytes });
        return {
          kind: 'downloaded',
          content: interruptible(download.body),
          mimeType: download.mimeType,
          ...(download.contentLength === undefined ? {} : { sizeBytes: download.contentLength }),
        };
      } catch (error) {
        if (isMediaTooLargeError(error)) return { kind: 'too-large', limitBytes: error.limitBytes };
        if (isCloudApiError(error)) return toFailure(error);
        throw error;
      }
    },

    async markRead(request) {
      try {
        await client.markRead(request);
        return { kind: 'ok' };
      } catch (error) {
        if (isCloudApiError(error)) return toFailure(error);
        throw error;
      }
    },
  };
}

/** Meta's answer (an unusable one is HTTP 502, code 0) or no answer at all. */
function toFailure(error: CloudApiError): CloudApiFailure {
  if (error.httpStatus === undefined) return { kind: 'no-answer', reason: error.title };
  return { kind: 'error', httpStatus: error.httpStatus, code: error.code ?? 0, title: error.title };
}

/**
 * The download's chunks, with a failure midway as the domain's {@link MediaDownloadInterruptedError}; stopping early
 * (`return()`, even before the first chunk) stops the download.
 */
function interruptible(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const inner = body[Symbol.asyncIterator]();
      return {
        next: () => inner.next().catch((error: unknown) => Promise.reject(toInterruption(error))),
        async return() {
          await inner.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function toInterruption(error: unknown): unknown {
  if (isMediaTooLargeError(error)) return new MediaDownloadInterruptedError('too-large', error.message);
  if (isCloudApiError(error))
    return new MediaDownloadInterruptedError(error.kind === 'unusable-answer' ? 'corrupt' : 'cut-off', error.title);
  return error;
}
