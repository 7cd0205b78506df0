import type { CallbackEndpoint } from '@waygate/tenancy';
import type { CallbackSender } from '../domain/callback-dispatcher';
import { callbackSignature } from '../domain/callback-signature';

/** Why a call failed, without the URL (it may carry credentials) or anything from the response. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timeout after ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return `connection failed: ${cause.code}`;
  return 'connection failed';
}

/**
 * Posts callbacks over HTTP(S): the event's JSON as the body, `Waygate-Event-Id`, `Waygate-Timestamp` (unix
 * seconds) and `Waygate-Signature`. A 2xx answer is success; anything else, a redirect (never followed) or no answer
 * within `timeoutMs` is a failure. The response body is never read.
 */
export function createHttpCallbackSender(options: { timeoutMs: number }): CallbackSender {
  return {
    async send(endpoint: CallbackEndpoint, delivery, sentAt) {
      const timestamp = Math.floor(sentAt.getTime() / 1000);
      try {
        const response = await fetch(endpoint.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Waygate-Callbacks/1',
            'waygate-event-id': delivery.eventId,
            'waygate-timestamp': String(timestamp),
            'waygate-signature': callbackSignature(endpoint.signingSecret, timestamp, delivery.body),
          },
          body: delivery.body,
        });
        // The body is ignored; cancelling it frees the connection without downloading it.
        await response.body?.cancel().catch(() => undefined);
        return response.status >= 200 && response.status < 300 ? { ok: true } : { ok: false, error: `HTTP ${response.status}` };
      } catch (error) {
        return { ok: false, error: describeFailure(error, options.timeoutMs) };
      }
    },
  };
}
