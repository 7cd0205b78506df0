/** The Cloud API did not do what was asked. */
export type CloudApiFailure =
  /** Meta answered with an error object (or a non-2xx status without one: code 0). */
  | { readonly kind: 'error'; readonly httpStatus: number; readonly code: number; readonly title: string }
  /** No (usable) answer: timeout, refused or dropped connection. */
  | { readonly kind: 'no-answer'; readonly reason: string };

/**
 * Thrown while a media download's `content` is iterated: the download stopped midway (`too-large`: past the limit;
 * `cut-off`: the connection was lost or timed out; `corrupt`: the bytes do not match Meta's sha256). Whoever consumes
 * the content must then discard what it got.
 */
export class MediaDownloadInterruptedError extends Error {
  override readonly name = 'MediaDownloadInterruptedError';

  constructor(
    readonly reason: 'too-large' | 'cut-off' | 'corrupt',
    /** What went wrong, without URLs or tokens. */
    readonly detail: string,
  ) {
    super(`media download ${reason}: ${detail}`);
  }
}

/** Whether `error` is a {@link MediaDownloadInterruptedError}. */
export function isMediaDownloadInterrupted(error: unknown): error is MediaDownloadInterruptedError {
  return error instanceof MediaDownloadInterruptedError;
}

/** The outcome of opening one media download. */
export type MediaDownload =
  | {
      readonly kind: 'downloaded';
      /** The bytes as they arrive; iterating may throw a {@link MediaDownloadInterruptedError}. */
      readonly content: AsyncIterable<Uint8Array>;
      /** The declared size, when Meta gave one. */
      readonly sizeBytes?: number;
      readonly mimeType: string;
    }
  /** Larger than the caller's limit; nothing more was read. */
  | { readonly kind: 'too-large'; readonly limitBytes: number }
  | CloudApiFailure;

/** The WhatsApp Cloud API as receipt needs it; every call uses the receiving business number's access token. */
export interface WhatsAppCloudApi {
  /**
   * `GET /{version}/{media-id}` for its URL, then `GET` that URL with the bearer token; resolves once the download
   * started, its bytes streamed (at most `maxBytes`) as `content` is iterated.
   */
  downloadMedia(request: { mediaId: string; accessToken: string; maxBytes: number }): Promise<MediaDownload>;
  /** `POST /{version}/{phone_number_id}/messages` with `status: read` (and a typing indicator when asked). */
  markRead(request: {
    phoneNumberId: string;
    accessToken: string;
    waMessageId: string;
    typingIndicator: boolean;
  }): Promise<{ readonly kind: 'ok' } | CloudApiFailure>;
}

/**
 * Whether a Cloud API failure may pass if tried again later: no answer, 429, 5xx, and refused credentials (an
 * operator has to fix the token; the work must wait, not be lost). Anything else Meta refused for good.
 */
export function isTransientCloudApiFailure(failure: CloudApiFailure): boolean {
  if (failure.kind === 'no-answer') return true;
  const { httpStatus, code } = failure;
  return (
    httpStatus >= 500 || httpStatus === 429 || httpStatus === 401 || httpStatus === 403 || code === 190 || code === 4 || code === 80007
  );
}
